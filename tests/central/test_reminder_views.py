"""The operator's reminder pages: rules and contacts with checked forms, a preview, the log, the API."""
import re
from datetime import datetime, timedelta
from html import unescape

import pytest

from central.app import create_app
from central.outbox import Outbox, enqueue
from central.reminder_models import Contact, ReminderRule
from central.reminders import run_reminders
from motcua.settings import load_settings
from office.db import database
from office.dossiers import Dossier
from sync.capture import applying_remote
from tests.central.hub_accounts import token_client

COMMUNE = "05518"
NOW = datetime(2026, 9, 8, 8, 0)  # Tuesday, office-local
GOOD_RULE = {"name": "Nhắc buổi sáng", "what": "both", "lead": "1", "lead_unit": "days", "audience": "both",
             "channels": ["sms", "log"], "times": "08:00, 14:00", "weekdays": ["0", "1", "2", "3", "4"],
             "communes": COMMUNE}


@pytest.fixture
def app(tmp_path):
    settings = load_settings("hub", environ={}, overrides={"data_dir": str(tmp_path), "operator_password": "first-pw"})
    application = create_app(settings)
    application.config["TESTING"] = True
    application.extensions["dossier_clock"] = lambda: NOW
    yield application
    database.close()


@pytest.fixture
def client(app):
    return token_client(app, "operator")


def text(response):
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def field(response, name):
    """The value attribute of the input ``name`` on the page."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', response.get_data(as_text=True))
    return unescape(match[1]) if match else None


def checked(response, name):
    page = response.get_data(as_text=True)
    return sorted(m[1] for m in re.finditer(rf'<input type="checkbox" name="{name}" value="([^"]*)" checked>', page))


def dossier(number, due_at, handler="Nguyễn Thị Lan", status=4):
    code = f"000.19.05518-260901-{number:04d}"
    with applying_remote():
        Dossier.insert(id=f"d-{number}", commune=COMMUNE, code=code, procedure_code="1.001193",
                       procedure_name="Đăng ký khai sinh", applicant_name="Trần Văn Bình", components="[]",
                       status=status, stage="Thẩm định hồ sơ", handler=handler, agency="000.19.05518",
                       received_at=due_at - timedelta(days=5), due_at=due_at).execute()
    return code


def test_sign_in_is_needed(app):
    anonymous = app.test_client()
    for path in ("/reminders", "/reminders/log"):
        assert anonymous.get(path).headers["Location"].startswith("/signin")
    assert anonymous.get("/api/v1/reminders").status_code == 401
    assert anonymous.post("/reminders/rules", data=GOOD_RULE).headers["Location"].startswith("/signin")
    assert anonymous.post("/api/v1/reminders", json=GOOD_RULE).status_code == 401
    assert ReminderRule.select().count() == 0


def test_hub_home_links_to_reminders(client):
    assert 'href="/reminders"' in client.get("/").get_data(as_text=True)


def test_rule_form_refuses_bad_input_and_keeps_it(client):
    bad = {"name": "Nhắc chiều", "what": "near_due", "lead": "0", "lead_unit": "days", "audience": "leader",
           "times": "8h, 14:00", "communes": "05518,99999"}  # no channel, no weekday
    response = client.post("/reminders/rules", data=bad)
    assert response.status_code == 400
    page = text(response)
    for reason in ("lớn hơn 0", "Giờ gửi “8h” không hợp lệ", "ít nhất một kênh", "ít nhất một ngày",
                   "Không có xã/phường mã: 99999"):
        assert reason in page
    assert field(response, "name") == "Nhắc chiều"
    assert field(response, "times") == "8h, 14:00"
    assert field(response, "communes") == "05518,99999"
    assert field(response, "lead") == "0"
    assert '<option value="leader" selected>' in response.get_data(as_text=True)
    assert ReminderRule.select().count() == 0
    partly = client.post("/reminders/rules", data=dict(GOOD_RULE, channels=["zalo"], weekdays=["5"], times="25:00"))
    assert partly.status_code == 400 and checked(partly, "channels") == ["zalo"] and checked(partly, "weekdays") == ["5"]


def test_rule_is_added_edited_and_paused(client):
    response = client.post("/reminders/rules", data=GOOD_RULE)
    assert response.status_code == 303
    rule = ReminderRule.get()
    assert (rule.times, rule.weekdays, rule.channels, rule.communes, rule.active) == (
        "08:00,14:00", "0,1,2,3,4", "sms,log", COMMUNE, True)
    listing = text(client.get("/reminders"))
    assert "Nhắc buổi sáng" in listing and "08:00,14:00" in listing and "Đã thêm quy tắc" in listing
    edit = client.get(f"/reminders/rules/{rule.id}")
    assert field(edit, "times") == "08:00,14:00" and checked(edit, "channels") == ["log", "sms"]
    refused = client.post(f"/reminders/rules/{rule.id}", data=dict(GOOD_RULE, times="", name="Đổi tên"))
    assert refused.status_code == 400 and "ít nhất một giờ gửi" in text(refused)
    assert field(refused, "name") == "Đổi tên" and ReminderRule.get().name == "Nhắc buổi sáng"
    saved = client.post(f"/reminders/rules/{rule.id}", data=dict(GOOD_RULE, times="7:30", channels=["email"]))
    assert saved.status_code == 303
    assert (ReminderRule.get().times, ReminderRule.get().channels) == ("07:30", "email")
    assert client.post(f"/reminders/rules/{rule.id}/active", data={"active": "0"}).status_code == 303
    assert ReminderRule.get().active is False
    assert "Tạm ngừng" in text(client.get("/reminders"))
    assert client.get("/reminders/rules/999").status_code == 404


def test_contact_form_checks_and_keeps_input(client):
    response = client.post("/reminders/contacts", data={"name": "Nguyễn Thị Lan", "role": "handler",
                                                         "phone": "12345", "email": "lan@", "commune": COMMUNE})
    assert response.status_code == 400
    page = text(response)
    assert "Số điện thoại di động không hợp lệ" in page and "thư điện tử không hợp lệ" in page
    assert field(response, "phone") == "12345" and field(response, "email") == "lan@"
    assert Contact.select().count() == 0
    ok = client.post("/reminders/contacts", data={"name": "Nguyễn Thị Lan", "role": "handler",
                                                   "phone": "0912 345 678", "commune": COMMUNE})
    assert ok.status_code == 303
    contact = Contact.get()
    assert "Nguyễn Thị Lan" in text(client.get("/reminders"))
    edited = client.post(f"/reminders/contacts/{contact.id}", data={"name": "Nguyễn Thị Lan", "role": "leader",
                                                                     "commune": COMMUNE, "agency": "000.00.19.STP"})
    assert edited.status_code == 303 and Contact.get().role == "leader" and Contact.get().agency == "000.00.19.STP"
    client.post(f"/reminders/contacts/{contact.id}/active", data={"active": "0"})
    assert Contact.get().active is False


def test_cross_site_posts_are_refused(client):
    response = client.post("/reminders/rules", data=GOOD_RULE, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and ReminderRule.select().count() == 0


def test_preview_shows_what_would_be_sent_now(client):
    late = dossier(1, datetime(2026, 9, 7, 17, 0))
    near = dossier(2, datetime(2026, 9, 8, 16, 0))
    dossier(3, datetime(2026, 9, 1, 17, 0), status=5)  # paused
    client.post("/reminders/contacts", data={"name": "Nguyễn Thị Lan", "role": "handler", "commune": COMMUNE,
                                             "phone": "0912345678"})
    client.post("/reminders/contacts", data={"name": "Phạm Văn Hùng", "role": "leader", "commune": COMMUNE})
    client.post("/reminders/rules", data=GOOD_RULE)
    rule = ReminderRule.get()
    page = client.get(f"/reminders/{rule.id}/preview")
    assert page.status_code == 200
    words = text(page)
    assert "84912345678" in words and "SMS" in words and "Nhật ký (thử)" in words
    assert "1 hồ sơ sắp đến hạn, 1 hồ sơ quá hạn" in words and late in words and near in words
    assert "000.19.05518-260901-0003" not in words
    assert words.count("Phạm Văn Hùng") >= 1  # the leader: on the log channel only (no phone)
    assert Outbox.select().count() == 0
    api = client.get(f"/api/v1/reminders/{rule.id}/preview").get_json()
    assert {(m["name"], m["channel"]) for m in api["messages"]} == {
        ("Nguyễn Thị Lan", "sms"), ("Nguyễn Thị Lan", "log"), ("Phạm Văn Hùng", "log")}
    assert client.get("/reminders/999/preview").status_code == 404


def test_log_lists_reminders_sent(app, client):
    dossier(1, datetime(2026, 9, 7, 17, 0))
    client.post("/reminders/contacts", data={"name": "Nguyễn Thị Lan", "role": "handler", "commune": COMMUNE,
                                             "phone": "0912345678"})
    client.post("/reminders/rules", data=dict(GOOD_RULE, channels=["sms"]))
    settings = app.extensions["hub"].settings
    added = run_reminders(datetime(2026, 9, 8, 1, 0), settings)  # 08:00 in Hanoi
    assert len(added) == 1
    row = Outbox.get()
    row.state, row.sent_at = Outbox.SENT, datetime(2026, 9, 8, 1, 0, 30)
    row.save()
    enqueue("notice:x", "sms", "84900000000", "Hồ sơ của ông/bà đã có kết quả", purpose="dossier_ready")
    page = client.get("/reminders/log")
    words = text(page)
    assert "84912345678" in words and "Đã gửi" in words and "08:00 08/09/2026" in words
    assert "000.19.05518-260901-0001" in words
    assert "đã có kết quả" not in words  # citizens' notices are not reminders
    assert "Chưa có tin" in text(client.get("/reminders/log?state=failed"))


def test_json_api_lists_and_creates(client):
    created = client.post("/api/v1/reminders", json=dict(GOOD_RULE, channels="email,log", weekdays=[0, 2, 4]))
    assert created.status_code == 201
    body = created.get_json()
    assert body["channels"] == ["email", "log"] and body["weekdays"] == [0, 2, 4] and body["times"] == ["08:00", "14:00"]
    refused = client.post("/api/v1/reminders", json={"name": "", "what": "overdue", "channels": [], "times": "x", "weekdays": []})
    assert refused.status_code == 400
    error = refused.get_json()
    assert error["ok"] is False and len(error["detail"]) == 4
    assert client.post("/api/v1/reminders", data="not json", content_type="application/json").status_code == 400
    assert [r["name"] for r in client.get("/api/v1/reminders").get_json()] == ["Nhắc buổi sáng"]
    contact = client.post("/api/v1/reminders/contacts", json={"name": "Lê Văn Minh", "role": "leader", "email": "minh@x.vn"})
    assert contact.status_code == 201
    assert [c["email"] for c in client.get("/api/v1/reminders/contacts").get_json()] == ["minh@x.vn"]


def test_json_api_changes_some_fields(client):
    rule = client.post("/api/v1/reminders", json=GOOD_RULE).get_json()
    paused = client.patch(f"/api/v1/reminders/{rule['id']}", json={"active": False, "times": "09:15"})
    assert paused.status_code == 200
    assert (paused.get_json()["active"], paused.get_json()["times"], paused.get_json()["channels"]) == (
        False, ["09:15"], ["sms", "log"])
    refused = client.patch(f"/api/v1/reminders/{rule['id']}", json={"channels": []})
    assert refused.status_code == 400 and ReminderRule.get().channels == "sms,log"
    contact = client.post("/api/v1/reminders/contacts", json={"name": "Lê Văn Minh", "role": "leader"}).get_json()
    changed = client.patch(f"/api/v1/reminders/contacts/{contact['id']}", json={"phone": "0912345678"})
    assert changed.status_code == 200 and Contact.get().phone == "0912345678" and Contact.get().role == "leader"
    assert client.patch("/api/v1/reminders/contacts/999", json={}).status_code == 404
