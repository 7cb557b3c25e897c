"""The paperwork of Decree 118/2025 and Circular 03/2025/TT-VPCP: forms 01–07, the "Dừng xử lý"
action that issues form 05, and the office's title as a setting (no hard-coded "Bộ phận tiếp nhận
và trả kết quả")."""
import pytest

from edge.app import create_app
from office.models import Dossier, DossierEvent
from tests.conftest import PageClient, sign_in
from tests.edge.test_dossier_views import act, clock, desk, received, text  # noqa: F401 (fixtures)

OLD_TITLE = "Bộ phận tiếp nhận và trả kết quả"


def test_stop_action_sets_status_8_and_issues_form_05(desk):
    dossier = received(desk)
    answer = act(desk, dossier, "stop", reason="Quá hạn bổ sung giấy tờ mà công dân không bổ sung", confirm="1")
    assert answer.status_code == 303
    dossier = Dossier.get_by_id(dossier.id)
    assert dossier.status == 8 and dossier.status_label == "Dừng xử lý"
    assert DossierEvent.get(DossierEvent.dossier == dossier.id, DossierEvent.action == "stop").status == 8
    page = desk.get(f"/dossiers/{dossier.code}")
    assert f"/dossiers/{dossier.code}/forms/05" in page.get_data(as_text=True)
    form05 = text(desk.get(f"/dossiers/{dossier.code}/forms/05"))
    assert "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ" in form05.upper()
    assert "Quá hạn bổ sung giấy tờ mà công dân không bổ sung" in form05
    assert "Mẫu số 05" in form05
    # Stopped is closed: no further action is offered or taken.
    assert act(desk, dossier, "finish").status_code == 409


def test_stop_needs_a_reason_and_keeps_the_dossier_open(desk):
    dossier = received(desk)
    answer = act(desk, dossier, "stop", reason="  ", confirm="1")
    assert answer.status_code == 400
    assert "lý do dừng" in text(answer)
    assert Dossier.get_by_id(dossier.id).status == 2


def test_form_05_before_a_stop_is_not_found(desk):
    dossier = received(desk)
    assert desk.get(f"/dossiers/{dossier.code}/forms/05").status_code == 404


@pytest.mark.parametrize("form, title", [
    ("04", "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT"),
    ("06", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"),
])
def test_forms_carry_the_circular_03_titles_and_numbers(desk, clock, form, title):
    from datetime import datetime
    dossier = received(desk)
    clock["t"] = datetime(2026, 3, 10, 9)
    act(desk, dossier, "apologize", new_due="2026-03-12T17:00", reason="Chờ xác minh")
    page = text(desk.get(f"/dossiers/{dossier.code}/forms/{form}"))
    assert title in page.upper() and f"Mẫu số {form}" in page


def test_register_is_form_07(desk):
    received(desk)
    page = text(desk.get("/dossiers/register?from=2026-03-01&to=2026-03-31"))
    assert "Mẫu số 07" in page and "SỔ THEO DÕI HỒ SƠ" in page.upper()


def test_office_title_is_not_hard_coded_and_defaults_to_the_2025_name(desk):
    dossier = received(desk)
    for path in (f"/dossiers/{dossier.code}/slip", "/dossiers", "/kiosk", "/lobby"):
        page = text(desk.get(path))
        assert OLD_TITLE.upper() not in page.upper(), path
    assert "Trung tâm Phục vụ hành chính công" in text(desk.get(f"/dossiers/{dossier.code}/slip"))


def test_office_title_setting_is_used_on_forms(settings, clock):
    settings["office_title"] = "Bộ phận Một cửa"
    app = create_app(settings)
    app.test_client_class = PageClient
    app.extensions["dossier_clock"] = lambda: clock["t"]
    client = app.test_client()
    from tests.edge.test_dossier_views import desk as make_desk
    desk_client = make_desk.__wrapped__(app, client, clock)
    dossier = received(desk_client)
    slip = text(desk_client.get(f"/dossiers/{dossier.code}/slip"))
    assert "Bộ phận Một cửa" in slip and "Trung tâm Phục vụ" not in slip
