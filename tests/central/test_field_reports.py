"""Field reports at the hub (phản ánh): a citizen with a proved phone sends one with photos and a
place; the public pages show public reports without the reporter's phone or address; what a person
must correct is refused in Vietnamese with the input kept."""
import io
import re
from datetime import datetime

import pytest

from blobs.store import open_store
from central.app import create_app
from motcua.settings import load_settings
from office import reports
from office.attachments import Attachment
from office.calendar import WorkCalendar
from office.db import database
from office.reports import FieldReport
from sync.capture import applying_remote
from tests.central.citizen_session import proved_citizen
from tests.central.hub_accounts import CSRF

PHONE = "0912345678"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\x11" * 3000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x22" * 2000
NOW = datetime(2026, 3, 4, 9, 0)  # a Wednesday, office hours


@pytest.fixture
def hub(tmp_path):
    settings = load_settings("hub", environ={}, overrides={"data_dir": str(tmp_path), "operator_password": "first-op"})
    app = create_app(settings)
    app.config["TESTING"] = True
    app.extensions["dossier_clock"] = lambda: NOW
    with applying_remote():
        from office.models import Office

        Office.insert(id="office-05518", commune="05518", name="UBND Phường Sông Công",
                      agency_code="000.00.06.H56").execute()
    yield app
    database.close()


def citizen(app, phone=PHONE):
    client = app.test_client()
    proved_citizen(client, phone)
    return client


def send(client, photos=(), **fields):
    token = CSRF.search(client.get("/cong-dan/phan-anh/moi").get_data(as_text=True)).group(1)
    data = {"csrf_token": token, "category": "moi-truong", "description": "Rác thải đổ trộm bên đường đã ba ngày",
            "commune_name": "Phường Sông Công, Tỉnh Thái Nguyên", "public": "1", **fields}
    data["photos"] = [(io.BytesIO(body), name) for name, body in photos]
    return client.post("/cong-dan/phan-anh/moi", data=data, content_type="multipart/form-data",
                       headers={"Origin": "http://localhost"})


def test_a_citizen_reports_with_photos_and_coordinates_and_the_public_page_hides_phone_and_address(hub, tmp_path):
    client = citizen(hub)
    sent = send(client, photos=[("rac.jpg", JPEG), ("rac2.png", PNG)], lat="21.4512345", lon="105.8212345",
                address="Ngõ 12 đường Thắng Lợi, nhà số 7")
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    report = FieldReport.get()
    assert (report.commune, report.phone, report.status, report.category) == ("05518", PHONE, "new", "moi-truong")
    assert report.ack_due == datetime(2026, 3, 4, 11, 0)  # 2 working hours
    assert report.answer_due == datetime(2026, 3, 11, 17, 0)  # 5 working days, the day of receipt not counted
    photos = list(Attachment.select().where(Attachment.owner == report.id))
    assert sorted(p.mime for p in photos) == ["image/jpeg", "image/png"] and {p.kind for p in photos} == {"photo"}
    assert all(open_store(hub.extensions["hub"].settings).has(p.sha256) for p in photos)
    assert report.code in client.get(sent.headers["Location"]).get_data(as_text=True)
    anyone = hub.test_client()
    for page in (anyone.get("/phan-anh"), anyone.get(f"/phan-anh/{report.code}")):
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and "Rác thải đổ trộm" in text
        assert PHONE not in text and "Thắng Lợi" not in text and "21.4512345" not in text
    assert "21.451, 105.821" in anyone.get(f"/phan-anh/{report.code}").get_data(as_text=True)  # coarse only
    got = anyone.get(f"/phan-anh/anh/{photos[0].sha256}")
    assert got.status_code == 200 and got.data in (JPEG, PNG)
    got.close()
    mine = client.get("/cong-dan/phan-anh/").get_data(as_text=True)
    assert report.code in mine and reports.reports_of_phone(PHONE) == [report]


def test_a_private_report_and_its_photos_stay_off_the_public_pages(hub):
    sent = send(citizen(hub), photos=[("a.jpg", JPEG)], public="0", address="Tổ 5")
    assert sent.status_code == 302
    report = FieldReport.get()
    anyone = hub.test_client()
    assert report.code not in anyone.get("/phan-anh").get_data(as_text=True)
    assert anyone.get(f"/phan-anh/{report.code}").status_code == 404
    sha = Attachment.get().sha256
    assert anyone.get(f"/phan-anh/anh/{sha}").status_code == 404
    assert anyone.get("/phan-anh/anh/not-a-hash").status_code == 404


@pytest.mark.parametrize("photos, fields, words", [
    ([("virus.jpg", b"MZ\x90\x00 not a picture")], {}, "không phải ảnh"),
    ([(f"{i}.jpg", JPEG) for i in range(6)], {}, "tối đa 5 ảnh"),
    ([], {"address": "", "lat": "", "lon": ""}, "vị trí"),
    ([], {"lat": "999", "lon": "105"}, "Toạ độ không hợp lệ"),
    ([], {"description": "ngắn"}, "ít nhất 10 ký tự"),
    ([], {"category": "khong-co"}, "lĩnh vực"),
    ([], {"commune_name": "Không có xã này"}, "xã/phường"),
])
def test_bad_input_is_refused_in_vietnamese_with_the_input_kept(hub, photos, fields, words):
    fields = {"address": "Ngõ 3 chợ Sông Công", **fields}
    refused = send(citizen(hub), photos=photos, **fields)
    page = refused.get_data(as_text=True)
    assert refused.status_code in (400, 413) and words in page, page[:3000]
    assert "Traceback" not in page
    if fields.get("description", "x") != "ngắn" and fields["address"]:
        assert "Ngõ 3 chợ Sông Công" in page  # what the citizen typed is kept
    assert FieldReport.select().count() == 0
    assert not any(open_store(hub.extensions["hub"].settings).total_size() for _ in [0])  # no bytes kept for nothing


def test_a_photo_over_the_size_limit_is_refused(hub, monkeypatch):
    monkeypatch.setattr("blobs.photos.MAX_PHOTO_BYTES", 4096)
    refused = send(citizen(hub), photos=[("big.jpg", JPEG + b"\x00" * 5000)], address="Tổ 5")
    assert refused.status_code == 413 and "lớn quá" in refused.get_data(as_text=True)
    assert FieldReport.select().count() == 0


def test_a_commune_name_shared_by_several_provinces_asks_which_one(hub):
    refused = send(citizen(hub), commune_name="Xã Tân Lập", address="Thôn 2")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "nhiều xã/phường cùng tên" in page
    choices = re.findall(r'<option value="(\d{5})">', page)
    assert len(choices) > 1
    chosen = send(citizen(hub), commune=choices[0], commune_name="", address="Thôn 2")
    assert chosen.status_code == 302 and FieldReport.get().commune == choices[0]


def test_without_consent_the_report_is_refused_and_consent_is_kept_once_given(hub):
    from central.citizens import Citizen

    client = citizen(hub, "0987654321")
    Citizen.update(consent_at=None, consent_version="").where(Citizen.phone == "0987654321").execute()
    form = client.get("/cong-dan/phan-anh/moi").get_data(as_text=True)
    assert "Nghị định 13/2023" in form and 'name="consent"' in form
    refused = send(client, address="Tổ 5")
    assert refused.status_code == 400 and "đồng ý" in refused.get_data(as_text=True)
    assert send(client, address="Tổ 5", consent="1").status_code == 302
    assert Citizen.get(Citizen.phone == "0987654321").consent_at is not None


def test_targets_count_working_hours_and_days_over_a_weekend():
    calendar = WorkCalendar()
    friday_late = datetime(2026, 3, 6, 16, 30)
    category = type("C", (), {"ack_hours": 2, "answer_days": 5})
    assert calendar.due_in_hours(friday_late, category.ack_hours) == datetime(2026, 3, 9, 8, 30)
    assert calendar.due_in_days(friday_late, category.answer_days) == datetime(2026, 3, 13, 17, 0)


def test_overdue_and_on_time_are_counted_per_commune(hub):
    client = citizen(hub)
    for _ in range(3):
        assert send(client, address="Tổ 5").status_code == 302
    first, second, third = FieldReport.select().order_by(FieldReport.created_at)
    late_now = datetime(2026, 3, 4, 14, 0)  # past the 2-hour acknowledgement target
    reports.acknowledge(second, late_now)
    reports.answer(third, "Đã cho thu dọn rác, cảm ơn ông/bà.", "canbo1", datetime(2026, 3, 5, 9, 0))
    counts = reports.report_counts(late_now)["05518"]
    assert counts == {"total": 3, "open": 2, "overdue": 1, "answered": 1, "on_time": 1}
    assert [r.code for r in reports.overdue_reports(late_now)] == [first.code]


def test_the_hub_statistics_count_reports_per_commune(hub):
    from tests.central.hub_accounts import token_client

    client = citizen(hub)
    for _ in range(2):
        assert send(client, address="Tổ 5").status_code == 302
    first, second = FieldReport.select().order_by(FieldReport.created_at, FieldReport.id)
    reports.answer(first, "Đã xử lý xong, cảm ơn ông/bà.", "canbo1", datetime(2026, 3, 4, 10, 0))
    hub.extensions["dossier_clock"] = lambda: datetime(2026, 3, 4, 14, 0)  # past the second's 11:00 target
    operator = token_client(hub, "operator")
    table = operator.get("/api/v1/stats/reports?month=2026-03").get_json()
    [row] = [r for r in table["rows"] if r["key"] == "05518"]
    assert (row["total"], row["open"], row["overdue"], row["answered"], row["on_time"]) == (2, 1, 1, 1, 1)
    page = operator.get("/stats?table=reports&month=2026-03")
    assert page.status_code == 200 and "Trả lời đúng hạn" in page.get_data(as_text=True)
    book = operator.get("/stats/reports.xlsx?month=2026-03")
    assert book.status_code == 200 and book.data[:2] == b"PK"
    book.close()


def test_an_operator_registers_an_open311_app_its_key_shown_once_and_can_switch_it_off(hub):
    from central.open311_clients import Open311Client, client_of_key
    from tests.central.hub_accounts import session_client

    operator = session_client(hub, "operator")
    token = CSRF.search(operator.get("/open311-clients").get_data(as_text=True)).group(1)
    made = operator.post("/open311-clients", data={"name": "Ứng dụng tỉnh", "csrf_token": token},
                         headers={"Origin": "http://localhost"})
    page = made.get_data(as_text=True)
    key = re.search(r"<code>([A-Za-z0-9_-]{20,})</code>", page).group(1)
    client = Open311Client.get()
    assert client.key_hash != key and key not in client.key_hash and client_of_key(key).name == "Ứng dụng tỉnh"
    assert key not in operator.get("/open311-clients").get_data(as_text=True)  # shown once
    again = operator.post("/open311-clients", data={"name": "Ứng dụng tỉnh", "csrf_token": token},
                          headers={"Origin": "http://localhost"})
    assert again.status_code == 409 and "Đã có ứng dụng" in again.get_data(as_text=True)
    operator.post(f"/open311-clients/{client.id}/active", data={"csrf_token": token},
                  headers={"Origin": "http://localhost"})
    assert client_of_key(key) is None


def test_one_phone_sends_a_bounded_number_of_reports_a_day(hub, monkeypatch):
    monkeypatch.setattr("office.reports.DAILY_LIMIT", 2)
    client = citizen(hub)
    assert [send(client, address="Tổ 5").status_code for _ in range(2)] == [302, 302]
    refused = send(client, address="Tổ 5", photos=[("a.jpg", JPEG)])
    assert refused.status_code == 429 and "tối đa 2 phản ánh trong 24 giờ" in refused.get_data(as_text=True)
    assert FieldReport.select().count() == 2 and Attachment.select().count() == 0
    assert send(citizen(hub, "0987000111"), address="Tổ 5").status_code == 302  # another phone is not held up
