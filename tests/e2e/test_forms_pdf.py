"""Forms 01–07 of Circular 03/2025/TT-VPCP printed from the dossier desk in Chromium: each one to a
PDF (A4, A5 for the slip; the page size the form's CSS asks for) and to a PNG that was looked at."""
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import SCREENSHOTS
from .test_cccd_scan import add_procedure, open_receipt_form

pytestmark = pytest.mark.e2e

TITLES = {
    "01": "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
    "02": "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
    "03": "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
    "04": "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT",
    "05": "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
    "06": "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
    "07": "SỔ THEO DÕI HỒ SƠ",
}


def make_dossiers(db_path):
    """Three dossiers on the box, as the desk makes them: one supplemented and late (02, 04, 06),
    one refused (03), one stopped (05). Returns their codes and the month they were received."""
    from office import dossiers
    from office.calendar import WorkCalendar
    from office.db import bind, open_database
    from office.models import MODELS, Office, Procedure

    add_procedure(db_path)
    db = bind(open_database(str(db_path)), MODELS)
    try:
        procedure = Procedure.get(Procedure.code == "1.001193")
        agency, calendar = Office.get().agency_code, WorkCalendar()
        t = datetime(2026, 3, 2, 9, 15)
        applicant = {"name": "Nguyễn Văn An", "address": "Tổ 5, phường Sông Công"}
        late = dossiers.receive(calendar, procedure, applicant, agency, officer="canbo1", now=t)
        dossiers.request_supplement(late, "Thiếu giấy chứng sinh bản chính", actor="canbo1", now=t + timedelta(hours=1))
        dossiers.resume(calendar, late, procedure, actor="canbo1", now=t + timedelta(days=1))
        dossiers.apologize(late, late.due_at + timedelta(days=2), "Chờ xác minh", actor="canbo1",
                           now=late.due_at + timedelta(hours=1))
        refused = dossiers.receive(calendar, procedure, applicant, agency, officer="canbo1", now=t)
        dossiers.refuse(refused, "Không thuộc thẩm quyền của phường", actor="canbo1", now=t)
        stopped = dossiers.receive(calendar, procedure, applicant, agency, officer="canbo1", now=t)
        dossiers.stop(stopped, "Quá hạn bổ sung giấy tờ mà công dân không bổ sung", actor="canbo1",
                      now=t + timedelta(days=20))
        return late.code, refused.code, stopped.code
    finally:
        db.close()


def test_forms_01_to_07_print_to_pdf_and_png(box, browser, problems):
    late, refused, stopped = make_dossiers(box.db_path)
    pages = {"01": f"/dossiers/{late}/slip", "02": f"/dossiers/{late}/forms/02",
             "03": f"/dossiers/{refused}/forms/03", "04": f"/dossiers/{late}/forms/04",
             "05": f"/dossiers/{stopped}/forms/05", "06": f"/dossiers/{late}/forms/06",
             "07": "/dossiers/register?from=2026-03-01&to=2026-03-31"}
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    try:
        page = problems.watch(context.new_page(), "desk")
        open_receipt_form(page, box.url)
        for form, path in pages.items():
            page.goto(box.url + path)
            expect(page.locator("h1").first).to_have_text(TITLES[form], ignore_case=True)
            expect(page.locator("body")).to_contain_text(f"Mẫu số {form}")
            expect(page.locator("body")).not_to_contain_text("Bộ phận tiếp nhận và trả kết quả", ignore_case=True)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            pdf = SCREENSHOTS / f"form-{form}.pdf"
            pdf.write_bytes(page.pdf(prefer_css_page_size=True, print_background=True))
            assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000
            page.emulate_media(media="print")
            page.screenshot(path=str(SCREENSHOTS / f"form-{form}.png"), full_page=True)
            page.emulate_media(media="screen")
        page.goto(f"{box.url}/dossiers/{stopped}")
        expect(page.locator("#dossier-status")).to_have_text("Dừng xử lý")
        problems.check()
    finally:
        context.close()


def test_desk_stops_a_dossier_from_its_page(box, browser, shots):
    """The "Dừng giải quyết" action on the desk: reason asked, status 8, form 05 offered."""
    add_procedure(box.db_path)  # not left to the tests before it (run alone, it found no procedure)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    try:
        page = context.new_page()
        open_receipt_form(page, box.url)
        page.locator("#name").fill("Lê Thị Bình")
        page.locator("#components input[type=checkbox]").first.check()
        page.locator("#receive-submit").click()
        expect(page.locator("#dossier-status")).to_have_text("Được tiếp nhận")
        page.locator("#act-stop summary").click()
        page.locator("#s-reason").fill("Công dân không bổ sung giấy tờ trong thời hạn")
        page.locator("#confirm-stop").check()  # an irreversible step: the officer confirms it
        page.get_by_role("button", name="Dừng giải quyết, lập thông báo").click()
        expect(page.locator("#dossier-status")).to_have_text("Dừng xử lý")
        expect(page.get_by_role("link", name="Mẫu 05 · Thông báo dừng giải quyết hồ sơ")).to_be_visible()
        shots(page, "dossier-stopped", full_page=True)
    finally:
        context.close()
