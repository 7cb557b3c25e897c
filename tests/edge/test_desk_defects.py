"""Defects of the dossier desk and of tracking (issue 12, items 7 and 10), each named: documents
start unticked, irreversible steps need a confirmation, the desk hears of dossiers an agency sends
back, tracking says what to do, QR codes and slips point at the public tracking address, and the
tracking pages reload themselves."""
import json
import re
from datetime import datetime

import pytest

from office import dossiers
from office.models import Dossier, PrintJob
from sync.capture import applying_remote
from tests.edge.test_dossier_views import AGENCY, OTHER, act, clock, desk, received, text  # noqa: F401

HUB = "https://motcua.thainguyen.gov.vn"


def _checkbox_states(html):
    return [("checked" in tag) for tag in re.findall(r'<input type="checkbox" name="components"[^>]*>', html)]


def test_received_documents_start_unticked(desk):
    page = desk.get("/dossiers/new?procedure=1.001193").get_data(as_text=True)
    assert _checkbox_states(page) == [False, False]
    nothing = desk.post("/dossiers", data={"procedure": "1.001193", "name": "Nguyễn Văn An"})  # nobody ticked
    assert nothing.status_code == 400 and "Hãy đánh dấu các giấy tờ đã nhận" in text(nothing)
    assert Dossier.select().count() == 0
    # what the officer did tick is kept when the form comes back with an error
    again = desk.post("/dossiers", data={"procedure": "1.001193", "name": "", "components": ["1"]})
    assert _checkbox_states(again.get_data(as_text=True)) == [False, True]


def test_irreversible_steps_are_not_taken_without_a_ticked_confirmation(desk):
    dossier = received(desk)
    for action in ("refuse", "withdraw", "finish"):
        refused = desk.post(f"/dossiers/{dossier.code}/{action}", data={"reason": "Thiếu giấy", "note": "x"})
        assert refused.status_code == 400 and "không hoàn tác được" in text(refused), action
        assert Dossier.get_by_id(dossier.id).status == 2, action
    page = desk.get(f"/dossiers/{dossier.code}").get_data(as_text=True)
    for action in ("refuse", "withdraw", "finish"):
        assert f'id="confirm-{action}" name="confirm" value="1" required' in page
    assert act(desk, dossier, "finish").status_code == 303 and Dossier.get_by_id(dossier.id).status == 9
    refused = desk.post(f"/dossiers/{dossier.code}/return", data={"note": "Công dân nhận"})
    assert refused.status_code == 400 and Dossier.get_by_id(dossier.id).status == 9
    assert act(desk, dossier, "return").status_code == 303 and Dossier.get_by_id(dossier.id).status == 10


def test_the_desk_is_told_when_an_agency_sends_a_dossier_back(desk):
    sent, finished, kept = received(desk), received(desk), received(desk)
    for dossier in (sent, finished, kept):
        assert act(desk, dossier, "transfer", stage="Chuyển liên thông", agency=OTHER).status_code == 303
    assert 'id="came-back"' not in desk.get("/dossiers").get_data(as_text=True)
    with applying_remote():  # what the agency did at the hub comes down by sync
        dossiers.transfer(Dossier.get_by_id(sent.id), "Trả về xã", agency=AGENCY,
                          actor="Lê Văn Tư – Sở Tư pháp tỉnh Thái Nguyên", note="Thiếu bản sao giấy chứng sinh",
                          now=datetime(2026, 3, 3, 10))
        dossiers.finish(Dossier.get_by_id(finished.id), actor="Lê Văn Tư – Sở Tư pháp tỉnh Thái Nguyên",
                        now=datetime(2026, 3, 3, 11))
    listing = desk.get("/dossiers")
    banner = text(listing).split("Hồ sơ cơ quan liên thông gửi về (2)")[1].split("Tìm theo mã")[0]
    assert sent.code in banner and "chuyển trả về để xử lý tiếp" in banner and "Thiếu bản sao giấy chứng sinh" in banner
    assert finished.code in banner and "Sở Tư pháp tỉnh Thái Nguyên đã xử lý xong" in banner
    assert kept.code not in banner
    detail = text(desk.get(f"/dossiers/{sent.code}"))
    assert "Hồ sơ được chuyển trả về từ cơ quan liên thông" in detail
    # once the desk acts on it, it leaves the list
    assert act(desk, Dossier.get_by_id(sent.id), "transfer", stage="Thẩm định hồ sơ", agency=AGENCY).status_code == 303
    assert "Hồ sơ cơ quan liên thông gửi về (1)" in text(desk.get("/dossiers"))


def _tracking(client, dossier):
    dossier = Dossier.get_by_id(dossier.id)
    return client.get(f"/tracking?code={dossier.code}&secret={dossier.tracking_secret}").get_data(as_text=True)


def test_tracking_a_supplement_request_says_what_to_bring_the_pause_and_the_new_date(desk, clock, client):
    dossier = received(desk)  # Monday 02/03/2026 09:15, due 17:00 Thursday 05/03
    clock["t"] = datetime(2026, 3, 3, 10)
    assert act(desk, dossier, "supplement", note="Bản sao giấy chứng sinh có chứng thực").status_code == 303
    view = dossiers.track(dossier.code, Dossier.get_by_id(dossier.id).tracking_secret, now=datetime(2026, 3, 4, 9))
    lines = " ".join(view["guidance"]["lines"])
    assert view["guidance"]["headline"] == "Cần quý khách bổ sung giấy tờ"
    assert "Giấy tờ cần mang đến: Bản sao giấy chứng sinh có chứng thực" in lines
    assert "tạm dừng từ 10:00 thứ Ba 03/03/2026" in lines
    # brought on Wednesday the 4th: one working day waited, so due moves from Thursday 5th to Friday 6th
    assert "nộp đủ vào thứ Tư 04/03/2026, ngày hẹn trả kết quả mới sẽ là 17:00 thứ Sáu 06/03/2026" in lines
    assert [s["state"] for s in view["guidance"]["steps"]] == ["done", "current", "todo", "todo"]
    page = text_of(_tracking(client, dossier))
    assert "Chờ quý khách bổ sung giấy tờ" in page and "Bản sao giấy chứng sinh có chứng thực" in page


@pytest.mark.parametrize("procedure", ["1.001193", "2.000815"], ids=["working-days", "working-hours"])
def test_the_new_date_tracking_announces_is_the_one_the_desk_sets(desk, clock, procedure):
    response = desk.post("/dossiers", data={"procedure": procedure, "name": "Nguyễn Văn An", "components": ["0"],
                                            "extra": "Tờ khai"})
    assert response.status_code == 303
    dossier = Dossier.select().order_by(Dossier.received_at.desc()).get()
    clock["t"] = datetime(2026, 3, 2, 10, 30)
    assert act(desk, dossier, "supplement", note="Thiếu giấy").status_code == 303
    back = datetime(2026, 3, 3, 14, 0)  # Tuesday afternoon, office open
    view = dossiers.track(dossier.code, Dossier.get_by_id(dossier.id).tracking_secret, now=back)
    announced = re.search(r"ngày hẹn trả kết quả mới sẽ là (\d\d:\d\d) \S+ \S+ (\d\d/\d\d/\d{4})",
                          " ".join(view["guidance"]["lines"]))
    clock["t"] = back
    assert act(desk, dossier, "resume").status_code == 303
    assert " ".join(announced.groups()) == f"{Dossier.get_by_id(dossier.id).due_at:%H:%M %d/%m/%Y}"


def text_of(html):
    from html import unescape

    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_tracking_a_finished_dossier_says_where_and_when_to_collect(desk, clock):
    dossier = received(desk)
    clock["t"] = datetime(2026, 3, 4, 17, 30)  # finished after closing time
    assert act(desk, dossier, "finish").status_code == 303
    secret = Dossier.get_by_id(dossier.id).tracking_secret
    view = dossiers.track(dossier.code, secret, now=datetime(2026, 3, 4, 18))
    guidance = view["guidance"]
    lines = " ".join(guidance["lines"])
    assert guidance["headline"] == "Đã có kết quả – mời quý khách đến nhận"
    assert "Nơi nhận: Bộ phận tiếp nhận và trả kết quả (một cửa) của UBND Phường Sông Công" in lines
    assert "từ 07:00 thứ Năm 05/03/2026" in lines and "07:00–11:30 và 13:30–17:00" in lines
    assert "giấy hẹn" in lines and "căn cước" in lines
    assert [s["state"] for s in guidance["steps"]] == ["done", "done", "current", "todo"]
    open_now = dossiers.track(dossier.code, secret, now=datetime(2026, 3, 5, 9))["guidance"]
    assert "ngay hôm nay, văn phòng đang làm việc" in " ".join(open_now["lines"])


def test_the_tracking_pages_reload_themselves_while_something_can_change(desk, client, app):
    dossier = received(desk)
    page = _tracking(client, dossier)
    # a script reloads it (and can be paused: WCAG 2.2.1), the browser does without scripts
    assert '<noscript><meta http-equiv="refresh" content="120"></noscript>' in page
    assert 'data-refresh="120"' in page and "/assets/refresh.js" in page and 'id="refresh-toggle"' in page
    act(desk, dossier, "finish")
    assert '<meta http-equiv="refresh"' in _tracking(client, dossier)  # waiting to be collected
    act(desk, dossier, "return")
    assert '<meta http-equiv="refresh"' not in _tracking(client, dossier)  # done: nothing will change
    ticket = client.post("/api/v1/tickets", json={"service": "ho-tich"}).get_json()
    ticket_page = client.get(f"/t/{ticket['tracking_code']}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="30">' in ticket_page and "/assets/refresh.js" in ticket_page


def test_qr_codes_and_slips_point_at_the_public_tracking_address(desk, app, settings):
    settings["hub_url"] = HUB + "/"  # by default the hub: a phone on mobile data reaches it, not the box
    ticket = desk.post("/api/v1/tickets", json={"service": "ho-tich"}).get_json()
    assert ticket["qr"] == f"{HUB}/t/{ticket['tracking_code']}"
    dossier = received(desk, print_slip="1")
    payload = json.loads(PrintJob.select().where(PrintJob.payload.contains('"slip"')).get().payload)
    secret = Dossier.get_by_id(dossier.id).tracking_secret
    assert payload["qr"] == f"{HUB}/tracking?code={dossier.code}&secret={secret}"
    assert payload["tracking_url"] == f"{HUB}/tracking"
    slip = desk.get(f"/dossiers/{dossier.code}/slip").get_data(as_text=True)
    assert f"{HUB}/tracking" in slip and "127.0.0.1" not in slip
    settings["public_tracking_url"] = "https://tracuu.example.vn"  # a public address of its own wins
    assert desk.post("/api/v1/tickets", json={"service": "ho-tich"}).get_json()["qr"].startswith(
        "https://tracuu.example.vn/t/")
