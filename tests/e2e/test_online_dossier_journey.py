"""An online dossier, end to end, in Chromium with a real hub and a real box (processes).

A citizen with a proved phone (390x844) submits a birth registration with three files; the first
upload's connection is cut midway and the page's script resumes it. The box, not syncing at first,
does not have it; after its sync the officer (1366x768) sees it waiting, accepts and finishes it; it
goes back up; the citizen tracks it on the phone, and the notices for the citizen reached the hub.
"""
import json
import re

import pytest
from playwright.sync_api import expect

from tests.central.online_support import pdf, png
from tests.sync.conftest import HubProcess
from tests.sync.online_citizen import consenting_citizen
from tests.sync.test_dossier_convergence import hub_import_catalog

from .accessibility import assert_accessible
from .conftest import COMMUNE, linked_box, sync_box

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PHONE = "0912345678"
CATALOG = [{
    "code": "1.001193", "name": "Đăng ký khai sinh", "field": "Hộ tịch", "agency": "UBND cấp xã",
    "online_level": "toan_trinh",
    "ways": [{"way": "truc_tiep", "amount": 3, "unit": "ngay_lam_viec"},
             {"way": "truc_tuyen", "amount": 2, "unit": "ngay_lam_viec"}],
    "documents": [{"group": "nop", "name": "Tờ khai đăng ký khai sinh", "originals": 1, "copies": 0},
                  {"group": "nop", "name": "Giấy chứng sinh", "originals": 1, "copies": 0},
                  {"group": "xuat_trinh", "name": "Giấy chứng nhận kết hôn của cha mẹ", "originals": 1, "copies": 0}],
    "result": "Giấy khai sinh"}]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    base = tmp_path_factory.mktemp("online-hub")
    process = HubProcess(base / "data").start()
    catalog = base / "catalog.json"
    catalog.write_text(json.dumps(CATALOG, ensure_ascii=False), encoding="utf-8")
    hub_import_catalog(process.dir, "", catalog)
    yield process
    process.close()


@pytest.fixture(scope="module")
def box(hub, tmp_path_factory):
    """The commune's box (web server only: it syncs when the test says), registered, synced once."""
    base = tmp_path_factory.mktemp("online-box")
    b = linked_box(hub, base, COMMUNE, worker=False)
    yield b
    b.stop()


def test_online_dossier_journey(hub, box, browser, shots, problems, tmp_path):
    phone_ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                    locale="vi-VN")
    phone_ctx.add_cookies([{"name": "session", "value": consenting_citizen(hub, PHONE), "url": hub.url}])
    office_pc = browser.new_context(viewport={"width": 1366, "height": 768})
    files = {"to-khai.png": png(700_000, 1), "giay-chung-sinh.pdf": pdf(300_000), "ket-hon.png": png(90_000, 2)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    try:
        # 1. The citizen chooses the commune and the procedure.
        citizen = problems.watch(phone_ctx.new_page(), "citizen")
        citizen.goto(hub.url + "/cong-dan/nop-ho-so")
        citizen.get_by_label("Xã, phường giải quyết hồ sơ").select_option(COMMUNE)
        citizen.get_by_role("button", name="Xem thủ tục nộp trực tuyến").click()
        expect(citizen.locator("#procedures")).to_contain_text("Đăng ký khai sinh")
        assert_accessible(citizen)
        shots(citizen, "online-01-procedures", full_page=True)
        citizen.locator("#procedures a", has_text="Đăng ký khai sinh").click()

        # 2. The applicant's details: a wrong ID number first, said in Vietnamese, the input kept.
        expect(citizen.get_by_label("Số điện thoại di động", exact=False)).to_have_value(PHONE)
        citizen.get_by_label("Họ và tên người nộp", exact=False).fill("Nguyễn Thị Hoa")
        citizen.get_by_label("Số định danh cá nhân (CCCD)", exact=False).fill("03419900")
        citizen.get_by_label("Địa chỉ liên hệ", exact=False).fill("Tổ 3, phường Sông Công")
        citizen.get_by_role("button", name="Tiếp tục: tải giấy tờ lên").click()
        expect(citizen.locator("#id_number-error")).to_contain_text("12 chữ số")
        expect(citizen.get_by_label("Địa chỉ liên hệ", exact=False)).to_have_value("Tổ 3, phường Sông Công")
        assert_accessible(citizen)
        shots(citizen, "online-02-applicant-error", full_page=True)
        citizen.get_by_label("Số định danh cá nhân (CCCD)", exact=False).fill("034199001234")
        citizen.get_by_role("button", name="Tiếp tục: tải giấy tờ lên").click()

        # 3. Three files; the second piece of the first one is cut on the way, the script goes on.
        patches, cut = [], []

        def on_upload(route, request):
            if request.method == "PATCH":
                patches.append((request.url, int(request.headers["upload-offset"])))
                if not cut and request.headers["upload-offset"] != "0":
                    cut.append((request.url, int(request.headers["upload-offset"])))
                    return route.abort("connectionreset")
            return route.continue_()

        citizen.route("**/cong-dan/tai-len/**", on_upload)
        # the papers page loaded, its upload script in place (else the form posts without it); waiting
        # for "load" alone could return at once for the applicant's page, before the navigation began
        citizen.wait_for_url(re.compile(r"/cong-dan/nop-ho-so/ban-nhap/[^/?]+$"), wait_until="load")
        expect(citizen.locator("#papers-form[data-resumable=on]")).to_have_count(1)  # the script, not a plain post
        citizen.set_input_files("#file-0", str(tmp_path / "to-khai.png"))
        citizen.set_input_files("#file-1", str(tmp_path / "giay-chung-sinh.pdf"))
        citizen.set_input_files("#file-2", str(tmp_path / "ket-hon.png"))
        citizen.get_by_role("button", name="Tải các tệp đã chọn lên").click()
        expect(citizen.locator(".progress-list")).to_contain_text(["", "", ""])
        expect(citizen.locator("section.paper .file")).to_have_count(3, timeout=60_000)  # the page reloaded
        assert len(cut) == 1, ("no piece after the first went through the test's route", patches, problems.errors)
        [(cut_url, cut_at)] = cut  # the second piece of a file bigger than one piece (256 KB)
        assert cut_at == 262144, (cut, patches, problems.errors)
        resent = [offset for url, offset in patches if url == cut_url]
        assert resent.count(262144) == 2 and resent == sorted(resent)  # sent again from where the hub had it
        assert "chưa tải xong" not in citizen.inner_text("body")
        assert_accessible(citizen)
        shots(citizen, "online-03-papers", full_page=True)
        citizen.unroute("**/cong-dan/tai-len/**")

        # 4. Review and submit: the code and the tracking secret.
        citizen.get_by_role("link", name="Tiếp tục: xem lại và nộp").click()
        expect(citizen.locator("#review-papers")).to_contain_text("to-khai.png")
        citizen.get_by_label("Tôi cam đoan", exact=False).check()
        citizen.get_by_role("button", name="Nộp hồ sơ").click()
        code = citizen.locator("#dossier-code").inner_text().strip()
        secret = citizen.locator("#dossier-secret").inner_text().strip()
        assert re.fullmatch(rf"TT-{COMMUNE}-\d{{6}}-0001", code), code
        assert_accessible(citizen)
        shots(citizen, "online-04-submitted", full_page=True)

        # 5. The box has not synced: nothing yet. After its sync the officer sees it waiting.
        desk = problems.watch(office_pc.new_page(), "desk")
        desk.goto(box.url + "/counter")
        desk.get_by_label("Tên đăng nhập").fill("canbo1")
        desk.get_by_label("Mật khẩu").fill("motcua123")
        desk.get_by_label("Quầy làm việc").select_option(label="Quầy số 1")
        desk.get_by_role("button", name="Đăng nhập").click()
        expect(desk.get_by_role("button", name="Gọi số tiếp")).to_be_visible()
        desk.goto(box.url + "/dossiers")
        expect(desk.locator("#dossier-list, .empty").first).to_be_visible()
        expect(desk.locator("#online-incoming")).to_have_count(0)
        sync_box(box)
        desk.reload()
        waiting = desk.locator("#online-incoming")
        expect(waiting).to_contain_text(code)
        expect(waiting).to_contain_text("3 tệp")
        shots(desk, "online-05-desk-waiting", full_page=True)
        waiting.get_by_role("link", name=code).click()
        expect(desk.locator("#files")).to_contain_text("Giấy chứng sinh")
        shots(desk, "online-06-desk-dossier", full_page=True)
        desk.get_by_role("button", name="Tiếp nhận", exact=True).click()
        expect(desk.locator("#dossier-status")).to_have_text("Được tiếp nhận")
        desk.locator("#act-finish summary").click()
        desk.locator("#act-finish input[name=confirm]").check()
        desk.locator("#act-finish button").click()
        expect(desk.locator("#dossier-status")).to_have_text("Đã xử lý xong")
        shots(desk, "online-07-desk-finished", full_page=True)
        sync_box(box)

        # 6. The citizen tracks it; the notices for the citizen are at the hub.
        citizen.goto(f"{hub.url}/tracking?code={code}&secret={secret}")
        expect(citizen.locator("#todo")).to_contain_text("Đã có kết quả")
        assert_accessible(citizen)
        shots(citizen, "online-08-tracking", full_page=True)
        kinds = {k for (k,) in hub.query("select kind from notice")}
        assert {"dossier_received", "dossier_ready"} <= kinds
        problems.check(expected_http=("/cong-dan/tai-len/", f"/cong-dan/nop-ho-so/{COMMUNE}/"))
    finally:
        phone_ctx.close()
        office_pc.close()
