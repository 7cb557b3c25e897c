"""The hub's fleet page in Chromium (1920x1080): an idle box that still pulls is not "Mất liên lạc",
and "Lần cuối liên lạc" is in the office's local time."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from office.clock import utcnow
from tests.e2e.hub_signin import sign_in
from tests.sync.conftest import Box, HubProcess
from tests.sync.test_contact import hub_execute

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def hub(tmp_path):
    process = HubProcess(tmp_path / "hub").start()
    yield process
    process.close()


def test_idle_box_that_pulls_is_not_shown_lost_in_local_time(hub, browser, shots, problems, tmp_path):
    box = Box(tmp_path / "box", "05518", hub)
    hub.register(box)
    assert box.sync()["ok"]
    hub_execute(hub, "UPDATE box_node SET last_seen_at = ? WHERE node_id = ?", utcnow() - timedelta(hours=2),
                box.node_id)
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        page = problems.watch(ctx.new_page(), "hub")
        sign_in(page, hub.url, *hub.account())
        row = page.locator("#fleet tbody tr").first
        expect(row).to_contain_text("Mất liên lạc")  # two hours without a word: rightly
        assert box.sync() == {"ok": True, "sent": 0, "received": 0, "pending": 0}  # an idle box's pull
        page.reload()
        expect(row).to_contain_text("Hoạt động")
        expect(row).not_to_contain_text("Mất liên lạc")
        seen = row.locator("td").nth(3).inner_text()
        local = (utcnow() + timedelta(hours=7)).strftime("%d/%m/%Y")
        assert re.fullmatch(r"\d\d:\d\d " + re.escape(local), seen.strip()), seen
        shots(page, "hub-fleet-1920x1080")
        problems.check()
    finally:
        ctx.close()
