"""The box's /sync page in a real Chromium (1920x1080) when the hub hangs: plain Vietnamese, the
office's local time, and the technician's "Đồng bộ ngay"."""
import re
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect
from werkzeug.security import generate_password_hash

from tests.e2e.accessibility import assert_accessible

from .conftest import Box

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "kythuat-Song-Cong-2026"
TIMED_OUT = "Không kết nối được tới máy chủ tỉnh (hết thời gian chờ)"
VN = timezone(timedelta(hours=7))


class SilentHub:
    """A port on 127.0.0.1 that takes connections and never answers (a hub that hangs)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def box(tmp_path_factory):
    """A box (web server and worker) whose hub hangs; named ``box`` for the conftest's log report."""
    hub = SilentHub()
    base = tmp_path_factory.mktemp("sync-box")
    extra = ("--hub-url", hub.url, "--sync-timeout", "1", "--technician-password-hash", generate_password_hash(PASSWORD))
    b = Box(base / "data", base / "box.log", extra=extra).start()
    yield b
    b.stop()
    hub.close()


def failures(box):
    return box.get_json("/api/v1/sync")["failures"]


def wait_for(page, predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        page.wait_for_timeout(250)


def test_sync_page_plain_vietnamese_local_time_and_sync_now(box, browser, shots, problems):
    """Defects: /sync showed "HTTPConnectionPool(…): Read timed out" and ISO UTC times, and had
    no way to sync at once."""
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        page = problems.watch(ctx.new_page(), "sync")
        wait_for(page, lambda: failures(box) >= 1, 30, "the worker's first sync to fail")
        page.goto(box.url + "/sync")
        expect(page.locator(".sync-state .bad")).to_contain_text(TIMED_OUT)
        expect(page.get_by_role("button", name="Đồng bộ ngay")).to_have_count(0)  # technicians only
        expect(page.get_by_role("link", name="đăng nhập bảng kỹ thuật")).to_be_visible()
        text = page.locator("main").inner_text()
        assert "HTTPConnectionPool" not in text and "Read timed out" not in text, text
        when = page.locator("#last-error").inner_text()
        stamp = re.search(r"\((\d\d):(\d\d) (\d\d)/(\d\d)/(\d{4})\)", when)
        assert stamp, when
        shown = datetime(int(stamp[5]), int(stamp[4]), int(stamp[3]), int(stamp[1]), int(stamp[2]), tzinfo=VN)
        assert abs(datetime.now(timezone.utc) - shown) < timedelta(minutes=5), (when, "not the office's local time")

        page.goto(box.url + "/console/login")
        page.get_by_label("Mật khẩu kỹ thuật").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        expect(page).to_have_url(box.url + "/console/")
        page.goto(box.url + "/sync")
        before = failures(box)
        page.get_by_role("button", name="Đồng bộ ngay").click()
        expect(page.locator("#sync-flash")).to_have_text("Đã yêu cầu đồng bộ ngay. Tải lại trang sau vài giây để xem kết quả.")
        assert_accessible(page)
        shots(page, "sync-1920x1080-sync-now")
        wait_for(page, lambda: failures(box) > before, 30, "the worker to run the requested sync")
        page.reload()
        expect(page.locator("#last-error")).to_contain_text(TIMED_OUT)
        shots(page, "sync-1920x1080-after")
        problems.check()
    finally:
        ctx.close()
