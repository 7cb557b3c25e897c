"""Accounts at the hub in Chromium: the first operator signs in with the setup password, must set a
new one, creates a commune leader; the leader signs in with the temporary password, sets their own,
and sees only their pages."""
import re

import pytest
from playwright.sync_api import expect

from tests.sync.conftest import OPERATOR_PASSWORD, HubProcess

from .hub_signin import sign_in

pytestmark = [pytest.mark.e2e]
VIEW = {"width": 1366, "height": 768}


@pytest.fixture
def hub(tmp_path):
    process = HubProcess(tmp_path / "hub").start()
    yield process
    process.close()


def set_password(page, current, new):
    page.get_by_label("Mật khẩu hiện tại").fill(current)
    page.get_by_label("Mật khẩu mới (ít nhất 10 ký tự)").fill(new)
    page.get_by_label("Nhập lại mật khẩu mới").fill(new)
    page.get_by_role("button", name="Đổi mật khẩu").click()
    page.wait_for_load_state()


def test_first_operator_creates_a_leader_who_sees_only_their_pages(hub, browser, shots, problems):
    operator_ctx, leader_ctx = browser.new_context(viewport=VIEW), browser.new_context(viewport=VIEW)
    try:
        page = problems.watch(operator_ctx.new_page(), "operator")
        page.goto(hub.url + "/accounts")
        expect(page).to_have_url(re.compile(r"/signin\?next=/accounts$"))
        shots(page, "hub-signin")
        sign_in(page, hub.url, "admin", "not-the-password", then="/accounts")
        expect(page.locator("#signin-error")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")
        sign_in(page, hub.url, "admin", OPERATOR_PASSWORD, then="/accounts")
        expect(page).to_have_url(re.compile(r"/account/password$"))  # the setup password must change first
        set_password(page, OPERATOR_PASSWORD, "quan-tri-trung-tam-2026")

        page.goto(hub.url + "/accounts")
        page.get_by_label("Tên đăng nhập").fill("lanhdao.songcong")
        page.get_by_label("Họ tên").fill("Nguyễn Văn Lãnh")
        page.get_by_label("Vai trò").select_option("leader")
        page.get_by_label("Mã xã/phường (lãnh đạo, xem thống kê)").fill("05518")
        page.get_by_label("Điện thoại (nhận nhắc việc)").fill("0912000111")
        page.get_by_role("button", name="Tạo tài khoản").click()
        temporary = page.locator("#created code").inner_text()
        expect(page.locator("#accounts")).to_contain_text("Phường Sông Công")
        shots(page, "hub-accounts", full_page=True)

        leader = problems.watch(leader_ctx.new_page(), "leader")
        sign_in(leader, hub.url, "lanhdao.songcong", temporary)
        set_password(leader, temporary, "lanh-dao-song-cong-1")
        expect(leader).to_have_url(re.compile(r"/stats$"))
        nav = leader.locator("nav.hubnav, .topbar nav").first.inner_text()
        assert "Thống kê" in nav and "Nhắc việc" in nav and "Tài khoản" not in nav and "Danh mục" not in nav
        assert leader.goto(hub.url + "/accounts").status == 403
        leader.goto(hub.url + "/reminders")
        expect(leader.locator("#c-account")).to_contain_text("Nguyễn Văn Lãnh")

        page.goto(hub.url + "/audit")
        expect(page.locator("#audit")).to_contain_text("lanhdao.songcong")
        shots(page, "hub-audit")
        problems.check(expected_http=("/signin", "/accounts"))
    finally:
        operator_ctx.close()
        leader_ctx.close()
