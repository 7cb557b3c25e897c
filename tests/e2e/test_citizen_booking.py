"""A citizen books a time on a phone (390x844) and is served at the kiosk (1080x1920): a real hub with
its worker (the SMS outbox sends to a fake brandname gateway on 127.0.0.1), a real box linked to it,
Chromium. The commune's plan is set on the hub's page (1366x768)."""
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.central.fakes import FakeSms
from tests.e2e.accessibility import assert_accessible
from tests.e2e.hub_signin import sign_in
from tests.sync.conftest import HubProcess

from .conftest import COMMUNE, linked_box, sync_box

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 768}
KIOSK = {"width": 1080, "height": 1920}
NUMBER = "0912 345 678"


@pytest.fixture(scope="module")
def sms():
    gateway = FakeSms().start()
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def hub(tmp_path_factory, sms):
    """The hub and its worker, texting through the fake gateway."""
    env = {"MOTCUA_SMS_URL": sms.url, "MOTCUA_SMS_API_KEY": "AK", "MOTCUA_SMS_SECRET_KEY": "SK",
           "MOTCUA_SMS_BRANDNAME": "UBND", "MOTCUA_CITIZEN_CHANNELS": "sms", "MOTCUA_WORKER_PERIOD_SECONDS": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    base = tmp_path_factory.mktemp("hub")
    process = HubProcess(base / "data").start()
    worker = subprocess.Popen([sys.executable, "-m", "motcua", "hub", "worker", *map(str, process.args)],
                              stdout=process.log, stderr=process.log, start_new_session=True)
    try:
        yield process
    finally:
        worker.terminate()
        worker.wait(15)
        process.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def box(hub, tmp_path_factory):
    base = tmp_path_factory.mktemp("booking-box")
    b = linked_box(hub, base, COMMUNE)  # synced once: the box's services reach the hub
    yield b
    b.stop()


def texts_to(gateway, pattern, timeout=30):
    """Texts the gateway got matching ``pattern``, waiting for the first (the worker sends them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for b in gateway.bodies() if (m := re.search(pattern, b.get("Content", "")))]
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no text matching {pattern!r}: {gateway.bodies()}")


def test_book_on_a_phone_and_take_the_ticket_at_the_kiosk(hub, box, sms, browser, shots, problems):
    today = datetime.now(timezone.utc).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    if today.hour >= 16:
        pytest.skip("today's slots are over in Vietnam: the kiosk honours today's bookings only")
    # today is a working day for this hub (the test may run on a weekend or a holiday)
    hub.api("POST", "/api/v1/holidays", json={"day": today.date().isoformat(), "name": "Ngày làm bù (thử)",
                                              "kind": "working"})
    name, password = hub.account("ops")
    office_pc = browser.new_context(viewport=DESK)
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    kiosk_ctx = browser.new_context(viewport=KIOSK)
    try:
        # 1. The hub's operator opens bookings for civil status (Hộ tịch) of the commune: 2 places a slot.
        desk = problems.watch(office_pc.new_page(), "desk")
        sign_in(desk, hub.url, name, password, then="/dat-lich")
        desk.goto(hub.url + "/dat-lich")
        desk.get_by_label("Dịch vụ").select_option(value="ho-tich")
        desk.get_by_label("Số chỗ mỗi khung").fill("2")
        desk.get_by_role("button", name="Lưu").click()
        expect(desk.locator("#plans")).to_contain_text("Hộ tịch")
        shots(desk, "citizen-booking-00-hub-plan")

        # 2. On the phone: the number, the code from the SMS, the consent.
        page = problems.watch(phone.new_page(), "phone")
        page.goto(hub.url + "/cong-dan/")
        expect(page.get_by_role("heading", name="Đăng nhập bằng số điện thoại")).to_be_visible()
        page.get_by_label("Số điện thoại di động").fill(NUMBER)
        assert_accessible(page)
        shots(page, "citizen-booking-01-phone-sign-in")
        page.get_by_role("button", name="Gửi mã xác nhận").click()
        expect(page.get_by_label("Mã xác nhận")).to_be_visible()
        code = texts_to(sms, r"Ma xac thuc cong dan cua quy khach: (\d{6})")[-1].group(1)
        page.get_by_label("Mã xác nhận").fill("000000" if code != "000000" else "111111")
        page.get_by_role("button", name="Xác nhận").click()
        expect(page.get_by_role("alert")).to_contain_text("Mã không đúng. Quý khách còn 4 lần thử.")
        assert_accessible(page)
        shots(page, "citizen-booking-02-wrong-code")
        page.get_by_label("Mã xác nhận").fill(code)
        page.get_by_role("button", name="Xác nhận").click()
        expect(page.get_by_role("heading", name="Đồng ý xử lý dữ liệu cá nhân")).to_be_visible()
        assert_accessible(page)
        shots(page, "citizen-booking-03-consent", full_page=True)
        page.get_by_label("Tôi đã đọc và đồng ý").check()
        page.get_by_role("button", name="Tiếp tục").click()
        expect(page.get_by_role("heading", name="Trang của tôi")).to_be_visible()
        assert_accessible(page)
        shots(page, "citizen-booking-04-home")

        # 3. Book today's first slot with places left.
        page.get_by_role("link", name=re.compile("Đặt lịch đến làm thủ tục")).click()
        page.get_by_label("Hộ tịch", exact=True).check()
        assert_accessible(page)
        shots(page, "citizen-booking-05-services")
        page.get_by_role("button", name="Chọn ngày giờ").click()
        expect(page.locator(".days a.on")).to_contain_text(today.strftime("%d/%m"))
        first = page.locator(".choice input:not([disabled])").first
        slot = first.get_attribute("value")
        page.locator(f"label[for='slot-{slot}']").click()
        assert_accessible(page)
        shots(page, "citizen-booking-06-slots")
        page.get_by_role("button", name="Đặt lịch").click()
        expect(page.get_by_role("status")).to_contain_text("Đã đặt lịch")
        booking_code = page.locator(".code").inner_text().strip()
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{8}", booking_code), booking_code
        expect(page.locator(".qr svg")).to_be_visible()
        assert_accessible(page)
        shots(page, "citizen-booking-07-booking-qr", full_page=True)
        texted = texts_to(sms, rf"lich hen {booking_code} \(Ho tich\) luc {slot}")
        assert texted
        page.goto(hub.url + "/cong-dan/")
        expect(page.locator("#my-bookings")).to_contain_text(booking_code)

        # 4. At the office: the box has the booking after its sync; the kiosk takes the code.
        sync_box(box)
        kiosk = problems.watch(kiosk_ctx.new_page(), "kiosk")
        kiosk.goto(box.url + "/kiosk")
        shots(kiosk, "citizen-booking-08-kiosk-start")
        kiosk.get_by_role("button", name=re.compile("Tôi đã đặt lịch")).click()
        kiosk.get_by_label("Mã lịch hẹn").fill(booking_code.lower())
        shots(kiosk, "citizen-booking-09-kiosk-code")
        kiosk.get_by_role("button", name="Lấy số").click()
        expect(kiosk.locator("#t-number")).to_have_text(re.compile(r"A-\d{3}"))
        expect(kiosk.locator("#t-booking")).to_contain_text(f"Có lịch hẹn lúc {slot}")
        shots(kiosk, "citizen-booking-10-kiosk-ticket")
        # the same code again: refused, said plainly
        kiosk.get_by_role("button", name="Xong").click()
        kiosk.get_by_role("button", name=re.compile("Tôi đã đặt lịch")).click()
        kiosk.get_by_label("Mã lịch hẹn").fill(booking_code)
        kiosk.get_by_role("button", name="Lấy số").click()
        expect(kiosk.locator("#kiosk-error")).to_contain_text("đã được dùng để lấy số")
        shots(kiosk, "citizen-booking-11-kiosk-used")
        sync_box(box)
        assert hub.query(f"SELECT state FROM booking WHERE code = '{booking_code}'") == [("used",)]
        problems.check(expected_http=("/cong-dan/dang-nhap/ma", "/api/v1/bookings/ticket"))  # the wrong code, the used booking
    finally:
        for context in (office_pc, phone, kiosk_ctx):
            context.close()

