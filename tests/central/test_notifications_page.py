"""The operator's outbox page and API: filters, counts per state, the last error, "send again"."""
from datetime import datetime

import pytest

from central.app import create_app
from central.outbox import Outbox, enqueue
from motcua.settings import load_settings
from office.db import database
from tests.central.hub_accounts import token_client

T0 = datetime(2026, 11, 23, 2, 0)


@pytest.fixture
def client(tmp_path):
    settings = load_settings("hub", environ={}, overrides={"data_dir": str(tmp_path), "operator_password": "first-pw"})
    app = create_app(settings)
    app.config["TESTING"] = True
    enqueue("E1", "sms", "84912345678", "Ho so A da co ket qua", purpose="dossier_ready", commune="05518", now=T0)
    enqueue("E2", "zalo", "84912345678", "Hồ sơ B", purpose="dossier_received", commune="05518", now=T0)
    enqueue("E3", "sms", "84987654321", "Ho so C", purpose="dossier_received", commune="06040", now=T0)
    enqueue("R1", "email", "lan@example.vn", "3 hồ sơ sắp đến hạn", purpose="reminder", commune="05518", now=T0)
    Outbox.update(state="sent", provider_ref="sms-1", attempts=1).where(Outbox.key.startswith("E1")).execute()
    Outbox.update(state="failed", attempts=8, last_error="Cổng SMS trả mã 108: Phone invalid") \
        .where(Outbox.key.startswith("E3")).execute()
    yield token_client(app)
    database.close()


def test_page_needs_the_operator(client):
    anonymous = client.application.test_client()
    assert anonymous.get("/notifications").headers["Location"].startswith("/signin")
    assert anonymous.get("/api/v1/notifications").status_code == 401
    viewer = token_client(client.application, "viewer", communes="05518")
    assert viewer.get("/notifications").status_code == 403


def test_api_counts_filters_and_masks(client):
    data = client.get("/api/v1/notifications").get_json()
    assert data["counts"] == {"pending": 2, "sending": 0, "sent": 1, "failed": 1}
    assert [m["id"] for m in data["messages"]] == [4, 3, 2, 1]  # newest first
    assert {m["recipient"] for m in data["messages"]} == {"84912***678", "84987***321", "la***@example.vn"}
    only = client.get("/api/v1/notifications?channel=sms&commune=05518").get_json()
    assert [m["id"] for m in only["messages"]] == [1] and only["counts"]["sent"] == 1 and only["counts"]["failed"] == 0
    failed = client.get("/api/v1/notifications?state=failed").get_json()["messages"]
    assert [(m["id"], m["last_error"]) for m in failed] == [(3, "Cổng SMS trả mã 108: Phone invalid")]
    assert [m["purpose"] for m in client.get("/api/v1/notifications?purpose=reminder")
            .get_json()["messages"]] == ["reminder"]


def test_page_shows_counts_error_and_a_retry_button_for_failed_only(client):
    html = client.get("/notifications").get_data(as_text=True)
    assert "Tin nhắn gửi đi" in html and "Cổng SMS trả mã 108: Phone invalid" in html
    assert html.count("Gửi lại</button>") == 1 and "/notifications/3/retry" in html
    assert "84912345678" not in html and "84912***678" in html


def test_retry_puts_a_failed_message_back_and_refuses_cross_site(client):
    evil = client.post("/notifications/3/retry", headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403 and Outbox.get_by_id(3).state == "failed"
    response = client.post("/notifications/3/retry?state=failed")
    assert response.status_code == 303 and "state=failed" in response.headers["Location"]
    message = Outbox.get_by_id(3)
    assert (message.state, message.attempts) == ("pending", 0)
    assert message.last_error == "Cổng SMS trả mã 108: Phone invalid"  # kept for the record
    page = client.get("/notifications").get_data(as_text=True)
    assert "Đã xếp tin #3 để gửi lại ngay." in page
    client.post("/notifications/1/retry")  # a sent message is not sent again
    assert Outbox.get_by_id(1).state == "sent"
    assert client.post("/notifications/99/retry").status_code == 404


def test_hub_home_links_the_page(client):
    assert 'href="/notifications"' in client.get("/").get_data(as_text=True)


def test_messages_page_shows_office_local_time(client):
    """Defect: the messages page showed UTC ("2026-11-23 02:00:00", header "Tạo lúc (UTC)"),
    7 hours off the offices' clocks. It shows Asia/Ho_Chi_Minh time; the API stays UTC."""
    html = client.get("/notifications").get_data(as_text=True)
    assert "09:00 23/11/2026" in html
    assert "2026-11-23 02:00" not in html and "(UTC)" not in html
    assert client.get("/api/v1/notifications").get_json()["messages"][0]["created_at"] == "2026-11-23 02:00:00"
