"""A citizen's visit, end to end, on a real box in a real Chromium.

Devices are separate pages (and, for the counter, a separate browser context with its own
cookies), as in the office: the lobby TV, the kiosk, the officer's PC, the rating tablet.
"""
import re
import sqlite3
import time
from contextlib import closing
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import pair_rating_screen

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CALL_CLIPS = ["/clips/chime.wav", "/clips/moi_so.wav", "/clips/chu_a.wav",
              "/clips/mot.wav", "/clips/den_quay_so.wav", "/clips/hai.wav"]
LOGIN_ERROR = "Tên đăng nhập hoặc mật khẩu không đúng."


def is_subsequence(wanted, seen):
    it = iter(seen)
    return all(any(x == w for x in it) for w in wanted)


def wait_until(page, predicate, timeout, what):
    """Poll ``predicate`` for ``timeout`` seconds. Waiting through ``page`` (not time.sleep)
    lets Playwright's sync API deliver the page's events (requests...) meanwhile."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        page.wait_for_timeout(200)


def query(db_path, sql, *args):
    with closing(sqlite3.connect(db_path, timeout=5)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, args)]


def test_citizen_journey(box, browser, shots, problems):
    devices = browser.new_context(viewport={"width": 1280, "height": 800})
    office_pc = browser.new_context(viewport={"width": 1366, "height": 768})  # own cookies
    kiosk_ctx = browser.new_context(viewport={"width": 1080, "height": 1920})
    try:
        # 1. The lobby TV is on before anyone arrives. Its first poll only notes the latest call
        #    (history is not replayed aloud), so wait for that poll before anyone is called.
        lobby = problems.watch(devices.new_page(), "lobby")
        lobby_requests = []
        clip_statuses = {}
        lobby.on("request", lambda r: lobby_requests.append(urlsplit(r.url).path))
        lobby.on("response", lambda r: clip_statuses.setdefault(urlsplit(r.url).path, r.status)
                 if urlsplit(r.url).path.startswith("/clips/") else None)
        with lobby.expect_response(lambda r: "/api/v1/calls" in r.url, timeout=10_000):
            lobby.goto(box.url + "/lobby")
        expect(lobby.locator("#now-text")).to_have_text("Xin chào quý khách")
        rate = problems.watch(devices.new_page(), "rate")
        rate.goto(box.url + "/rate/2")  # not paired yet: it says so, and takes no rating
        expect(rate.locator("h2")).to_have_text("Màn hình này chưa được ghép với Quầy số 2.")
        expect(rate.locator("[data-score]")).to_have_count(0)
        shots(rate, "00-rate-unpaired")

        # 2. Kiosk: take a number for civil status (Hộ tịch), no priority.
        kiosk = problems.watch(kiosk_ctx.new_page(), "kiosk")
        kiosk.goto(box.url + "/kiosk")
        expect(kiosk.get_by_role("button", name="Lấy số thứ tự")).to_be_visible()
        shots(kiosk, "01-kiosk-start")
        kiosk.get_by_role("button", name="Lấy số thứ tự").click()
        ho_tich = kiosk.locator("#services [data-service=ho-tich]")
        expect(ho_tich).to_be_visible()
        expect(ho_tich).to_contain_text("Hộ tịch")
        expect(kiosk.locator("#services [data-service]")).to_have_count(5)
        shots(kiosk, "02-kiosk-services")
        ho_tich.click()
        kiosk.get_by_role("button", name="Không ưu tiên", exact=True).click()
        ticket = kiosk.locator("section[data-step=ticket]")
        expect(ticket).to_be_visible()
        expect(kiosk.locator("#t-number")).to_have_text("A-001")
        expect(kiosk.locator("#t-service")).to_have_text("Hộ tịch")
        expect(kiosk.locator("#t-ahead")).to_have_text("0")
        expect(kiosk.locator("#t-wait")).to_have_text(re.compile(r"^(Thời gian chờ dự kiến: khoảng \d+ phút|Sắp đến lượt quý khách)$"))
        expect(kiosk.locator("#t-code")).to_have_text(re.compile(r"^[A-Z0-9]{6,}$"))
        expect(kiosk.locator("#t-priority")).to_be_hidden()
        qr = kiosk.locator("#t-qr")
        expect(qr).to_have_attribute("src", re.compile(r"^/qr\.svg\?data=http"))
        # Loaded or broken, the image settles; a broken one is reported at the end of the visit,
        # so one run shows every defect of the journey, not only the first.
        kiosk.wait_for_function("() => document.getElementById('t-qr').complete", timeout=5_000)
        qr_width = qr.evaluate("i => i.naturalWidth")
        tracking_code = kiosk.locator("#t-code").inner_text()
        qr_url = parse_qs(urlsplit(qr.get_attribute("src")).query)["data"][0]
        assert qr_url == f"{box.url}/t/{tracking_code}"
        shots(kiosk, "03-kiosk-ticket")

        # 3. Officer canbo2 signs in at counter 2 (it serves Hộ tịch) and calls the next number.
        counter = problems.watch(office_pc.new_page(), "counter")
        counter.goto(box.url + "/counter")
        counter.get_by_label("Tên đăng nhập").fill("canbo2")
        counter.get_by_label("Mật khẩu").fill("motcua123")
        counter.get_by_label("Quầy làm việc").select_option(label="Quầy số 2")
        counter.get_by_role("button", name="Đăng nhập").click()
        expect(counter.locator("h1")).to_have_text("Quầy số 2 – Trần Văn Minh")
        expect(counter.locator("#waiting-list")).to_contain_text("A-001")
        expect(counter.locator("#waiting-count")).to_have_text("1")
        shots(counter, "04-counter-signed-in")
        # The officer pairs the rating tablet of counter 2 (once; the tablet keeps it).
        pair_rating_screen(rate, box.url, 2, "canbo2")
        shots(rate, "04-rate-paired")
        counter.get_by_role("button", name="Gọi số tiếp").click()
        expect(counter.locator("#current-number")).to_have_text("A-001")
        expect(counter.locator("#current-info")).to_contain_text("Đã mời")
        expect(counter.locator("#waiting-count")).to_have_text("0")
        shots(counter, "05-counter-called")

        # 4. The lobby shows and speaks the call, clip after clip.
        expect(lobby.locator("#now-text")).to_have_text("Mời số A-001 đến quầy số 2", timeout=5_000)
        expect(lobby.locator("#counters [data-counter='2'] .counter-number")).to_have_text("A-001", timeout=5_000)
        expect(lobby.locator("#last-calls")).to_contain_text("A-001")
        wait_until(lobby, lambda: is_subsequence(CALL_CLIPS, lobby_requests), 15,
                   f"the lobby to request {CALL_CLIPS}; it requested "
                   f"{[p for p in lobby_requests if p.startswith('/clips/')]}")
        clips = [p for p in lobby_requests if p.startswith("/clips/")]
        assert clips[0] == "/clips/chime.wav", clips
        assert set(clips) == set(CALL_CLIPS), clips
        wait_until(lobby, lambda: set(clip_statuses) >= set(CALL_CLIPS), 5, "the clips' responses")
        assert all(clip_statuses[c] in (200, 206) for c in CALL_CLIPS), clip_statuses
        expect(lobby.locator("#sound-on")).to_be_hidden()
        shots(lobby, "06-lobby-calling")

        # 5. The citizen arrives, is served; the console follows.
        counter.get_by_role("button", name="Bắt đầu phục vụ").click()
        expect(counter.locator("#current-info")).to_contain_text("Đang phục vụ")
        counter.get_by_role("button", name="Hoàn thành").click()
        expect(counter.locator("#current-number")).to_have_text("—")
        expect(counter.locator("#current-info")).to_have_text("Chưa gọi số nào")
        expect(counter.locator("#waiting-count")).to_have_text("0")
        expect(counter.locator("#console-error")).to_be_hidden()
        shots(counter, "07-counter-finished")

        # 6. The rating tablet of counter 2 asks about A-001 and its officer.
        expect(rate.locator("#r-number")).to_have_text("A-001", timeout=5_000)
        expect(rate.locator("#r-officer")).to_have_text("Trần Văn Minh")
        expect(rate.locator("section[data-step=ask]")).to_be_visible()
        shots(rate, "08-rate-ask")
        rate.get_by_role("button", name="Rất hài lòng").click()
        expect(rate.get_by_text("Xin cảm ơn ý kiến của quý khách!")).to_be_visible()
        expect(rate.locator("#rate-error")).to_be_hidden()
        shots(rate, "09-rate-thanks")

        assert box.get_json("/api/v1/counters/2/awaiting-rating") == {"ticket": None}
        status = box.get_json("/api/v1/tickets/" + tracking_code)
        assert (status["number"], status["state"], status["counter"]) == ("A-001", "done", 2)
        tickets = query(box.db_path, "SELECT * FROM ticket")
        assert len(tickets) == 1
        t = tickets[0]
        assert (t["number"], t["state"], t["tracking_code"]) == ("A-001", "done", tracking_code)
        for column in ("issued_at", "called_at", "serving_at", "ended_at"):
            assert t[column], f"ticket.{column} is not set: {t}"
        assert t["issued_at"] <= t["called_at"] <= t["serving_at"] <= t["ended_at"]
        ratings = query(box.db_path, "SELECT * FROM rating")
        assert len(ratings) == 1
        r = ratings[0]
        assert (r["ticket_id"], r["score"], r["source"]) == (t["id"], 3, "screen")
        assert r["officer_id"] == t["officer_id"] is not None
        officer = query(box.db_path, "SELECT username FROM officer WHERE id = ?", r["officer_id"])
        assert officer == [{"username": "canbo2"}]

        # 7. The worker printed the ticket (preview printer: ESC/POS bytes and a PNG).
        prints = box.data_dir / "prints"
        wait_until(rate, lambda: list(prints.glob("A-001-*.png")) and list(prints.glob("A-001-*.bin")), 15,
                   "the worker to print A-001")
        png, = prints.glob("A-001-*.png")
        bin_, = prints.glob("A-001-*.bin")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert bin_.stat().st_size > 0
        # The QR code's page, as the citizen's phone opens it.
        phone = problems.watch(devices.new_page(), "phone")
        phone.goto(qr_url)
        expect(phone.locator(".big-number")).to_have_text("A-001")
        expect(phone.locator(".state")).to_have_text("Đã phục vụ xong – Quầy số 2")
        phone.close()

        jobs = query(box.db_path, "SELECT state, attempts FROM print_job WHERE ticket_id = ?", t["id"])
        assert jobs == [{"state": "done", "attempts": 0}]

        # 8. No page complained, and the QR code of the ticket was a real image.
        problems.check()
        assert qr_width > 0, ("the kiosk's QR code did not load (naturalWidth 0): /qr.svg must be a "
                              "standalone SVG document (with xmlns) to show in an <img>")
    finally:
        for ctx in (kiosk_ctx, office_pc, devices):
            ctx.close()


def test_kiosk_returns_to_start_when_idle(quick_reset_box, browser, shots, problems):
    ctx = browser.new_context(viewport={"width": 1080, "height": 1920})
    try:
        kiosk = problems.watch(ctx.new_page(), "kiosk")
        kiosk.goto(quick_reset_box.url + "/kiosk")
        expect(kiosk.locator("#kiosk")).to_have_attribute("data-reset", "2")
        start, services = kiosk.locator("section[data-step=start]"), kiosk.locator("section[data-step=services]")
        kiosk.get_by_role("button", name="Lấy số thứ tự").click()
        clicked = time.monotonic()
        expect(services).to_be_visible()
        expect(kiosk.locator("#services [data-service=ho-tich]")).to_be_visible()
        expect(start).to_be_visible(timeout=6_000)
        waited = time.monotonic() - clicked
        expect(services).to_be_hidden()
        assert waited >= 1.5, f"the kiosk went back after {waited:.1f} s, before its 2 s timeout"
        shots(kiosk, "10-kiosk-after-idle-reset")
        problems.check()
    finally:
        ctx.close()


def test_user_text_is_escaped(box, browser, shots, problems):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    payload = "<img src=x onerror=alert(1)>"
    try:
        counter = problems.watch(ctx.new_page(), "counter")
        counter.goto(box.url + "/counter")
        counter.get_by_label("Tên đăng nhập").fill(payload)
        counter.get_by_label("Mật khẩu").fill(payload)
        counter.get_by_role("button", name="Đăng nhập").click()
        expect(counter.locator("#login-error")).to_have_text(LOGIN_ERROR)
        expect(counter.locator("#login-error")).to_be_visible()
        assert counter.locator("img").count() == 0
        shots(counter, "11-counter-login-error")

        kiosk = problems.watch(ctx.new_page(), "kiosk")
        kiosk.goto(box.url + "/kiosk")
        kiosk.get_by_role("button", name="Tra cứu số thứ tự đã lấy").click()
        kiosk.locator("#track-code").fill(payload)
        kiosk.get_by_role("button", name="Tra cứu", exact=True).click()
        expect(kiosk.locator("#kiosk-error")).to_be_visible()
        expect(kiosk.locator("#kiosk-error")).to_have_text(re.compile(r"Không tìm thấy|không hợp lệ|Có lỗi"))
        assert kiosk.locator("#kiosk img").count() == 1  # only the ticket's QR image, never injected ones
        # Give a would-be onerror handler a moment to fire before declaring victory.
        kiosk.wait_for_timeout(300)
        problems.check(expected_http=("/api/v1/session", "/api/v1/tickets/"))
    finally:
        ctx.close()
