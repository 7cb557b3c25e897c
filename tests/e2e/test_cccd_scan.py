"""The dossier desk in Chromium: a chip ID card's QR code fills the applicant's fields, typed by a
USB scanner (a keyboard) or read by the counter's webcam (Chromium's fake camera playing a video of
the card's code)."""
import io

import pytest
import segno
from PIL import Image
from playwright.sync_api import expect

from .conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e

RAW = "001099012345|123456789|Nguyễn Văn An|01011990|Nam|Tổ 5, phường Sông Công, Thái Nguyên|15082021"
FIELDS = {"#name": "Nguyễn Văn An", "#id_number": "001099012345",
          "#address": "Tổ 5, phường Sông Công, Thái Nguyên"}


def add_procedure(db_path):
    """The birth registration procedure on the box, as if it came down from the hub (once: a test
    that needs it says so, whatever ran before it)."""
    from office.db import bind, open_database
    from office.models import MODELS, Procedure
    from sync.capture import applying_remote

    db = bind(open_database(str(db_path)), MODELS)
    try:
        with applying_remote():
            if Procedure.select().where(Procedure.code == "1.001193").exists():
                return
            Procedure.insert(id="p-ks", commune="*", code="1.001193", name="Đăng ký khai sinh", field="Hộ tịch",
                             days=3, components='[{"name": "Tờ khai đăng ký khai sinh", "copies": 1}]').execute()
    finally:
        db.close()


def open_receipt_form(page, url):
    page.goto(url + "/counter")
    page.get_by_label("Tên đăng nhập").fill("canbo1")
    page.get_by_label("Mật khẩu").fill("motcua123")
    page.get_by_label("Quầy làm việc").select_option(label="Quầy số 1")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()
    page.goto(url + "/dossiers/new?procedure=1.001193")
    expect(page.locator("#cccd-scan")).to_be_visible()


def expect_filled(page):
    for selector, value in FIELDS.items():
        expect(page.locator(selector)).to_have_value(value)
    expect(page.locator("#cccd-status")).to_contain_text("Đã điền")


def test_desk_scanner_typing_the_card_code_fills_the_applicant(box, browser, shots, problems):
    add_procedure(box.db_path)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    try:
        page = problems.watch(context.new_page(), "desk")
        open_receipt_form(page, box.url)
        page.locator("#cccd-scan").focus()
        page.keyboard.type(RAW, delay=2)  # a keyboard-wedge scanner types fast, then Enter
        page.keyboard.press("Enter")
        expect_filled(page)
        expect(page.locator("#cccd-scan")).to_have_value("")
        shots(page, "desk-cccd-scanned")
        form = page.locator("#receive-form")
        sent = form.evaluate("f => [...new FormData(f).values()].join('\\n')")
        assert "|" not in sent and "01011990" not in sent  # the raw code is not part of the dossier

        # The officer left the cursor in the ID field: the scan lands there and is still read.
        page.locator("#name").fill("")
        page.locator("#id_number").fill("")
        page.locator("#id_number").focus()
        page.keyboard.type(RAW, delay=2)
        page.keyboard.press("Enter")
        expect_filled(page)

        # Not a card: said in Vietnamese, the form untouched.
        page.locator("#cccd-scan").focus()
        page.keyboard.type("https://example.vn/", delay=2)
        page.keyboard.press("Enter")
        expect(page.locator("#cccd-status")).to_contain_text("không phải mã QR")
        expect(page.locator("#name")).to_have_value("Nguyễn Văn An")
        problems.check(expected_http=("/dossiers/cccd",))
    finally:
        context.close()


def write_y4m(path, image, frames=10):
    """A short YUV4MPEG2 video of one still: what Chromium's fake camera plays."""
    width, height = image.size
    y, cb, cr = image.convert("YCbCr").split()
    half = (width // 2, height // 2)
    frame = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F5:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + frame)


def test_desk_webcam_reads_the_card_code(box, browser, tmp_path, shots):
    if not _has_procedure(box.db_path):
        add_procedure(box.db_path)
    png = io.BytesIO()
    segno.make(RAW, error="m").save(png, kind="png", scale=6, border=6)
    card = Image.new("RGB", (640, 480), "white")
    code = Image.open(io.BytesIO(png.getvalue())).convert("RGB")
    card.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    video = tmp_path / "card.y4m"
    write_y4m(video, card)
    args = [*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"]
    camera_browser = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
    try:
        page = camera_browser.new_page(viewport={"width": 1366, "height": 768}, locale="vi-VN")
        open_receipt_form(page, box.url)
        page.get_by_role("button", name="Đọc bằng camera").click()
        expect(page.locator("#name")).to_have_value(FIELDS["#name"], timeout=15000)
        expect_filled(page)
        shots(page, "desk-cccd-camera")
    finally:
        camera_browser.close()


def _has_procedure(db_path):
    import sqlite3
    with sqlite3.connect(db_path) as db:
        return db.execute("select count(*) from procedure where code = '1.001193'").fetchone()[0] > 0
