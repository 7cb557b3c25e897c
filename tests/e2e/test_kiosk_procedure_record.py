"""The kiosk's procedure page for a real-shaped national record (cases, originals and copies, form
files, several ways with their own limits and fees), at 1080x1920 and on a phone."""
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "national_catalog.json"


def load_catalog(db_path):
    """The fixture's records on the box, as the hub's pull would write them."""
    from office.catalog import Procedure, validate
    from office.db import bind, open_database
    from office.models import MODELS
    from sync.capture import applying_remote

    db = bind(open_database(str(db_path)), MODELS)
    try:
        with applying_remote():
            for number, row in enumerate(json.loads(FIXTURE.read_text(encoding="utf-8"))):
                clean, reasons = validate(row)
                assert not reasons, reasons
                Procedure.insert(id=f"nat-{number}", commune="*", **clean).execute()
    finally:
        db.close()


def test_kiosk_tells_what_to_bring_per_case_and_way(box, browser, problems):
    load_catalog(box.db_path)
    page = problems.watch(browser.new_page(viewport={"width": 1080, "height": 1920}, locale="vi-VN"), "kiosk")
    try:
        page.goto(box.url + "/procedures/1.001193?kiosk=1")
        expect(page.locator("h1.proc-title")).to_have_text("Thủ tục đăng ký khai sinh")
        expect(page.locator("#fact-time")).to_have_text("Trong ngày làm việc")
        expect(page.locator("#fact-fee")).to_have_text("Miễn lệ phí")
        hand_in = page.locator(".doc-case").first.locator("[data-group=nop]")
        expect(hand_in).to_contain_text("Tờ khai đăng ký khai sinh")
        expect(hand_in).to_contain_text("1 bản chính")
        show = page.locator(".doc-case").first.locator("[data-group=xuat_trinh]")
        expect(show).to_contain_text("Mang bản chính để cán bộ xem")
        expect(show).to_contain_text("Thẻ căn cước hoặc hộ chiếu")
        expect(page.locator("[data-group=ghi_chu]").first).to_contain_text("Không có Giấy chứng sinh")
        expect(page.locator("[data-group=ghi_chu] .bring")).to_have_count(0)  # a note has nothing to bring
        authorised = page.locator(".doc-case[data-case='Trường hợp người đi đăng ký là người được ủy quyền']")
        expect(authorised).to_contain_text("Văn bản ủy quyền có chứng thực")
        expect(authorised).to_contain_text("1 bản sao")
        expect(page.locator(".form-qr").first).to_contain_text("Quét mã để tải mẫu To-khai-dang-ky-khai-sinh.docx")
        expect(page.locator("#levels")).to_have_text("Cấp xã")
        expect(page.locator("#result")).to_contain_text("KQ.G15.000031")
        page.screenshot(path=str(SCREENSHOTS / "kiosk-procedure-record.png"), full_page=True)

        page.get_by_role("link", name="Qua bưu chính").click()
        expect(page.locator("#fact-time")).to_have_text("3 ngày làm việc")
        expect(page.locator("#fact-fee")).to_contain_text("cước bưu chính")

        page.goto(box.url + "/procedures/1.000894?kiosk=1")
        expect(page.locator("#fact-time")).to_have_text("15 ngày")  # calendar days, never "ngày làm việc"
        expect(page.locator("#fact-fee")).to_have_text("1.500.000 đồng")
        page.get_by_role("link", name="Trực tuyến").click()
        expect(page.locator("#fact-fee")).to_have_text("750.000 đồng")
        expect(page.locator("#way-note")).to_contain_text("Giảm 50%")
        page.screenshot(path=str(SCREENSHOTS / "kiosk-procedure-online-way.png"))

        page.goto(box.url + "/procedures/1.012345?kiosk=1")
        expect(page.locator("#fact-time")).to_have_text("Không quy định thời hạn")

        # other levels are kept in the catalog, but the office's search offers xã and tỉnh only
        found = box.get_json("/api/v1/procedures?q=giay+phep+van+phong+dai+dien")
        assert all(p["code"] != "1.001612" for p in found["procedures"])
        assert box.get_json("/api/v1/procedures/1.001612")["levels"] == ["bo"]
        assert box.get_json("/api/v1/procedures?q=tranh+chap+dat+dai")["procedures"][0]["levels"] == ["tinh", "xa"]
        problems.check()
    finally:
        page.close()


def test_phone_shows_the_same_record_readably(box, browser):
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="vi-VN", is_mobile=True)
    try:
        phone.goto(box.url + "/procedures/1.001193")
        expect(phone.locator("[data-group=nop]").first).to_contain_text("Giấy chứng sinh")
        expect(phone.locator("a.form-file").first).to_have_attribute("href", re.compile(r"^https://dichvucong"))
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
        phone.screenshot(path=str(SCREENSHOTS / "phone-procedure-record.png"), full_page=True)
    finally:
        phone.close()
