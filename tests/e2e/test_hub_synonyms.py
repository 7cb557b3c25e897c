"""The hub's synonyms page in Chromium (1366x768): the seeded defaults listed, one added with the
form, a refused one explained with the input kept, one switched off."""
import pytest
from playwright.sync_api import expect

from tests.e2e.accessibility import assert_accessible
from tests.e2e.hub_signin import sign_in
from tests.sync.conftest import HubProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_operator_edits_search_synonyms(browser, shots, problems, tmp_path):
    hub = HubProcess(tmp_path / "hub").start()
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    try:
        page = problems.watch(context.new_page(), "hub-synonyms")
        sign_in(page, hub.url, *hub.account(role="operator"), then="/catalog")
        page.get_by_role("link", name="Từ đồng nghĩa khi tìm").click()
        rows = page.locator("#synonyms tbody tr")
        expect(rows).to_have_count(9)  # the defaults
        page.get_by_label("Người dân gõ", exact=True).first.fill("làm căn cước")
        page.get_by_label("Tìm theo từ của danh mục", exact=True).first.fill("cấp thẻ căn cước")
        page.get_by_role("button", name="Thêm").click()
        expect(page.locator(".flash")).to_contain_text("Đã thêm “làm căn cước” → “cấp thẻ căn cước”")
        expect(rows).to_have_count(10)
        page.get_by_label("Người dân gõ", exact=True).first.fill("so do")
        page.get_by_label("Tìm theo từ của danh mục", exact=True).first.fill("đất")
        page.get_by_role("button", name="Thêm").click()
        expect(page.locator(".reasons")).to_contain_text("“sổ đỏ” đã có")
        expect(page.locator("#phrase")).to_have_value("so do")
        assert_accessible(page)
        shots(page, "hub-synonyms-refused")
        page.goto(hub.url + "/catalog/synonyms")
        row = rows.filter(has=page.locator('input[value="báo tử"]'))
        row.get_by_role("button", name="Thôi dùng").click()
        expect(rows.filter(has=page.locator('input[value="báo tử"]'))).to_contain_text("Thôi dùng")
        assert_accessible(page)
        shots(page, "hub-synonyms", full_page=True)
        problems.check(expected_http=("/catalog/synonyms",))
    finally:
        context.close()
        hub.close()
