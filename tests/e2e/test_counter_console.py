"""The counter console at 1366x768 in a real Chromium: only valid actions, undo for absent,
feedback after each action, the wait of each waiting ticket, the transfer form in view, and a
counter taken by a second officer told to the first."""
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import _start_box, page_headers

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

COUNTER_SIZE = {"width": 1366, "height": 768}
UNDO_SECONDS = 2


@pytest.fixture(scope="module")
def counter_box(tmp_path_factory):
    """A box whose console waits 2 s for an undo (no worker: nothing is printed here)."""
    b = _start_box(tmp_path_factory, "box-counter", extra=("--counter-undo-seconds", UNDO_SECONDS), worker=False)
    yield b
    b.stop()


def issue(context, url, service="ho-tich"):
    response = context.request.post(url + "/api/v1/tickets", data={"service": service},
                                    headers=page_headers(context, url))
    assert response.status == 201, response.text()
    return response.json()


def sign_in(page, url, username, counter):
    page.goto(url + "/counter")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill("motcua123")
    page.get_by_label("Quầy làm việc").select_option(value=str(counter))
    page.get_by_role("button", name="Đăng nhập").click()


def ticket_state(db_path, number):
    with closing(sqlite3.connect(db_path, timeout=5)) as conn:
        return conn.execute("SELECT state FROM ticket WHERE number = ?", (number,)).fetchone()[0]


def enabled_actions(page):
    return set(page.eval_on_selector_all("#actions [data-action]", "bs => bs.filter(b => !b.disabled).map(b => b.dataset.action)"))


def test_counter_console_valid_actions_undo_and_feedback(counter_box, browser, shots, problems):
    url = counter_box.url
    ctx = browser.new_context(viewport=COUNTER_SIZE)
    try:
        for _ in range(4):
            issue(ctx, url)
        # A-004 has waited 12 minutes (its issue time set back in the box's database).
        with closing(sqlite3.connect(counter_box.db_path, timeout=5)) as conn, conn:
            earlier = (datetime.utcnow() - timedelta(minutes=12, seconds=30)).isoformat(sep=" ")
            conn.execute("UPDATE ticket SET issued_at = ? WHERE number = 'A-004'", (earlier,))
        page = problems.watch(ctx.new_page(), "counter")
        sign_in(page, url, "canbo1", 1)
        expect(page.locator("h1")).to_have_text("Quầy số 1 – Nguyễn Thị Lan")
        expect(page.locator("#waiting-count")).to_have_text("4")

        # Nobody in hand: only "next" can be pressed. Each waiting ticket shows its wait.
        expect(page.locator("[data-action=next]")).to_be_enabled()
        assert enabled_actions(page) == {"next"}
        rows = page.locator("#waiting-list tr")
        expect(rows.nth(0)).to_contain_text("mới đến")
        expect(rows.filter(has_text="A-004")).to_contain_text("12 phút")
        shots(page, "counter-01-idle-waits")
        assert_accessible(page)

        # N calls A-001: it says so; "finish" stays off until service starts, and F does nothing.
        page.keyboard.press("n")
        expect(page.locator("#current-number")).to_have_text("A-001")
        expect(page.locator("#console-status")).to_contain_text("Đã mời số A-001.")
        expect(page.locator("[data-action=start]")).to_be_enabled()
        assert enabled_actions(page) == {"next", "recall", "start", "no-show", "transfer"}
        page.keyboard.press("f")
        page.wait_for_timeout(500)
        assert ticket_state(counter_box.db_path, "A-001") == "called"
        expect(page.locator("#current-info")).to_contain_text("Đã mời")
        assert_accessible(page)

        # N while A-001 is called: a few seconds to undo; Esc undoes, nothing is recorded.
        page.keyboard.press("n")
        pending = page.locator("#pending")
        expect(pending).to_be_visible()
        expect(pending).to_contain_text("Số A-001 chưa đến quầy: sẽ ghi vắng mặt và mời số tiếp")
        assert enabled_actions(page) == set()
        shots(page, "counter-02-next-while-called-undo")
        assert_accessible(page)
        page.keyboard.press("Escape")
        expect(pending).to_be_hidden()
        expect(page.locator("#console-status")).to_contain_text("Đã hoàn tác")
        page.wait_for_timeout(UNDO_SECONDS * 1000 + 500)  # past the undo time: still nothing recorded
        assert ticket_state(counter_box.db_path, "A-001") == "called"
        expect(page.locator("#current-number")).to_have_text("A-001")

        # V: absent after the undo time, then said.
        page.get_by_role("button", name="Vắng mặt").click()
        expect(pending).to_contain_text("Số A-001 sẽ được ghi vắng mặt")
        expect(page.locator("#console-status")).to_contain_text("Đã ghi số A-001 vắng mặt.", timeout=10_000)
        expect(pending).to_be_hidden()
        assert ticket_state(counter_box.db_path, "A-001") == "no_show"
        expect(page.locator("#current-number")).to_have_text("—")
        shots(page, "counter-03-absent-recorded")

        # start, then finish; serving, "finish" is on and "start"/"absent" are off.
        page.keyboard.press("n")
        expect(page.locator("#current-number")).to_have_text("A-002")
        page.keyboard.press("s")
        expect(page.locator("#current-info")).to_contain_text("Đang phục vụ")
        expect(page.locator("#console-status")).to_contain_text("Bắt đầu phục vụ số A-002.")
        assert enabled_actions(page) == {"next", "finish", "transfer"}
        page.keyboard.press("v")  # not valid while serving: ignored
        expect(pending).to_be_hidden()
        page.keyboard.press("f")
        expect(page.locator("#console-status")).to_contain_text("Đã hoàn thành số A-002 (phục vụ dưới 1 phút).")
        assert ticket_state(counter_box.db_path, "A-002") == "done"

        # the transfer form opens in view at 1366x768 and the transfer is said.
        page.keyboard.press("n")
        expect(page.locator("#current-number")).to_have_text("A-003")
        page.keyboard.press("t")
        form = page.locator("#transfer-form")
        expect(form).to_be_visible()
        expect(page.locator("#transfer-service")).to_be_focused()
        shots(page, "counter-04-transfer-form")
        box = form.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= COUNTER_SIZE["height"], box
        assert page.evaluate("window.scrollY") == 0
        assert_accessible(page)
        page.locator("#transfer-counter").select_option(value="2")
        page.get_by_role("button", name="Chuyển", exact=True).click()
        expect(page.locator("#console-status")).to_contain_text("Đã chuyển số A-003 đến Quầy số 2.")
        expect(form).to_be_hidden()
        assert ticket_state(counter_box.db_path, "A-003") == "issued"
        shots(page, "counter-05-transferred")
        problems.check()
    finally:
        ctx.close()


def test_second_officer_is_warned_before_taking_an_occupied_counter(counter_box, browser, shots, problems):
    url = counter_box.url
    first_pc = browser.new_context(viewport=COUNTER_SIZE)
    second_pc = browser.new_context(viewport=COUNTER_SIZE)
    try:
        first = problems.watch(first_pc.new_page(), "first")
        sign_in(first, url, "canbo3", 3)
        expect(first.locator("h1")).to_have_text("Quầy số 3 – Lê Thị Hoa")
        second = problems.watch(second_pc.new_page(), "second")
        sign_in(second, url, "canbo2", 3)
        warning = second.locator("#takeover")
        expect(warning).to_be_visible()
        expect(warning).to_contain_text("Quầy số 3 đang có cán bộ Lê Thị Hoa làm việc.")
        assert counter_box.get_json("/api/v1/counters/3")["officer"] == "Lê Thị Hoa"  # nothing taken yet
        shots(second, "counter-06-takeover-warning")
        assert_accessible(second)
        second.get_by_role("button", name="Nhận quầy thay").click()
        expect(second.locator("h1")).to_have_text("Quầy số 3 – Trần Văn Minh")
        assert counter_box.get_json("/api/v1/counters/3")["officer"] == "Trần Văn Minh"

        # The first officer's console learns it on its next poll and locks its buttons.
        lost = first.locator("#lost")
        expect(lost).to_be_visible(timeout=10_000)
        expect(lost).to_contain_text("Cán bộ Trần Văn Minh đã nhận Quầy số 3 lúc")
        assert enabled_actions(first) == set()
        shots(first, "counter-07-counter-taken")
        assert_accessible(first)
        problems.check(expected_http=("/api/v1/session",))
    finally:
        first_pc.close()
        second_pc.close()
