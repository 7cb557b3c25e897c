"""The technician console on a real box in a real Chromium: a box whose printer cannot be
reached and whose hub is down shows both as readable Vietnamese problems with what to do."""
import json
import zipfile

import pytest
from playwright.sync_api import expect
from werkzeug.security import generate_password_hash

from .conftest import Box, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "kythuat-Song-Cong-2026"
PRINTER_PROBLEM = "Máy in không kết nối: kiểm tra cáp USB và nguồn máy in, rồi bấm In thử"
HUB_PROBLEM = "Kiểm tra dây mạng/modem; hộp vẫn hoạt động và sẽ tự gửi dữ liệu khi có mạng."


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    """A box (web server only) with a network printer and a hub on ports nobody listens on.

    Named ``box`` so that the conftest's report hook shows its log when a test fails."""
    base = tmp_path_factory.mktemp("console-box")
    password_hash = generate_password_hash(PASSWORD)
    extra = ("--printer", f"network:127.0.0.1:{free_port()}", "--hub-url", f"http://127.0.0.1:{free_port()}",
             "--technician-password-hash", password_hash, "--restart-commands", "Dịch vụ thử=true")
    b = Box(base / "data", base / "box.log", extra=extra, worker=False).start()
    b.password_hash = password_hash
    yield b
    b.stop()


def sign_in(page, box, password=PASSWORD):
    page.goto(box.url + "/console")
    expect(page.get_by_role("heading", name="Đăng nhập kỹ thuật")).to_be_visible()
    page.get_by_label("Mật khẩu kỹ thuật").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def test_console_shows_a_disconnected_printer_and_an_unreachable_hub(box, browser, shots, problems, tmp_path):
    laptop = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                has_touch=True)
    try:
        page = problems.watch(laptop.new_page(), "console")
        page.goto(box.url + "/console")
        expect(page).to_have_url(box.url + "/console/login")
        shots(page, "console-01-login")

        sign_in(page, box, "mat-khau-sai")
        expect(page.get_by_role("alert")).to_have_text("Mật khẩu kỹ thuật không đúng.")
        shots(page, "console-02-login-error")

        sign_in(page, box)
        expect(page).to_have_url(box.url + "/console/")
        summary = page.locator("#summary")
        expect(summary).to_contain_text("sự cố cần xử lý")

        printer = page.locator("[data-check=printer]")
        expect(printer).to_have_attribute("data-status", "problem")
        expect(printer).to_contain_text("Sự cố")
        expect(printer.locator(".remedy")).to_be_visible()
        expect(printer.locator(".remedy")).to_contain_text(PRINTER_PROBLEM)
        expect(printer.locator(".value")).to_contain_text("bị từ chối kết nối")

        hub = page.locator("[data-check=hub]")
        expect(hub).to_have_attribute("data-status", "problem")
        expect(hub.locator(".value")).to_contain_text("Không kết nối được")
        expect(hub.locator(".remedy")).to_be_visible()
        expect(hub.locator(".remedy")).to_contain_text(HUB_PROBLEM)
        # problems come first, before the checks that are fine
        keys = page.locator("[data-check]").evaluate_all("nodes => nodes.map(n => n.dataset.check)")
        assert set(keys[:2]) == {"printer", "hub"}, keys
        expect(page.locator("[data-check=database]")).to_contain_text("Bình thường")
        shots(page, "console-03-health")
        shots(page, "console-04-health-full", full_page=True)

        # Test print: through the printer path, the failure is shown with what to do.
        page.get_by_role("button", name="In thử").click()
        result = page.locator("[data-result]").first
        expect(result).to_have_attribute("data-result", "bad")
        expect(result).to_contain_text("In thử thất bại")
        expect(result).to_contain_text(PRINTER_PROBLEM)
        page.locator("#actions").scroll_into_view_if_needed()
        page.evaluate("window.scrollTo(0, 0)")
        shots(page, "console-05-test-print-failed")

        # Restart of a configured service: a harmless command, its exit code shown.
        page.get_by_role("button", name="Khởi động lại: Dịch vụ thử").click()
        result = page.locator("[data-result]").first
        expect(result).to_have_attribute("data-result", "ok")
        expect(result).to_contain_text("Đã khởi động lại “Dịch vụ thử” (mã thoát 0)")

        # Support bundle: a zip without any secret.
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Tải gói hỗ trợ (.zip)").click()
        download = download_info.value
        assert download.suggested_filename.startswith("motcua-ho-tro-05518-")
        path = tmp_path / "bundle.zip"
        download.save_as(path)
        with zipfile.ZipFile(path) as bundle:
            names = bundle.namelist()
            everything = "\n".join(bundle.read(n).decode("utf-8") for n in names)
            health = {r["key"]: r for r in json.loads(bundle.read("health.json"))}
        assert health["printer"]["remedy"] == PRINTER_PROBLEM and health["hub"]["remedy"] == HUB_PROBLEM
        assert not any(n.startswith("keys/") for n in names)
        secret_key = (box.data_dir / "secret_key").read_text().strip()
        private_key = (box.data_dir / "keys" / "box.key").read_bytes()
        assert secret_key not in everything and box.password_hash not in everything and PASSWORD not in everything
        assert private_key not in everything.encode()

        # The same page on a phone on the office LAN.
        mobile = problems.watch(phone.new_page(), "console-phone")
        sign_in(mobile, box)
        expect(mobile.locator("[data-check=printer] .remedy")).to_contain_text(PRINTER_PROBLEM)
        expect(mobile.locator("[data-check=hub] .remedy")).to_contain_text(HUB_PROBLEM)
        shots(mobile, "console-06-phone")
        width = mobile.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"

        page.get_by_role("button", name="Đăng xuất").click()
        expect(page.locator(".notice-box")).to_have_text("Đã đăng xuất.")
        page.goto(box.url + "/console/")
        expect(page).to_have_url(box.url + "/console/login")

        # Guessing the password: after 5 failures in 10 minutes the address waits.
        for _ in range(5):
            sign_in(page, box, "doan-mat-khau")
        expect(page.get_by_role("alert")).to_contain_text("Nhập sai mật khẩu quá 5 lần")
        expect(page.get_by_role("alert")).to_contain_text("thử lại sau khoảng 10 phút")
        shots(page, "console-07-too-many-attempts")
        problems.check(expected_http=["/console/login"])
    finally:
        laptop.close()
        phone.close()
