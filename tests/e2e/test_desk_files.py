"""The dossier desk's files in Chromium at the counter's size (1366x768): a file here opens, a file
still coming says "đang tải tệp", a scan taken at the desk (số hóa) is refused with its reason when it
is not a picture or PDF, then attached; axe finds nothing serious."""
import json
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.e2e.accessibility import assert_accessible

from .conftest import ROOT

pytestmark = [pytest.mark.e2e]


def test_desk_shows_files_waiting_and_takes_a_scan(box, browser, shots, problems, tmp_path):
    seeded = subprocess.run([sys.executable, "-m", "tests.e2e.desk_files_seed", str(box.db_path),
                             str(box.data_dir / "blobs")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    code = json.loads(seeded.stdout.strip().splitlines()[-1])["code"]
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        desk = problems.watch(context.new_page(), "desk")
        desk.goto(box.url + "/counter")
        desk.get_by_label("Tên đăng nhập").fill("canbo1")
        desk.get_by_label("Mật khẩu").fill("motcua123")
        desk.get_by_label("Quầy làm việc").select_option(label="Quầy số 1")
        desk.get_by_role("button", name="Đăng nhập").click()
        expect(desk.get_by_role("button", name="Gọi số tiếp")).to_be_visible()  # signed in at counter 1
        desk.goto(f"{box.url}/dossiers/{code}")
        files = desk.locator("#files")
        expect(files.locator("#file-att-online-e2e")).to_contain_text("đang tải tệp")
        expect(files.get_by_role("link", name="Tờ khai đã ký")).to_be_visible()
        files.scroll_into_view_if_needed()
        shots(desk, "desk-files-01-waiting")
        assert_accessible(desk)

        desk.locator("#act-scan summary").click()
        desk.get_by_label("Tên giấy tờ").fill("Sổ hộ khẩu cũ")
        wrong = tmp_path / "ghi-chu.txt"
        wrong.write_text("không phải ảnh")
        desk.locator("#scan-file").set_input_files(str(wrong))
        desk.get_by_role("button", name="Đính kèm").click()
        expect(desk.locator("#action-error")).to_contain_text("không phải ảnh (JPG, PNG, WEBP) hoặc PDF")
        expect(desk.get_by_label("Tên giấy tờ")).to_have_value("Sổ hộ khẩu cũ")  # the typed name is kept
        shots(desk, "desk-files-02-refused")  # the reason on top, where the page opens

        photo = tmp_path / "so-ho-khau.png"
        photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 400)
        desk.locator("#scan-file").set_input_files(str(photo))
        desk.get_by_role("button", name="Đính kèm").click()
        expect(desk.locator(".flash").first).to_contain_text("Đã đính kèm bản quét “Sổ hộ khẩu cũ”")
        expect(desk.locator("#file-list")).to_contain_text("Sổ hộ khẩu cũ")
        desk.locator("#files").scroll_into_view_if_needed()
        shots(desk, "desk-files-03-scanned")
        assert_accessible(desk)
        problems.check(expected_http=(f"/dossiers/{code}/so-hoa",))
    finally:
        context.close()
