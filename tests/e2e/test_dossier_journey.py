"""A dossier's journey, end to end, with a real hub and a real box (processes) in Chromium.

Kiosk ticket → the counter calls it → the officer receives a dossier for that ticket → form 01
printed (PDF and PNG) and the thermal slip → sent to an agency without a box → the agency
works on it on the hub's web → the box receives that by sync → the result is finished and
returned at the box → anyone holding the code (the QR code's text) sees "Đã trả kết quả".
"""
import re
import shutil
import subprocess
import sys
import time

import pytest
import segno
from playwright.sync_api import expect

from tests.e2e.hub_signin import sign_in
from tests.sync.conftest import HubProcess
from tests.sync.test_dossier_convergence import hub_import_catalog, write_catalog

from .conftest import COMMUNE, SCREENSHOTS, linked_box, page_headers, sync_box

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STP = "000.00.19.STP"
STP_NAME = "Sở Tư pháp tỉnh Thái Nguyên"
APPLICANT = {"name": "Nguyễn Văn An", "id_number": "001099012345", "phone": "0912345678",
             "address": "Tổ 5, phường Sông Công"}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A hub with a small catalog and one agency without a box."""
    base = tmp_path_factory.mktemp("hub")
    process = HubProcess(base / "data").start()
    hub_import_catalog(process.dir, "", write_catalog(base))
    process.api("POST", "/api/v1/agencies", json={"commune": COMMUNE, "code": STP, "name": STP_NAME})
    yield process
    process.close()


@pytest.fixture(scope="module")
def box(hub, tmp_path_factory):
    """A box (web server + worker) of the hub's commune 05518, registered, synced once."""
    base = tmp_path_factory.mktemp("linked-box")
    b = linked_box(hub, base, COMMUNE)
    yield b
    b.stop()


def page_text(page):
    return page.inner_text("body")


def pdf_text(path, page):
    """The PDF's text (pdftotext) where available; else what the page shows."""
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    return page_text(page)


def test_dossier_journey(hub, box, browser, shots, problems):
    kiosk_ctx = browser.new_context(viewport={"width": 1080, "height": 1920})
    office_pc = browser.new_context(viewport={"width": 1366, "height": 768})
    agency_pc = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        # 1. The citizen takes a number for civil status at the kiosk.
        kiosk = problems.watch(kiosk_ctx.new_page(), "kiosk")
        kiosk.goto(box.url + "/kiosk")
        kiosk.get_by_role("button", name="Lấy số thứ tự").click()
        kiosk.locator("#services [data-service=ho-tich]").click()
        kiosk.get_by_role("button", name="Không ưu tiên", exact=True).click()
        kiosk.get_by_role("button", name="Không cần tin nhắn, lấy số").click()  # the phone is optional
        expect(kiosk.locator("#t-number")).to_have_text("A-001")

        # 2. Counter 1 calls it and starts serving.
        desk = problems.watch(office_pc.new_page(), "desk")
        desk.goto(box.url + "/counter")
        desk.get_by_label("Tên đăng nhập").fill("canbo1")
        desk.get_by_label("Mật khẩu").fill("motcua123")
        desk.get_by_label("Quầy làm việc").select_option(label="Quầy số 1")
        desk.get_by_role("button", name="Đăng nhập").click()
        desk.get_by_role("button", name="Gọi số tiếp").click()
        expect(desk.locator("#current-number")).to_have_text("A-001")
        desk.get_by_role("button", name="Bắt đầu phục vụ").click()
        expect(desk.locator("#current-info")).to_contain_text("Đang phục vụ")

        # 3. The dossier is received for that ticket: procedure found while typing, no diacritics.
        desk.locator("#receive-dossier").click()
        expect(desk.locator("#ticket-banner")).to_contain_text("A-001")
        desk.locator("#procedure-q").fill("dang ky khai sinh")
        result = desk.locator("#procedure-results a[data-code='1.001193']")
        expect(result).to_contain_text("Đăng ký khai sinh")
        result.click()
        expect(desk.locator("#chosen-procedure")).to_contain_text("Đăng ký khai sinh")
        expect(desk.locator("#components input[type=checkbox]")).to_have_count(2)
        expect(desk.locator("#components input[type=checkbox]:checked")).to_have_count(0)  # nothing received yet
        shots(desk, "dossier-00-receive-unticked", full_page=True)
        for box_ in desk.locator("#components input[type=checkbox]").all():
            box_.check()
        desk.get_by_label("Họ và tên người nộp *").fill(APPLICANT["name"])
        desk.get_by_label("Số định danh cá nhân / CCCD").fill("0010990")  # a slip of the finger first
        desk.get_by_label("Số điện thoại").fill(APPLICANT["phone"])
        desk.get_by_label("Địa chỉ").fill(APPLICANT["address"])
        desk.get_by_label("In thêm giấy hẹn trên máy in nhiệt").check()
        desk.get_by_role("button", name="Tiếp nhận hồ sơ").click()
        expect(desk.locator("#receive-errors")).to_contain_text("Số định danh/CCCD phải có 12 chữ số")
        expect(desk.get_by_label("Địa chỉ")).to_have_value(APPLICANT["address"])  # the input is kept
        expect(desk.locator("#components input[type=checkbox]:checked")).to_have_count(2)  # and what was ticked
        desk.get_by_label("Số định danh cá nhân / CCCD").fill(APPLICANT["id_number"])
        shots(desk, "dossier-01-receive", full_page=True)
        desk.get_by_role("button", name="Tiếp nhận hồ sơ").click()
        expect(desk.locator(".flash").first).to_contain_text("Đã tiếp nhận hồ sơ")
        code = desk.locator("#dossier-code").inner_text().strip()
        assert re.fullmatch(r"000\.19\.05518-\d{6}-0001", code), code
        due = desk.locator("#due-box .when").inner_text().strip()
        assert re.fullmatch(r"\d\d:\d\d \d\d/\d\d/\d{4}", due), due
        expect(desk.locator("#dossier-status")).to_have_text("Được tiếp nhận")
        expect(desk.locator("#dossier-card")).to_contain_text("A-001")
        shots(desk, "dossier-02-received", full_page=True)

        # 4. Form 01 opens in its own tab, printable on A5: PDF and PNG.
        with office_pc.expect_page() as opened:
            desk.locator("#open-slip").click()
        slip = problems.watch(opened.value, "slip")
        slip.wait_for_load_state()
        expect(slip.locator("#slip-code")).to_have_text(code)
        pdf = SCREENSHOTS / "dossier-slip.pdf"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        slip.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
        data = pdf.read_bytes()
        assert data[:5] == b"%PDF-" and len(re.findall(rb"/Type\s*/Page[^s]", data)) == 1  # one A5 sheet
        for words in (pdf_text(pdf, slip), page_text(slip)):
            assert code in words and due in words
        assert "Nguyễn Thị Lan" in page_text(slip)
        secret = slip.locator("#slip-secret").inner_text().strip()
        assert re.fullmatch(r"[A-Z2-9]{6}", secret), secret
        qr_text = f"{hub.url}/tracking?code={code}&secret={secret}"  # the public tracking page (the hub's)
        qr_path = slip.locator("#slip-codes svg.segno path").get_attribute("d")
        assert qr_path == re.search(r' d="([^"]+)"', segno.make(qr_text, error="m").svg_inline(border=1)).group(1)
        expect(slip.locator("#slip-codes svg.barcode rect")).not_to_have_count(0)
        shots(slip, "dossier-03-slip", full_page=True)
        slip.close()
        prints = box.data_dir / "prints"  # and the worker printed the thermal slip (preview printer)
        deadline = time.monotonic() + 20
        while not list(prints.glob("slip-*.png")) and time.monotonic() < deadline:
            desk.wait_for_timeout(200)
        assert list(prints.glob("slip-*.png")), "the worker did not print the thermal slip"
        shutil.copy(next(prints.glob("slip-*.png")), SCREENSHOTS / "dossier-thermal-slip.png")

        # 5. The officer sends it to the provincial department of justice (liên thông).
        desk.locator("#act-transfer summary").click()
        desk.get_by_label("Bước xử lý *").fill("Chuyển liên thông")
        desk.get_by_label("Cơ quan", exact=True).select_option(STP)
        desk.get_by_role("button", name="Chuyển", exact=True).click()
        expect(desk.locator("#dossier-agency")).to_have_text(STP_NAME)
        expect(desk.locator("#dossier-status")).to_have_text("Đang xử lý")
        assert "Đã gửi" in sync_box(box)

        # 6. The department works on it on the hub's web, then hands it back to the commune.
        agency = problems.watch(agency_pc.new_page(), "agency")
        sign_in(agency, hub.url, *hub.account("stp", "agency", agency=STP), then="/agency")
        row = agency.locator("#agency-dossiers tr", has_text=code)
        expect(row).to_contain_text("Chuyển liên thông")
        expect(row).to_contain_text("UBND Phường Sông Công")
        shots(agency, "dossier-04-hub-agency", full_page=True)
        row.get_by_role("link", name=code).click()
        agency.get_by_label("Bước xử lý *").fill("Thẩm định hồ sơ")
        agency.get_by_label("Người xử lý").fill("Phòng Hành chính tư pháp")
        agency.get_by_role("button", name="Chuyển bước").click()
        expect(agency.locator("#dossier-stage")).to_have_text("Thẩm định hồ sơ")
        expect(agency.locator("#history")).to_contain_text(STP_NAME)
        shots(agency, "dossier-05-hub-dossier", full_page=True)
        agency.locator("#r-note").fill("Đã thẩm định, đủ điều kiện")
        agency.get_by_role("button", name="Chuyển trả về xã").click()
        expect(agency.locator(".flash")).to_contain_text("Đã chuyển hồ sơ về UBND Phường Sông Công")
        expect(agency.locator("#agency-dossiers tr", has_text=code)).to_have_count(0)

        # 7. The box takes the hub's work in by sync (asked through its API), the officer sees it.
        deadline, asked = time.monotonic() + 40, 0.0
        while True:
            if time.monotonic() - asked > 5:  # again, should a periodic sync hold the worker's lock
                answer = desk.request.post(box.url + "/api/v1/sync", headers=page_headers(desk.context, box.url))
                assert answer.status == 202, answer.text()
                asked = time.monotonic()
            desk.reload()
            if "Thẩm định hồ sơ" in desk.locator("#history").inner_text() and \
                    desk.locator("#dossier-stage").inner_text() == "Trả kết quả":
                break
            assert time.monotonic() < deadline, "the box did not receive the hub's update"
            desk.wait_for_timeout(500)
        expect(desk.locator("#dossier-agency")).to_have_count(0)  # back at the commune
        expect(desk.locator("#history")).to_contain_text("Đã thẩm định, đủ điều kiện")
        expect(desk.locator("#came-back")).to_contain_text("Hồ sơ được chuyển trả về từ cơ quan liên thông")
        shots(desk, "dossier-06-box-synced", full_page=True)
        desk.goto(box.url + "/dossiers")  # the desk's list says so first
        expect(desk.locator("#came-back")).to_contain_text(code)
        expect(desk.locator("#came-back")).to_contain_text("Đã thẩm định, đủ điều kiện")
        shots(desk, "dossier-06b-came-back-list")
        desk.locator("#came-back a", has_text=code).click()

        # 8. The result is finished and returned at the box.
        desk.locator("#act-finish summary").click()
        desk.get_by_role("button", name="Xác nhận đã xử lý xong").click()  # not confirmed: nothing happens
        expect(desk.locator("#dossier-status")).to_have_text("Đang xử lý")
        desk.locator("#confirm-finish").check()
        desk.get_by_role("button", name="Xác nhận đã xử lý xong").click()
        expect(desk.locator("#dossier-status")).to_have_text("Đã xử lý xong")
        desk.locator("#confirm-return").check()
        desk.get_by_role("button", name="Đã trả kết quả").click()
        expect(desk.locator("#dossier-status")).to_have_text("Đã trả kết quả")
        shots(desk, "dossier-07-returned", full_page=True)
        desk.goto(box.url + "/dossiers")
        expect(desk.locator("#dossier-list")).to_contain_text(code)
        expect(desk.locator("#dossier-list")).to_contain_text("Đã trả kết quả")
        shots(desk, "dossier-08-list")
        desk.goto(box.url + f"/dossiers/{code}/forms/06")
        expect(desk.locator("#control-sheet")).to_contain_text("Trả kết quả")
        shots(desk, "dossier-09-control-sheet", full_page=True)

        # 9. The code alone says only that the dossier exists; with the slip's secret (its QR code
        # opens the page with both) anyone sees where it stands; never the ID or phone.
        kiosk.goto(box.url + "/tracking")
        kiosk.locator("#code").fill(code)
        kiosk.get_by_role("button", name="Tra cứu").click()
        expect(kiosk.locator("#result")).to_contain_text("Có hồ sơ mã")
        expect(kiosk.locator("#result")).not_to_contain_text("Đã trả kết quả")
        sync_box(box)  # the hub, where the slip's QR code points, sees the returned result too
        assert hub.query(f"select status from dossier where code = '{code}'") == [(10,)]
        kiosk.goto(qr_text)
        expect(kiosk.locator("#result")).to_contain_text("Đã trả kết quả")
        expect(kiosk.locator("#result")).to_contain_text("N***** V** An")
        shown = page_text(kiosk)
        for secret in (APPLICANT["id_number"], APPLICANT["phone"], APPLICANT["address"], APPLICANT["name"]):
            assert secret not in shown
        shots(kiosk, "dossier-10-tracking")
        problems.check(expected_http=("/dossiers",))  # the refused receipt answered 400 on purpose
    finally:
        for ctx in (kiosk_ctx, office_pc, agency_pc):
            ctx.close()
