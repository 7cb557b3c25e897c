"""The kiosk's look-ups, end to end: a catalog imported at a real hub, pulled by a real box, searched
on the kiosk (1080x1920) with its on-screen keyboard, read and printed; local information the
officers enter on the box; dossier tracking by a typed or scanned code.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from office.catalog_sample import sample

from .conftest import COMMUNE, ROOT, Box, free_port, page_headers
from .hub_signin import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "e2e-operator"
OPERATOR_PASSWORD = "e2e-operator-2026"
FORM = ('<h2 style="text-align:center">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM<br><u>Độc lập - Tự do - Hạnh phúc</u></h2>'
        '<h1 style="text-align:center">TỜ KHAI ĐĂNG KÝ KHAI SINH</h1>'
        '<p>Kính gửi: Ủy ban nhân dân ........................................</p>'
        '<p>Họ, chữ đệm, tên người yêu cầu: ..........................................................</p>'
        '<p>Nơi cư trú: ........................................................................................</p>'
        '<table><tr><th colspan="2">Thông tin người được khai sinh</th></tr>'
        '<tr><td style="width:45%">Họ, chữ đệm, tên</td><td></td></tr><tr><td>Ngày, tháng, năm sinh</td><td></td></tr>'
        '<tr><td>Giới tính</td><td></td></tr><tr><td>Nơi sinh</td><td></td></tr><tr><td>Quê quán</td><td></td></tr></table>'
        '<p style="text-align:right"><i>Làm tại ............, ngày ..... tháng ..... năm ......</i><br><b>Người yêu cầu</b>'
        '<br>(Ký, ghi rõ họ, chữ đệm, tên)</p><script>document.title = "hacked"</script>')
PLACES = [
    {"name": "Trạm y tế phường Sông Công", "category": "y-te", "address": "Tổ 3, phường Sông Công",
     "phone": "0208 3862 111", "opening_hours": "7:00–17:00, cả tuần", "description": "Khám chữa bệnh ban đầu, tiêm chủng."},
    {"name": "Trường Tiểu học Sông Công", "category": "truong-hoc", "address": "Tổ 7", "phone": "", "opening_hours": "",
     "description": ""},
    {"name": "Đình làng Cải Đan", "category": "dia-chi-do", "address": "Tổ 12", "phone": "", "opening_hours": "",
     "description": "Di tích lịch sử – văn hóa cấp tỉnh; nơi thành lập chi bộ Đảng đầu tiên của địa phương."},
    {"name": "Chợ Sông Công <img src=x onerror=alert(1)>", "category": "cho", "address": "Đường Thống Nhất",
     "phone": "", "opening_hours": "5:00–18:00", "description": ""},
]


def motcua(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "motcua", *map(str, args)], check=True, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, **kwargs)


class SyncedBox(Box):
    """A box initialised against a hub (pinned key, registered), which pulls before it serves."""

    def __init__(self, data_dir, log_path, hub_url, hub_key, hub_args):
        super().__init__(data_dir, log_path, extra=("--hub-url", hub_url), worker=False)
        self.hub_url, self.hub_key, self.hub_args = hub_url, hub_key, hub_args

    def start(self):
        motcua("edge", "init", "--demo-data", "--hub-key", self.hub_key, *self.options)
        motcua("hub", "register-box", "--commune", COMMUNE, "--public-key", self.data_dir / "keys" / "box.pub",
               *self.hub_args)
        self.sync_output = motcua("edge", "sync", *self.options).stdout
        self.dossier_code, self.dossier_secret = receive_a_dossier(self.db_path)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(self.log_path, "ab") as log:
            self.procs.append(subprocess.Popen(self._command("serve", "--printer", "preview"), cwd=ROOT, env=env,
                                               stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))
        self._wait_healthy()
        return self


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    """A hub with the sample catalog (60 procedures, one with a form to print), and a box that pulled it."""
    base = tmp_path_factory.mktemp("kiosk-catalog")
    hub_dir, port = base / "hub", free_port()
    hub_args = ("--data-dir", hub_dir, "--operator-password", PASSWORD)
    hub_key = motcua("hub", "key", *hub_args).stdout.strip()
    rows = sample(60)
    rows[0]["components"][0]["template"] = FORM
    catalog = base / "catalog.json"
    catalog.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    assert "60 thủ tục mới" in motcua("hub", "import-catalog", catalog, *hub_args).stdout
    motcua("hub", "account", "add", "ops", "--role", "operator", "--password-file", "-", *hub_args,
           input=OPERATOR_PASSWORD + "\n")
    hub_log = open(base / "hub.log", "ab")
    hub = subprocess.Popen([sys.executable, "-m", "motcua", "hub", "serve", "--port", str(port), *map(str, hub_args)],
                           cwd=ROOT, stdout=hub_log, stderr=subprocess.STDOUT, start_new_session=True)
    b = None
    try:
        hub_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(hub_url + "/api/v1/health", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or hub.poll() is not None:
                    raise RuntimeError("the hub did not start:\n" + (base / "hub.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        b = SyncedBox(base / "data", base / "box.log", hub_url, hub_key, hub_args).start()
        yield b
    finally:
        if b is not None:
            b.stop()
        os.killpg(hub.pid, signal.SIGTERM)
        hub.wait(10)
        hub_log.close()


def receive_a_dossier(db_path):
    """A dossier received at the counter (the desk's domain call), on the box's own database."""
    from datetime import datetime

    from office import dossiers
    from office.calendar import WorkCalendar
    from office.db import bind, open_database
    from office.models import MODELS, Office, Procedure

    db = bind(open_database(str(db_path)), MODELS)
    try:
        procedure = Procedure.get(Procedure.name == "Đăng ký khai sinh")
        dossier = dossiers.receive(WorkCalendar(), procedure, {"name": "Nguyễn Văn An", "phone": "0912345678"},
                                   Office.get().agency_code, officer="canbo1", now=datetime(2026, 3, 2, 9, 15))
        dossiers.transfer(dossier, "Thẩm định hồ sơ", "Trần Văn Minh", actor="canbo1", now=datetime(2026, 3, 2, 9, 40))
        return dossier.code, dossier.tracking_secret
    finally:
        db.close()


def type_on_screen(page, keyboard, text):
    """Tap the kiosk's on-screen keys, as a citizen does."""
    for ch in text:
        key = "space" if ch == " " else ch.upper()
        page.locator(f'{keyboard} [data-key="{key}"]').click()


def test_kiosk_looks_up_procedures_places_and_dossiers(box, browser, shots, problems):
    assert box.get_json("/api/v1/procedures?q=khai+sinh")["total"] >= 2, box.sync_output  # pulled from the hub
    office = browser.new_context(viewport={"width": 1366, "height": 768})
    kiosk_ctx = browser.new_context(viewport={"width": 1080, "height": 1920})
    landscape = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        # 0. An officer enters the commune's places on the box (signed in at a counter).
        signed = office.request.post(box.url + "/api/v1/session", headers=page_headers(office, box.url),
                                     data={"username": "canbo1", "password": "motcua123", "counter": 1})
        assert signed.ok, signed.text()
        admin = problems.watch(office.new_page(), "places-admin")
        admin.goto(box.url + "/places")
        expect(admin.locator("#places")).to_contain_text("Chưa có địa điểm nào")
        admin.get_by_role("link", name="+ Thêm địa điểm").click()
        first = PLACES[0]
        admin.get_by_label("Tên địa điểm").fill(first["name"])
        admin.get_by_label("Nhóm").select_option(first["category"])
        for field, label in (("address", "Địa chỉ"), ("phone", "Số điện thoại"), ("opening_hours", "Giờ mở cửa"),
                             ("description", "Giới thiệu")):
            admin.get_by_label(label).fill(first[field])
        admin.get_by_role("button", name="Lưu").click()
        expect(admin.locator(".ok-box")).to_contain_text("Đã lưu")
        signed_in = page_headers(office, box.url)  # a new session since the sign-in: a new token
        for place in PLACES[1:]:
            assert office.request.post(box.url + "/places", form=place, headers=signed_in).ok
        admin.reload()
        expect(admin.locator("#places tbody tr")).to_have_count(len(PLACES))
        shots(admin, "kiosk-07-places-admin")

        # 1. The kiosk's start screen: five big choices.
        kiosk = problems.watch(kiosk_ctx.new_page(), "kiosk")
        kiosk.goto(box.url + "/kiosk")
        for name in ("Lấy số thứ tự", "Tra cứu thủ tục", "Tra cứu hồ sơ", "Thông tin địa phương", "Tra cứu số thứ tự đã lấy"):
            expect(kiosk.get_by_role("button", name=name)).to_be_visible()
        shots(kiosk, "kiosk-01-start")

        # 2. Search a procedure without diacritics, on the on-screen keyboard.
        kiosk.get_by_role("button", name="Tra cứu thủ tục").click()
        expect(kiosk.locator("section[data-step=procedures] .type-hint")).to_contain_text("không dấu")
        expect(kiosk.locator("#proc-fields [data-field='Hộ tịch']")).to_be_visible()
        type_on_screen(kiosk, ".osk[data-for=proc-q]", "dang ky khai sinh")
        expect(kiosk.locator("#proc-q")).to_have_value("dang ky khai sinh")
        results = kiosk.locator("#proc-results .r-name")
        expect(results.first).to_have_text("Đăng ký khai sinh")
        expect(kiosk.locator("#proc-count")).to_contain_text("phù hợp với “dang ky khai sinh”")
        shots(kiosk, "kiosk-02-search")

        # 3. The procedure's page, readable on the kiosk.
        results.first.click()
        expect(kiosk).to_have_url(re.compile(r"/procedures/[^/?]+\?kiosk=1$"))
        expect(kiosk.locator("h1.proc-title")).to_have_text("Đăng ký khai sinh")
        expect(kiosk.locator("#fact-time")).to_have_text("Trong ngày làm việc")
        expect(kiosk.locator("#documents")).to_contain_text("Giấy chứng sinh")
        expect(kiosk.locator("#steps li")).to_have_count(3)
        expect(kiosk.locator("#legal")).to_contain_text("Luật Hộ tịch số 60/2014/QH13")
        shots(kiosk, "kiosk-03-procedure")

        # 4. Print the blank form (the hub's HTML, without its script).
        kiosk.get_by_role("link", name="In mẫu đơn").click()
        expect(kiosk).to_have_url(re.compile(r"/forms/1\?kiosk=1$"))
        expect(kiosk.locator("#paper h1")).to_have_text("TỜ KHAI ĐĂNG KÝ KHAI SINH")
        expect(kiosk.get_by_role("button", name="In trang này")).to_be_visible()
        assert kiosk.title() != "hacked" and kiosk.locator("#paper script").count() == 0
        shots(kiosk, "kiosk-04-form")
        kiosk.emulate_media(media="print")  # as the printer sees it: no buttons, no header
        expect(kiosk.locator(".print-toolbar")).to_be_hidden()
        kiosk.emulate_media(media="screen")
        # the list of what to bring, for procedures without a form
        kiosk.get_by_role("link", name="← Quay lại thủ tục").click()
        kiosk.get_by_role("link", name="In danh sách giấy tờ cần mang").click()
        expect(kiosk.locator(".paper-title")).to_have_text("Danh sách giấy tờ cần chuẩn bị")
        expect(kiosk.locator(".checklist tbody tr")).to_have_count(2)
        shots(kiosk, "kiosk-05-checklist")

        # 5. Back to the kiosk: the same search, then browse a field.
        kiosk.go_back()
        kiosk.get_by_role("link", name="← Quay lại tìm thủ tục").first.click()
        expect(kiosk.locator("section[data-step=procedures]")).to_be_visible()
        expect(kiosk.locator("#proc-q")).to_have_value("dang ky khai sinh")
        expect(results.first).to_have_text("Đăng ký khai sinh")
        kiosk.locator(".osk[data-for=proc-q] [data-key=clear]").click()
        kiosk.locator("#proc-fields [data-field='Chứng thực']").click()
        expect(kiosk.locator("#proc-count")).to_contain_text("lĩnh vực Chứng thực")
        expect(kiosk.locator("#proc-results .r-meta").first).to_contain_text("Chứng thực")

        # 6. Local information, by category.
        kiosk.locator("section[data-step=procedures] .back").click()
        kiosk.get_by_role("button", name="Thông tin địa phương").click()
        expect(kiosk.locator("#place-results .place")).to_have_count(len(PLACES))
        expect(kiosk.locator("#place-results")).to_contain_text("Chợ Sông Công <img src=x onerror=alert(1)>")
        kiosk.locator("#place-cats [data-category=dia-chi-do]").click()
        expect(kiosk.locator("#place-results .place")).to_have_count(1)
        expect(kiosk.locator("#place-results h3")).to_have_text("Đình làng Cải Đan")
        kiosk.locator("#place-cats [data-category='']").click()
        expect(kiosk.locator("#place-results .place")).to_have_count(len(PLACES))
        shots(kiosk, "kiosk-06-places")
        kiosk.locator("#place-q").click()
        type_on_screen(kiosk, ".osk[data-for=place-q]", "tram y te")
        expect(kiosk.locator("#place-results h3")).to_have_text([PLACES[0]["name"]])
        assert kiosk.locator("#kiosk img").count() == 1  # the ticket's QR image only: place text stays text

        # 7. Dossier tracking: a code typed on the screen that no dossier has.
        kiosk.locator("section[data-step=places] .back").click()
        kiosk.get_by_role("button", name="Tra cứu hồ sơ").click()
        expect(kiosk.locator("#dossier-code")).to_be_focused()
        type_on_screen(kiosk, ".osk[data-for=dossier-code]", "000.19.05518-260101-9999")
        kiosk.locator("#dossier-form").get_by_role("button", name="Tra cứu").click()
        error = kiosk.locator("#kiosk-error")
        expect(error).to_have_text("Không tìm thấy hồ sơ với mã này.")
        expect(error).to_be_visible()
        expect(kiosk.locator("#dossier-result")).to_be_hidden()
        shots(kiosk, "kiosk-08-dossier-not-found")

        # 8. A scanner types a slip's QR code (the tracking URL, code and secret) and Enter, from the
        # start screen: a real dossier, then an unknown one.
        kiosk.locator("section[data-step=dossier] .back").click()
        kiosk.keyboard.type(f"{box.url}/tracking?code={box.dossier_code}&secret={box.dossier_secret}", delay=5)
        kiosk.keyboard.press("Enter")
        result = kiosk.locator("#dossier-result")
        expect(result).to_be_visible()
        expect(result.locator(".state-line")).to_have_text("Đang xử lý – Thẩm định hồ sơ")
        expect(result).to_contain_text("N***** V** An")
        expect(result.locator(".timeline li")).to_have_count(2)
        assert "0912345678" not in result.inner_text()
        expect(error).to_be_hidden()
        expect(kiosk.locator(".osk[data-for=dossier-code]")).to_be_hidden()  # the result takes its place
        shots(kiosk, "kiosk-09-dossier-found")
        kiosk.locator("section[data-step=dossier] .back").click()
        expect(kiosk.locator("section[data-step=start]")).to_be_visible()
        kiosk.keyboard.type("000.19.05518-260101-9998", delay=5)
        kiosk.keyboard.press("Enter")
        expect(kiosk.locator("section[data-step=dossier]")).to_be_visible()
        expect(kiosk.locator("#dossier-code")).to_have_value("000.19.05518-260101-9998")
        expect(error).to_have_text("Không tìm thấy hồ sơ với mã này.")

        # 9. The same kiosk on a landscape screen (1366x768).
        wide = problems.watch(landscape.new_page(), "kiosk-landscape")
        wide.goto(box.url + "/kiosk")
        expect(wide.get_by_role("button", name="Thông tin địa phương")).to_be_visible()
        shots(wide, "kiosk-10-start-landscape")
        wide.get_by_role("button", name="Tra cứu thủ tục").click()
        wide.locator("#proc-q").press_sequentially("1.00100")  # a code, on a physical keyboard
        expect(wide.locator("#proc-results .r-meta").first).to_contain_text("Mã 1.001000")
        shots(wide, "kiosk-11-code-search-landscape")

        problems.check(expected_http=("/api/v1/tracking/",))
    finally:
        for ctx in (kiosk_ctx, office, landscape):
            ctx.close()


def test_hub_catalog_pages(box, browser, shots, problems, tmp_path):
    """The operator imports a file with mistakes, reads the report, edits a procedure and unpublishes it."""
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = problems.watch(ctx.new_page(), "hub-catalog")
        sign_in(page, box.hub_url, "ops", OPERATOR_PASSWORD, then="/catalog")
        expect(page.locator("#procedures tbody tr")).to_have_count(60)
        bad = tmp_path / "bo-sung.json"
        bad.write_text(json.dumps([
            {"code": "1.002001", "name": "Cấp bản sao trích lục hộ tịch", "field": "Hộ tịch",
             "ways": [{"way": "truc_tiep", "days": 0, "hours": 4, "fee": "8.000 đồng/bản"}]},
            {"code": "1.2", "name": "Mã sai"},
            {"code": "1.002003", "name": "", "ways": [{"way": "fax", "days": "ba"}]},
        ], ensure_ascii=False), encoding="utf-8")
        page.get_by_label("Tệp JSON, CSV hoặc XLSX").set_input_files(str(bad))
        page.get_by_role("button", name="Nhập tệp").click()
        expect(page.locator("#created b")).to_have_text("1")
        expect(page.locator("#rejected tbody tr")).to_have_count(2)
        expect(page.locator("#rejected")).to_contain_text("không đúng dạng 1.001193")
        shots(page, "catalog-01-import-report", full_page=True)
        page.goto(box.hub_url + "/catalog?q=dang+ky+khai+sinh")
        page.locator("#procedures tbody tr").first.get_by_role("link").click()
        expect(page.get_by_label("Tên thủ tục *")).to_have_value("Đăng ký khai sinh")
        page.get_by_label("Thời hạn 1").fill("hai ngày")
        page.get_by_role("button", name="Lưu thay đổi").click()
        expect(page.locator("#reasons")).to_contain_text("thời hạn “hai ngày” không rõ")
        expect(page.get_by_label("Thời hạn 1")).to_have_value("hai ngày")  # the input is kept
        shots(page, "catalog-02-edit-error", full_page=True)
        page.get_by_label("Thời hạn 1").fill("1 ngày làm việc")
        page.get_by_role("button", name="Lưu thay đổi").click()
        expect(page.locator(".flash")).to_contain_text("Đã lưu thủ tục")
        page.get_by_role("button", name="Gỡ khỏi các hộp").click()
        expect(page.locator(".flash")).to_contain_text("đã được gỡ khỏi các hộp")
        expect(page.get_by_role("button", name="Công bố tới các hộp")).to_be_visible()
        page.goto(box.hub_url + "/agencies")
        page.get_by_label("Mã định danh điện tử").fill("000.00.19.STP")
        page.get_by_label("Tên cơ quan").fill("Sở Tư pháp tỉnh Thái Nguyên")
        page.get_by_role("button", name="Thêm").click()
        expect(page.get_by_label("Tên của 000.00.19.STP")).to_have_value("Sở Tư pháp tỉnh Thái Nguyên")
        shots(page, "catalog-03-agencies")
        problems.check(expected_http=("/catalog/",))  # the refused edit answered 400
    finally:
        ctx.close()
