"""The box's JSON API as the screens and other clients use it."""
from datetime import timedelta

import pytest

from office.models import PrintJob, Rating, Ticket
from tests.conftest import pair_rating_screen, sign_in


def issue(client, service="ho-tich", **extra):
    response = client.post("/api/v1/tickets", json={"service": service, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_services_list(client):
    services = client.get("/api/v1/services").get_json()
    assert services[0] == {"code": "ho-tich", "name": "Hộ tịch", "prefix": "A"}
    assert len(services) == 5


def test_issue_ticket_answers_what_the_kiosk_shows(client):
    body = issue(client, priority="elderly")
    assert body["number"] == "A-001" and body["service"] == "ho-tich"
    assert body["priority_label"] == "Người cao tuổi"
    assert len(body["tracking_code"]) == 8 and body["qr"].endswith("/t/" + body["tracking_code"])
    assert isinstance(body["estimated_wait_min"], int) and body["issued_at"].endswith("Z")
    job = PrintJob.get(PrintJob.ticket == body["id"])
    assert job.state == PrintJob.PENDING and "A-001" in job.payload


@pytest.mark.parametrize("body, status, message", [
    ({"service": "khong-co"}, 404, "Không tìm thấy dịch vụ"),
    ({}, 400, "Thiếu dịch vụ"),
    ({"service": "ho-tich", "priority": "vip"}, 400, "ưu tiên"),
    ({"service": "ho-tich", "phone": "12"}, 400, "Số điện thoại"),
])
def test_bad_ticket_requests(client, body, status, message):
    response = client.post("/api/v1/tickets", json=body)
    data = response.get_json()
    assert response.status_code == status
    assert set(data) == {"ok", "error", "status"} and data["ok"] is False and data["status"] == status
    assert message in data["error"]
    assert Ticket.select().count() == 0


def test_malformed_json_is_a_400_in_vietnamese(client):
    response = client.post("/api/v1/tickets", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("Nội dung gửi lên phải là")


def test_unknown_api_path_and_page(client):
    assert client.get("/api/v1/khong-co").get_json() == {"ok": False, "error": "Không tìm thấy trang hoặc dữ liệu này.", "status": 404}
    page = client.get("/khong-co")
    assert page.status_code == 404 and "text/html" in page.content_type
    assert "Không tìm thấy trang" in page.get_data(as_text=True)


def test_unexpected_errors_show_no_traceback(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    page = client.get("/boom")
    text = page.get_data(as_text=True)
    assert page.status_code == 500 and "Hệ thống gặp sự cố" in text
    assert "secret internals" not in text and "Traceback" not in text


def test_counter_actions_need_the_seated_officer(client):
    issue(client)
    assert client.post("/api/v1/counters/2/next").status_code == 401
    sign_in(client, counter=1)
    assert client.post("/api/v1/counters/2/next").status_code == 403
    assert client.post("/api/v1/counters/9/next").status_code == 404


def test_wrong_password(client):
    response = client.post("/api/v1/session", json={"username": "canbo1", "password": "sai", "counter": 1})
    assert response.status_code == 401
    assert response.get_json()["error"] == "Tên đăng nhập hoặc mật khẩu không đúng."


def test_call_serve_finish_rate_over_http(app, client):
    pair_rating_screen(app, client, counter=2, username="canbo2")
    ticket = issue(client)
    sign_in(client, counter=2, username="canbo2")
    called = client.post("/api/v1/counters/2/next").get_json()
    assert called["ticket"]["number"] == "A-001"
    queue = client.get("/api/v1/queue").get_json()
    counter2 = next(c for c in queue["counters"] if c["number"] == 2)
    assert (counter2["ticket"], counter2["state"], counter2["officer"]) == ("A-001", "called", "Trần Văn Minh")
    assert queue["calls"][-1]["number"] == "A-001"
    calls = client.get("/api/v1/calls?after=0").get_json()["calls"]
    said = ["/clips/moi_so.wav", "/clips/chu_a.wav", "/clips/mot.wav", "/clips/den_quay_so.wav", "/clips/hai.wav"]
    assert calls[-1]["clips"] == ["/clips/chime.wav", *said, *said]  # lobby_call_repeat: 2
    assert client.post("/api/v1/counters/2/recall").status_code == 200
    assert client.post("/api/v1/counters/2/start").status_code == 200
    assert client.post("/api/v1/counters/2/finish").get_json()["ticket"]["state"] == "done"
    awaiting = client.get("/api/v1/counters/2/awaiting-rating").get_json()["ticket"]
    assert awaiting == {"id": ticket["id"], "number": "A-001", "officer": "Trần Văn Minh"}
    rated = client.post("/api/v1/ratings", json={"counter": 2, "ticket": ticket["id"], "score": 3})
    assert rated.status_code == 201 and rated.get_json()["label"] == "Rất hài lòng"
    assert Rating.get().officer.username == "canbo2"
    again = client.post("/api/v1/ratings", json={"counter": 2, "ticket": ticket["id"], "score": 1})
    assert again.status_code == 409


def served_at_counter(app, counter=2, username="canbo2"):
    """A ticket called and finished at ``counter`` by an officer, on another client (the counter's)."""
    officer = app.test_client()
    ticket = issue(officer)
    sign_in(officer, counter=counter, username=username)
    officer.post(f"/api/v1/counters/{counter}/next")
    assert officer.post(f"/api/v1/counters/{counter}/finish").get_json()["ticket"]["state"] == "done"
    return ticket


def test_anonymous_rating_after_the_window_is_refused(app, client):
    pair_rating_screen(app, client, counter=2)
    ticket = served_at_counter(app)
    row = Ticket.get_by_id(ticket["id"])
    row.ended_at -= timedelta(minutes=6)  # finished six minutes ago
    row.save()
    late = client.post("/api/v1/ratings", json={"counter": 2, "ticket": ticket["id"], "score": 1})
    assert late.status_code == 409 and "không còn chờ đánh giá" in late.get_json()["error"]
    assert Rating.select().count() == 0


def test_rating_for_another_counters_ticket_is_refused(app, client):
    pair_rating_screen(app, client, counter=2)
    ticket = served_at_counter(app, counter=2)
    for body in ({"counter": 1, "ticket": ticket["id"], "score": 1},  # not the ticket counter 1 finished
                 {"ticket": ticket["id"], "score": 1}):  # no counter: not from a rating screen
        answer = client.post("/api/v1/ratings", json=body)
        assert answer.status_code in (400, 403, 409), answer.get_json()  # 403: not the screen of counter 1
    assert Rating.select().count() == 0
    assert client.post("/api/v1/ratings", json={"counter": 2, "ticket": ticket["id"], "score": 3}).status_code == 201


def test_rating_an_earlier_ticket_of_the_counter_is_refused(app, client):
    pair_rating_screen(app, client, counter=2)
    first = served_at_counter(app)
    second = served_at_counter(app)
    stale = client.post("/api/v1/ratings", json={"counter": 2, "ticket": first["id"], "score": 1})
    assert stale.status_code == 409 and Rating.select().count() == 0
    assert client.post("/api/v1/ratings", json={"counter": 2, "ticket": second["id"], "score": 2}).status_code == 201


def test_next_with_nobody_waiting(client):
    sign_in(client)
    assert client.post("/api/v1/counters/1/next").get_json() == {"ok": True, "ticket": None}


def test_transfer_over_http(client):
    issue(client)
    sign_in(client, counter=1)
    client.post("/api/v1/counters/1/next")
    bad = client.post("/api/v1/counters/1/transfer", json={"counter": "abc"})
    assert bad.status_code == 400
    moved = client.post("/api/v1/counters/1/transfer", json={"service": "dat-dai"}).get_json()
    assert moved["ticket"]["state"] == "issued" and moved["ticket"]["transfers"] == 1
    waiting = client.get("/api/v1/counters/3").get_json()["waiting"]
    assert [t["number"] for t in waiting] == ["A-001"]


def test_tracking(client):
    ticket = issue(client)
    status = client.get(f"/api/v1/tickets/{ticket['tracking_code'].lower()}").get_json()
    assert status["state"] == "issued" and status["number"] == "A-001"
    page = client.get(f"/t/{ticket['tracking_code']}").get_data(as_text=True)
    assert "Đang chờ đến lượt" in page
    assert client.get("/api/v1/tickets/ZZZZZZZZ").status_code == 404


def test_screens_render(client):
    for path in ("/", "/kiosk", "/lobby", "/counter", "/rate/1"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "UBND Phường Sông Công" in response.get_data(as_text=True)
    assert client.get("/rate/99").status_code == 404


def test_clips_and_qr_are_served_by_the_box(client, settings, tmp_path):
    shipped = client.get("/clips/chime.wav")
    assert shipped.status_code == 200 and shipped.data[:4] == b"RIFF"
    shipped.close()
    assert client.get("/clips/..%2Fsecret.wav").status_code == 404
    qr = client.get("/qr.svg?data=http://box/t/ABC")
    assert qr.status_code == 200 and b"<svg" in qr.data
    assert client.get("/qr.svg").status_code == 400


def test_recorded_clip_replaces_the_shipped_one(client, settings):
    from pathlib import Path

    override = Path(settings["clips_dir"])
    override.mkdir(parents=True, exist_ok=True)
    (override / "moi_so.wav").write_bytes(b"RIFF-recorded")
    response = client.get("/clips/moi_so.wav")
    assert response.data == b"RIFF-recorded"
    response.close()


def test_user_text_is_escaped_in_pages(client):
    from office.models import Office

    office = Office.get()
    office.name = "<script>alert(1)</script>"
    office.save()
    text = client.get("/kiosk").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text


def test_failed_print_jobs_can_be_listed_and_reprinted(client):
    ticket = issue(client)
    PrintJob.update(state=PrintJob.FAILED, attempts=6, last_error="hết giấy").execute()
    assert client.get("/api/v1/print-jobs").status_code == 401
    sign_in(client)
    jobs = client.get("/api/v1/print-jobs").get_json()
    assert [(j["number"], j["error"]) for j in jobs] == [("A-001", "hết giấy")]
    assert client.post(f"/api/v1/print-jobs/{jobs[0]['id']}/reprint").status_code == 200
    assert PrintJob.get(PrintJob.ticket == ticket["id"]).state == PrintJob.PENDING
