"""The rating tablet at 1280x800 in a real Chromium: it follows the ticket its counter just
finished, drops a question once the next citizen is being served, times out, and shows three
different faces."""
import sqlite3
from contextlib import closing

import pytest
from playwright.sync_api import expect

from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import _start_box, pair_rating_screen, page_headers

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TABLET_SIZE = {"width": 1280, "height": 800}
TIMEOUT_SECONDS = 3


@pytest.fixture(scope="module")
def rating_box(tmp_path_factory):
    """A box whose rating tablet gives up on an unanswered question after 3 s (no worker)."""
    b = _start_box(tmp_path_factory, "box-rating", extra=("--rating-timeout-seconds", TIMEOUT_SECONDS), worker=False)
    yield b
    b.stop()


class Counter:
    """Counter 2's officer, acting through the box's API with their own session."""

    def __init__(self, context, url):
        self.context, self.url = context, url
        self.headers = page_headers(context, url)
        answer = context.request.post(url + "/api/v1/session", headers=self.headers,
                                      data={"username": "canbo2", "password": "motcua123", "counter": 2})
        assert answer.ok, answer.text()
        self.headers = page_headers(context, url)  # signing in starts a new session: a new token

    def issue(self):
        answer = self.context.request.post(self.url + "/api/v1/tickets", headers=self.headers, data={"service": "ho-tich"})
        assert answer.status == 201, answer.text()
        return answer.json()["number"]

    def press(self, action):
        answer = self.context.request.post(f"{self.url}/api/v1/counters/2/{action}", headers=self.headers)
        assert answer.ok, answer.text()
        return answer.json()


def ratings(db_path):
    with closing(sqlite3.connect(db_path, timeout=5)) as conn:
        return conn.execute("SELECT t.number, r.score, r.reason FROM rating r JOIN ticket t ON t.id = r.ticket_id "
                            "ORDER BY t.number").fetchall()


def test_rating_lands_on_the_ticket_just_finished_not_the_previous_one(rating_box, browser, shots, problems):
    url = rating_box.url
    office_pc = browser.new_context(viewport={"width": 1366, "height": 768})
    tablet_ctx = browser.new_context(viewport=TABLET_SIZE)
    try:
        counter = Counter(office_pc, url)
        tablet = problems.watch(tablet_ctx.new_page(), "rate")
        pair_rating_screen(tablet, url, 2, "canbo2")
        ask, reason, idle = (tablet.locator(f"section[data-step={s}]") for s in ("ask", "reason", "idle"))
        assert_accessible(tablet)

        first, second = counter.issue(), counter.issue()
        counter.press("next"), counter.press("start"), counter.press("finish")
        expect(tablet.locator("#r-number")).to_have_text(first, timeout=5_000)
        expect(ask).to_be_visible()
        # Three answers, three different faces.
        faces = tablet.eval_on_selector_all("[data-score] svg.face", "fs => fs.map(f => f.innerHTML)")
        assert len(faces) == 3 and len(set(faces)) == 3
        shots(tablet, "rate-01-ask-faces")
        assert_accessible(tablet)

        # The first citizen leaves without answering; the next one is called (walking: still asked)...
        counter.press("next")
        tablet.wait_for_timeout(2_000)
        expect(tablet.locator("#r-number")).to_have_text(first)
        # ...then served: the question about the first ticket goes away at once.
        counter.press("start")
        expect(idle).to_be_visible(timeout=5_000)
        expect(ask).to_be_hidden()
        counter.press("finish")
        expect(tablet.locator("#r-number")).to_have_text(second, timeout=5_000)
        tablet.get_by_role("button", name="Chưa hài lòng").click()
        expect(reason).to_be_visible()
        expect(reason.locator(".r-number")).to_have_text(second)
        shots(tablet, "rate-02-reasons")
        assert_accessible(tablet)
        tablet.get_by_role("button", name="Thời gian chờ lâu").click()
        expect(tablet.get_by_text("Xin cảm ơn ý kiến của quý khách!")).to_be_visible()
        assert ratings(rating_box.db_path) == [(second, 1, "Thời gian chờ lâu")]
        problems.check()
    finally:
        office_pc.close()
        tablet_ctx.close()


def test_rating_question_and_reasons_time_out(rating_box, browser, shots, problems):
    url = rating_box.url
    office_pc = browser.new_context(viewport={"width": 1366, "height": 768})
    tablet_ctx = browser.new_context(viewport=TABLET_SIZE)
    try:
        counter = Counter(office_pc, url)
        tablet = problems.watch(tablet_ctx.new_page(), "rate")
        pair_rating_screen(tablet, url, 2, "canbo2")
        ask, reason, idle = (tablet.locator(f"section[data-step={s}]") for s in ("ask", "reason", "idle"))
        before = ratings(rating_box.db_path)

        # Unanswered, the question goes away and is not asked again.
        number = counter.issue()
        counter.press("next"), counter.press("start"), counter.press("finish")
        expect(tablet.locator("#r-number")).to_have_text(number, timeout=5_000)
        expect(idle).to_be_visible(timeout=(TIMEOUT_SECONDS + 5) * 1000)
        tablet.wait_for_timeout(3_000)  # two more polls: the same ticket is not asked about again
        expect(idle).to_be_visible()
        shots(tablet, "rate-03-timed-out")

        # The reasons screen times out too, and nothing is stored.
        number = counter.issue()
        counter.press("next"), counter.press("start"), counter.press("finish")
        expect(tablet.locator("#r-number")).to_have_text(number, timeout=5_000)
        tablet.get_by_role("button", name="Chưa hài lòng").click()
        expect(reason).to_be_visible()
        expect(idle).to_be_visible(timeout=(TIMEOUT_SECONDS + 5) * 1000)
        expect(ask).to_be_hidden()
        assert ratings(rating_box.db_path) == before
        problems.check()
    finally:
        office_pc.close()
        tablet_ctx.close()
