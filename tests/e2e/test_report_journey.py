"""A field report's journey in Chromium, with a real hub, its worker and a real box (processes).

A citizen with a proved phone reports a broken street lamp on a 390x844 phone, with a photo and the
phone's coordinates → the box receives it by sync (the photo's bytes not there yet: "đang tải tệp")
→ an officer at 1366x768 acknowledges and answers with a photo → after the next sync the hub's
public page shows the answer, without the reporter's phone or address, and the reporter's SMS
reached the (fake) gateway."""
import io
import re
from datetime import datetime

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.central.citizen_session import citizen_cookie
from tests.central.fakes import FakeSms
from tests.sync.conftest import HubProcess
from tests.sync.notify_support import WorkerProcess, sms_args, wait_for

from .accessibility import assert_accessible
from .conftest import COMMUNE, SCREENSHOTS, linked_box, sync_box

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PHONE = "0912345678"
PHONE_SIZE = {"width": 390, "height": 844}


def jpeg(path, colour):
    image = Image.new("RGB", (640, 480), colour)
    for x in range(200, 440):  # a lamp post
        for y in range(100, 110):
            image.putpixel((x, y), (40, 40, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture(scope="module")
def sms():
    gateway = FakeSms().start()
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def hub(tmp_path_factory, sms):
    base = tmp_path_factory.mktemp("hub")
    process = HubProcess(base / "data").start()
    worker = WorkerProcess(process.dir, [*process.args, *sms_args(sms)]).start()
    yield process
    worker.close()
    process.close()


@pytest.fixture(scope="module")
def box(hub, tmp_path_factory):
    base = tmp_path_factory.mktemp("linked-box")
    b = linked_box(hub, base, COMMUNE)
    yield b
    b.stop()


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_report_journey(hub, box, browser, sms, problems, tmp_path):
    now = datetime.utcnow().isoformat(sep=" ")
    hub.query(f"insert into citizen (phone, created_at, consent_version, consent_at) "
              f"values ('{PHONE}', '{now}', 'test', '{now}') returning id")
    secret = (hub.dir / "secret_key").read_text().strip()
    phone_ctx = browser.new_context(viewport=PHONE_SIZE, is_mobile=True, has_touch=True, locale="vi-VN",
                                    geolocation={"latitude": 21.4512345, "longitude": 105.8212345},
                                    permissions=["geolocation"])
    phone_ctx.add_cookies([{"name": "session", "value": citizen_cookie(secret, PHONE), "url": hub.url}])
    office_pc = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        # 1. The citizen reports with a photo and the phone's position.
        citizen = problems.watch(phone_ctx.new_page(), "citizen")
        citizen.goto(hub.url + "/cong-dan/phan-anh/moi")
        citizen.get_by_label("Lĩnh vực").select_option(label="Điện chiếu sáng")
        citizen.get_by_label("Nội dung phản ánh").fill("Đèn đường trước cổng trường tiểu học hỏng cả tuần, tối rất nguy hiểm.")
        citizen.locator("#photos").set_input_files(str(jpeg(tmp_path / "den-hong.jpg", (200, 180, 60))))
        citizen.get_by_role("button", name="Lấy vị trí hiện tại của điện thoại").click()
        expect(citizen.locator("#locate-status")).to_contain_text("Đã có toạ độ: 21.45123, 105.82123")
        citizen.get_by_label("Xã/phường", exact=True).fill("Phường Sông Công, Tỉnh Thái Nguyên")
        assert_accessible(citizen)
        shot(citizen, "report-phone-form")
        citizen.get_by_role("button", name="Gửi phản ánh").click()
        expect(citizen.locator("#report-code")).to_have_text(re.compile(r"^PA-[A-Z0-9]{7}$"))
        code = citizen.locator("#report-code").inner_text()
        assert_accessible(citizen)
        shot(citizen, "report-phone-sent")

        # 2. The box receives it; the photo's bytes are not there yet.
        sync_box(box)
        desk = problems.watch(office_pc.new_page(), "desk")
        desk.goto(box.url + "/counter")
        desk.get_by_label("Tên đăng nhập").fill("canbo1")
        desk.get_by_label("Mật khẩu").fill("motcua123")
        desk.get_by_label("Quầy làm việc").select_option(label="Quầy số 1")
        desk.get_by_role("button", name="Đăng nhập").click()
        desk.locator("#reports-desk").click()
        expect(desk.locator("#reports")).to_contain_text(code)
        shot(desk, "report-box-list")
        desk.get_by_role("link", name=code).click()
        expect(desk.locator("#photos")).to_contain_text("đang tải tệp")
        expect(desk.locator("#description")).to_contain_text("Đèn đường trước cổng trường")
        assert_accessible(desk)
        shot(desk, "report-box-detail")

        # 3. The officer acknowledges, then answers with a photo.
        desk.locator("#acknowledge").click()
        expect(desk.locator("#status")).to_have_text("Đã tiếp nhận")
        desk.get_by_label("Nội dung trả lời").fill("Đã thay bóng đèn ngày hôm nay. Cảm ơn ông/bà đã phản ánh.")
        desk.get_by_label("Ảnh kèm trả lời (tối đa 5)").set_input_files(str(jpeg(tmp_path / "da-thay.jpg", (60, 160, 90))))
        desk.locator("input[name=confirm]").check()
        desk.locator("#send-answer").click()
        expect(desk.locator("#status")).to_have_text("Đã trả lời")
        expect(desk.locator("#photos img")).to_have_count(1)  # the answer's photo, here at once
        shot(desk, "report-box-answered")

        # 4. Up by sync: the public page shows the answer; the reporter got an SMS.
        sync_box(box)
        public = problems.watch(phone_ctx.new_page(), "public")
        public.goto(f"{hub.url}/phan-anh/{code}")
        expect(public.locator("#answer")).to_contain_text("Đã thay bóng đèn ngày hôm nay")
        expect(public.locator("#status")).to_have_text("Đã trả lời")
        expect(public.locator("#answer-photo-pending")).to_be_visible()  # its bytes travel apart (blob sync)
        body = public.inner_text("body")
        assert PHONE not in body and "21.4512345" not in body
        assert_accessible(public)
        shot(public, "report-phone-public")
        public.goto(f"{hub.url}/phan-anh")
        expect(public.locator("#reports")).to_contain_text("Điện chiếu sáng")
        assert_accessible(public)
        shot(public, "report-phone-list")
        wait_for(lambda: sms.delivered, timeout=45, what="the reporter's SMS at the gateway")
        [sent] = sms.bodies()
        assert sent["Phone"] == "84912345678" and code in sent["Content"]
        problems.check()
    finally:
        phone_ctx.close()
        office_pc.close()
