"""Agencies without a box, on the hub's web: the dossiers communes sent them, and their actions."""
import json
import re
from datetime import datetime
from html import unescape

import pytest

from central.app import create_app
from motcua.settings import load_settings
from office.db import database
from office.models import Agency, Dossier, DossierEvent, Office
from sync.capture import applying_remote
from sync.models import ChangeEntry
from tests.central.hub_accounts import token_client

COMMUNE = "05518"
OFFICE_CODE = "000.19.05518"
STP = "000.00.19.STP"
NOW = datetime(2026, 3, 4, 10, 0)


@pytest.fixture
def hub(tmp_path):
    settings = load_settings("hub", environ={}, overrides={"data_dir": str(tmp_path / "hub"),
                                                         "operator_password": "first-operator"})
    app = create_app(settings)
    app.config["TESTING"] = True
    app.extensions["dossier_clock"] = lambda: NOW
    with applying_remote():  # what the commune's box pushed: its office and its dossiers
        Office.insert(id="office-1", commune=COMMUNE, name="UBND Phường Sông Công", province_name="Tỉnh Thái Nguyên",
                      agency_code=OFFICE_CODE).execute()
    yield app
    database.close()


@pytest.fixture
def client(hub):
    """An operator: adds agencies, reads every dossier."""
    return token_client(hub, "operator")


@pytest.fixture
def officer(hub):
    """The Justice Department's officer: acts on its dossiers."""
    return token_client(hub, "agency", name="stp", agency=STP, full_name="Trần Văn Bình")


def pushed_dossier(number, agency, status=4, stage="Chuyển liên thông", name="Nguyễn Văn An"):
    """A dossier row as the merge writes it at the hub (it came from the box)."""
    code = f"{OFFICE_CODE}-260302-{number:04d}"
    with applying_remote():
        Dossier.insert(id=f"d-{number}", commune=COMMUNE, code=code, procedure_code="1.001193",
                       procedure_name="Đăng ký khai sinh", applicant_name=name, applicant_id_number="001099012345",
                       applicant_phone="0912345678", components="[]", status=status, stage=stage, agency=agency,
                       handler="Nguyễn Thị Lan", received_at=datetime(2026, 3, 2, 9), due_at=datetime(2026, 3, 5, 17),
                       ).execute()
        DossierEvent.insert(id=f"e-{number}", commune=COMMUNE, dossier=f"d-{number}", action="receive",
                            at=datetime(2026, 3, 2, 9), actor="Nguyễn Thị Lan", stage="Tiếp nhận", agency=OFFICE_CODE,
                            status=2).execute()
    return Dossier.get_by_id(f"d-{number}")


def text(response):
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def add_stp(client):
    response = client.post("/api/v1/agencies", json={"commune": COMMUNE, "code": STP,
                                                     "name": "Sở Tư pháp tỉnh Thái Nguyên"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_sign_in_is_needed(hub):
    anonymous = hub.test_client()
    assert anonymous.get("/agency").headers["Location"].startswith("/signin")
    assert anonymous.post("/api/v1/agencies", json={"code": STP, "name": "x"}).status_code == 401
    assert anonymous.post("/agency/dossiers/x/finish").headers["Location"].startswith("/signin")


def test_agencies_are_added_checked_and_sent_down(client):
    created = add_stp(client)
    agency = Agency.get_by_id(created["id"])
    assert (agency.commune, agency.code) == (COMMUNE, STP)
    entry = ChangeEntry.select().where(ChangeEntry.table == "agency").get()
    assert entry.origin == "hub" and entry.scope == COMMUNE  # in the box's pull
    for body, status, message in (
            ({"commune": COMMUNE, "code": STP, "name": "Lần nữa"}, 409, "đã có"),
            ({"code": STP, "name": "Cho mọi xã"}, 409, "đã có"),
            ({"commune": COMMUNE, "code": OFFICE_CODE, "name": "UBND"}, 409, "hộp một cửa"),
            ({"commune": "99999", "code": "X.1", "name": "Không có xã"}, 400, "Không có xã/phường"),
            ({"commune": COMMUNE, "code": "", "name": "Thiếu mã"}, 400, "Cần mã định danh"),
            ({"commune": COMMUNE, "code": "có khoảng trắng", "name": "x"}, 400, "khoảng trắng")):
        response = client.post("/api/v1/agencies", json=body)
        assert response.status_code == status and message in response.get_json()["error"], body
    everywhere = client.post("/agency/agencies", data={"commune": "", "code": "000.00.19.SNNMT",
                                                       "name": "Sở Nông nghiệp và Môi trường"})
    assert everywhere.status_code == 303
    assert Agency.get(Agency.code == "000.00.19.SNNMT").commune == "*"
    page = client.get("/agency")
    assert "Sở Nông nghiệp và Môi trường" in text(page) and "Mọi xã, phường" in text(page)
    refused = client.post("/agency/agencies", data={"commune": COMMUNE, "code": "", "name": ""}, follow_redirects=True)
    assert "Cần mã định danh và tên cơ quan." in text(refused)
    assert [a["code"] for a in client.get("/api/v1/agencies").get_json()] == ["000.00.19.SNNMT", STP]


def test_the_list_holds_dossiers_at_agencies_without_a_box(client):
    add_stp(client)
    at_agency = pushed_dossier(1, STP)
    at_commune = pushed_dossier(2, OFFICE_CODE)
    finished = pushed_dossier(3, STP, status=9, stage="Trả kết quả")
    page = client.get("/agency").get_data(as_text=True)
    assert at_agency.code in page and at_commune.code not in page and finished.code not in page
    assert "UBND Phường Sông Công" in page and "Quá hạn" not in page  # due the 5th, now the 4th
    done = client.get("/agency?view=finished").get_data(as_text=True)
    assert finished.code in done and at_agency.code not in done
    assert client.get(f"/agency/dossiers/{at_commune.code}").status_code == 404
    detail = client.get(f"/agency/dossiers/{at_agency.code}")
    assert detail.status_code == 200 and "Tiếp nhận hồ sơ" in text(detail) and "Sở Tư pháp" in text(detail)


def test_agency_actions_write_the_shared_row_and_events_for_the_commune(client, officer):
    add_stp(client)
    client = officer
    dossier = pushed_dossier(1, STP)
    response = client.post(f"/agency/dossiers/{dossier.code}/transfer",
                           data={"stage": "Thẩm định hồ sơ", "handler": "Phòng Hộ tịch", "note": "Đủ điều kiện"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/agency/dossiers/{dossier.code}")
    dossier = Dossier.get_by_id(dossier.id)
    assert (dossier.status, dossier.stage, dossier.agency, dossier.handler) == (4, "Thẩm định hồ sơ", STP,
                                                                              "Phòng Hộ tịch")
    event = DossierEvent.select().where(DossierEvent.action == "transfer").get()
    assert (event.actor, event.agency, event.at, event.commune) == ("Trần Văn Bình – Sở Tư pháp tỉnh Thái Nguyên", STP,
                                                                    NOW, COMMUNE)
    entries = list(ChangeEntry.select().where(ChangeEntry.table.in_(["dossier", "dossier_event"])))
    assert {e.scope for e in entries} == {COMMUNE} and {e.origin for e in entries} == {"hub"}
    assert json.loads(next(e for e in entries if e.table == "dossier").data)["stage"] == "Thẩm định hồ sơ"

    empty = client.post(f"/agency/dossiers/{dossier.code}/transfer", data={"stage": " "})
    assert empty.status_code == 400 and "Cần tên bước xử lý." in text(empty)
    back = client.post(f"/agency/dossiers/{dossier.code}/return", data={"stage": "", "note": "Đã thẩm định"})
    assert back.status_code == 303 and back.headers["Location"].endswith("/agency")
    dossier = Dossier.get_by_id(dossier.id)
    assert (dossier.agency, dossier.stage, dossier.status) == (OFFICE_CODE, "Trả kết quả", 4)
    assert dossier.code not in client.get("/agency").get_data(as_text=True)
    assert client.post(f"/agency/dossiers/{dossier.code}/finish").status_code == 404  # not at the agency any more

    other = pushed_dossier(2, STP)
    assert client.post(f"/agency/dossiers/{other.code}/finish", data={"note": "Đã cấp"}).status_code == 303
    other = Dossier.get_by_id(other.id)
    assert (other.status, other.timeliness, other.finished_at, other.agency) == (9, "early", NOW, STP)
    again = client.post(f"/agency/dossiers/{other.code}/transfer", data={"stage": "Thẩm định"})
    assert again.status_code == 409 and "Đã xử lý xong" in text(again)
    assert client.post(f"/agency/dossiers/{other.code}/return").status_code == 409
    assert [e.action for e in DossierEvent.select().where(DossierEvent.dossier == other.id)
            .order_by(DossierEvent.at, DossierEvent.id)] == ["receive", "finish"]


def test_hub_pages_escape_and_keep_input(client, officer):
    add_stp(client)
    client = officer
    dossier = pushed_dossier(1, STP, name='<script>alert("x")</script>', stage="<b>Bước</b>")
    for path in ("/agency", f"/agency/dossiers/{dossier.code}"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<b>Bước</b>" not in page and "&lt;b&gt;Bước" in page
    assert "&lt;script&gt;" in page
    kept = client.post(f"/agency/dossiers/{dossier.code}/transfer", data={"stage": "", "note": "<i>giữ</i>"})
    assert 'value="&lt;i&gt;giữ&lt;/i&gt;"' in kept.get_data(as_text=True)
    assert "001099012345" not in client.get("/tracking?code=" + dossier.code).get_data(as_text=True)


def test_forms_posted_from_another_site_are_refused(client, officer):
    """Only the hub's own pages may post."""
    add_stp(client)
    client = officer
    dossier = pushed_dossier(1, STP)
    forged = client.post(f"/agency/dossiers/{dossier.code}/finish", headers={"Origin": "http://evil.example"})
    assert forged.status_code == 403 and Dossier.get_by_id(dossier.id).status == 4
    own = client.post(f"/agency/dossiers/{dossier.code}/finish", headers={"Origin": "http://localhost"})
    assert own.status_code == 303 and Dossier.get_by_id(dossier.id).status == 9
