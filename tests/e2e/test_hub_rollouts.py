"""The hub's front page in Chromium after two rollouts: each box's version, and per release the
state of every box it is meant for, a rollback with its reason (boxes report by signed hello)."""
from tests.e2e.accessibility import assert_accessible
from tests.e2e.hub_signin import sign_in
from tests.sync.conftest import Box, HubProcess
from tests.updates.conftest import publish
from tests.updates.wheels import build_wheel
from updates import state
from updates.box import hello


def test_fleet_page_shows_versions_and_rollouts(browser, shots, tmp_path):
    hub = HubProcess(tmp_path / "hub").start()
    boxes = []
    try:
        for n, commune in enumerate(("05518", "00004", "00008")):
            box = Box(tmp_path / f"box{n}", commune, hub)
            hub.register(box)
            boxes.append(box)
            assert box.sync()["ok"]  # heard from: not listed as out of touch
        publish(hub, build_wheel(tmp_path / "r2", "0.2.0").parent, "0.2.0", "--communes", "05518,00004,00008")
        publish(hub, build_wheel(tmp_path / "r3", "0.3.0").parent, "0.3.0", "--communes", "05518,00004")
        reports = [("0.3.0", state.ROLLED_BACK, "không khỏe sau 10 phút: /api/v1/health trả lời 500"),
                   ("0.3.0", state.DOWNLOADING, "")]
        for box, (version, where, reason) in zip(boxes, reports):
            state.save(box.settings, version=version, state=where, reason=reason)
        for box in boxes:
            with box:
                hello(box.settings, box.key)
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
        page = context.new_page()
        sign_in(page, hub.url, *hub.account())
        fleet = page.inner_text("#fleet")
        assert fleet.count(state.running_version()) == 3
        newest = page.locator("table.rollout[data-version='0.3.0']").inner_text()
        assert "Đã quay lại bản cũ" in newest and "trả lời 500" in newest and "Đang tải" in newest
        assert page.locator("table.rollout[data-version='0.2.0'] tr.state-pending").count() == 3
        page.locator("#rollouts").scroll_into_view_if_needed()
        shots(page, "hub-rollouts-1366", full_page=True)
        assert_accessible(page)
        page.set_viewport_size({"width": 1920, "height": 1080})
        shots(page, "hub-rollouts-1920")
        context.close()
    finally:
        for box in boxes:
            box.db.close()
        hub.close()
