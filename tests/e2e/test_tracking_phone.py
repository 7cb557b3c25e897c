"""Tracking on a citizen's phone (390x844), through the public address the QR codes point at (the
hub by default): a supplement request says what to bring, that the deadline is paused and the date
it moves to; a ready result says where and when to collect; a ticket's QR code opens at the hub;
the pages reload themselves; no serious accessibility violation. The desk (1366x768) asks for a
confirmation before an irreversible step."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.accessibility import assert_accessible
from tests.e2e.test_dossier_journey import box, hub  # noqa: F401  (a linked hub and box)

from .conftest import page_headers, sync_box

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 768}


def _sign_in_desk(page, url):
    page.goto(url + "/counter")
    page.get_by_label("Tên đăng nhập").fill("canbo2")
    page.get_by_label("Mật khẩu").fill("motcua123")
    page.get_by_label("Quầy làm việc").select_option(label="Quầy số 2")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("button", name="Gọi số tiếp")).to_be_visible()


def _receive(page, url, name):
    page.goto(url + "/dossiers/new?procedure=1.001193")
    page.get_by_label("Họ và tên người nộp *").fill(name)
    page.locator("#components input[type=checkbox]").first.check()
    page.get_by_role("button", name="Tiếp nhận hồ sơ").click()
    expect(page.locator("#dossier-status")).to_have_text("Được tiếp nhận")
    code = page.locator("#dossier-code").inner_text().strip()
    secret = page.locator("#dossier-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{6}", secret), secret
    return code, secret


def test_tracking_on_a_phone_says_what_to_do(hub, box, browser, shots, problems):  # noqa: F811
    office_pc = browser.new_context(viewport=DESK)
    phone_ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        desk = problems.watch(office_pc.new_page(), "desk")
        _sign_in_desk(desk, box.url)
        code, secret = _receive(desk, box.url, "Trần Thị Bình")

        # The slip's QR code holds the hub's tracking address, not the box's LAN address.
        slip = desk.context.request.get(f"{box.url}/dossiers/{code}/slip").text()
        assert f"{hub.url}/tracking" in slip

        # Papers are missing: the desk asks for them (form 02).
        desk.locator("#act-supplement summary").click()
        desk.get_by_label("Giấy tờ cần bổ sung, hoàn thiện *").fill("Bản sao giấy chứng sinh có chứng thực")
        desk.get_by_role("button", name="Lập yêu cầu bổ sung").click()
        expect(desk.locator("#dossier-status")).to_have_text("Yêu cầu bổ sung giấy tờ")
        sync_box(box)

        phone = problems.watch(phone_ctx.new_page(), "phone")
        phone.goto(f"{hub.url}/tracking?code={code}&secret={secret}")
        todo = phone.locator("#todo")
        expect(todo).to_contain_text("Cần quý khách bổ sung giấy tờ")
        expect(todo).to_contain_text("Giấy tờ cần mang đến: Bản sao giấy chứng sinh có chứng thực")
        expect(todo).to_contain_text("Thời hạn giải quyết đang tạm dừng")
        expect(todo).to_contain_text("ngày hẹn trả kết quả mới sẽ là")
        expect(phone.locator("#steps li[aria-current=step]")).to_have_text("Chờ quý khách bổ sung giấy tờ")
        expect(phone.locator("#refresh-toggle")).to_be_visible()  # the script reloads it, and can be paused
        assert '<noscript><meta http-equiv="refresh"' in phone.content()  # and without scripts, so does the browser
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"
        assert_accessible(phone)
        shots(phone, "tracking-phone-supplement", full_page=True)

        # The papers come, the result is ready: confirmed at the desk, then the phone says where and when.
        desk.get_by_role("button", name="Nhận đủ, tiếp tục xử lý").click()
        expect(desk.locator("#dossier-status")).to_have_text("Đang xử lý")
        desk.locator("#act-finish summary").click()
        expect(desk.locator("#confirm-finish")).to_be_visible()
        desk.locator("#act-finish button").scroll_into_view_if_needed()
        shots(desk, "desk-confirm-finish")
        desk.get_by_role("button", name="Xác nhận đã xử lý xong").click()  # not ticked: the browser stops it
        expect(desk.locator("#dossier-status")).to_have_text("Đang xử lý")
        desk.locator("#confirm-finish").check()
        desk.get_by_role("button", name="Xác nhận đã xử lý xong").click()
        expect(desk.locator("#dossier-status")).to_have_text("Đã xử lý xong")
        sync_box(box)
        phone.reload()
        expect(todo).to_contain_text("Đã có kết quả – mời quý khách đến nhận")
        expect(todo).to_contain_text("Nơi nhận: Trung tâm Phục vụ hành chính công của UBND Phường Sông Công")
        expect(todo).to_contain_text("07:00–11:30 và 13:30–17:00")
        expect(phone.locator("#steps li[aria-current=step]")).to_have_text("Có kết quả, chờ nhận")
        assert_accessible(phone)
        shots(phone, "tracking-phone-ready", full_page=True)

        # A queue ticket's QR code opens at the hub too, once the box has sent it.
        ticket = desk.context.request.post(box.url + "/api/v1/tickets", data={"service": "ho-tich"},
                                           headers=page_headers(desk.context, box.url)).json()
        assert ticket["qr"] == f"{hub.url}/t/{ticket['tracking_code']}"
        sync_box(box)
        phone.goto(ticket["qr"])
        expect(phone.locator("#ticket")).to_contain_text(ticket["number"])
        expect(phone.locator("#ticket")).to_contain_text("Đang chờ đến lượt")
        expect(phone.locator("#refresh-toggle")).to_be_visible()
        assert_accessible(phone)
        shots(phone, "tracking-phone-ticket", full_page=True)
        problems.check()
    finally:
        for ctx in (office_pc, phone_ctx):
            ctx.close()


def test_the_hub_pages_share_one_navigation_bar(hub, browser, shots, problems):  # noqa: F811
    from tests.e2e.hub_signin import sign_in

    ctx = browser.new_context(viewport=DESK)
    try:
        page = problems.watch(ctx.new_page(), "hub")
        sign_in(page, hub.url, *hub.account("ops", "operator"))
        menus = {}
        for path in ("/", "/stats", "/agency", "/catalog", "/reminders", "/notifications", "/accounts", "/audit"):
            page.goto(hub.url + path)
            menus[path] = page.locator("nav.hubnav a").all_inner_texts()
            if path == "/stats":
                shots(page, "hub-stats-nav")
        first = menus["/"]
        assert first[:3] == ["Trung tâm", "Thống kê", "Hồ sơ liên thông"], first
        assert all(menu == first for menu in menus.values()), menus
        problems.check()
    finally:
        ctx.close()
