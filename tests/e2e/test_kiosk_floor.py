"""The kiosk on the office floor, in Chromium at 1080x1920 and 1920x1080: closed outside the office
calendar, a broken printer told to the citizen and the counter at once, no dead ends (search results
in view, the list of documents on the ticket printer, error pages back to the kiosk), legible text,
pictograms, look-alike letters in codes, the optional phone number; axe-core on every screen.

The box runs under the office calendar (not the suite's round-the-clock setting) with office hours
00:00-23:59; a test makes today a day off or a working day as the hub would (a ``holiday`` row).
"""
import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .accessibility import assert_accessible
from .conftest import Box, page_headers
from .legibility import text_metrics

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

KIOSK_SIZES = [(1080, 1920), (1920, 1080)]
CALENDAR = ("--issue-any-time", "false", "--office-hours", "00:00-23:59", "--issue-early-minutes", "15")
SECONDARY = (".tile-sub, .scan-hint, .kiosk-foot, .muted, .type-hint, .result-count, .r-meta span, .sub-lead, "
             ".svc-meta, .consent li, .consent b, .print-state, #t-wait, .closed-banner span")
ALL_TEXT = "main *, header *, footer"


def size_id(size):
    return f"{size[0]}x{size[1]}"


def local_today():
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


class Db:
    """The box's own database, written as the hub's pull would (hub-owned rows)."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        from office.db import bind, open_database
        from office.models import MODELS

        self.db = bind(open_database(str(self.path)), MODELS)
        return self

    def __exit__(self, *exc):
        self.db.close()

    def set_day(self, day, kind):
        from office.models import Holiday
        from sync.capture import applying_remote

        with applying_remote():
            Holiday.delete().where(Holiday.day == day.isoformat()).execute()
            Holiday.insert(id=f"e2e-day-{day.isoformat()}", commune="*", day=day.isoformat(),
                           name="Ngày của phép thử", kind=kind).execute()

    def seed_catalog(self, count=30):
        from office.catalog import Procedure, validate
        from office.catalog_sample import sample
        from sync.capture import applying_remote, make_id, now_ms

        if Procedure.select().exists():
            return
        with applying_remote():
            for n, row in enumerate(sample(count)):
                clean, reasons = validate(row)
                assert clean, reasons
                Procedure.insert(id=make_id(now_ms() + n, "hub-e2e"), commune="*", **clean).execute()

    def print_jobs(self):
        from office.models import PrintJob

        return [(j.id, json.loads(j.payload).get("kind"), j.state, j.last_error)
                for j in PrintJob.select().order_by(PrintJob.id)]

    def ticket(self, number):
        from office.models import Ticket

        return Ticket.select().where(Ticket.number == number).order_by(Ticket.issued_at.desc()).first()


def open_day(box):
    """Today and tomorrow are working days (whatever the weekday or holiday): the office is open."""
    with Db(box.db_path) as db:
        for offset in (0, 1):
            db.set_day(local_today() + timedelta(days=offset), "working")


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    base = tmp_path_factory.mktemp("kiosk-floor")
    b = Box(base / "data", base / "box.log", extra=CALENDAR).start()
    with Db(b.db_path) as db:
        db.seed_catalog()
    open_day(b)
    yield b
    b.stop()


@pytest.fixture(scope="module")
def broken_box(tmp_path_factory):
    """A box whose ticket printer cannot be opened (a device path that does not exist)."""
    base = tmp_path_factory.mktemp("kiosk-broken-printer")
    b = Box(base / "data", base / "box.log", extra=(*CALENDAR, "--printer", f"file:{base}/no-such-dir/printer",
                                                    "--print-max-attempts", "2")).start()
    open_day(b)
    yield b
    b.stop()


def kiosk(browser, problems, size, name):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    return context, problems.watch(context.new_page(), name)


# ---- 1: the office calendar ----------------------------------------------------------------

@pytest.mark.parametrize("size", KIOSK_SIZES, ids=size_id)
def test_kiosk_closed_outside_office_hours(box, browser, shots, problems, size):
    """At 19:33 on a Saturday it issued numbers with every counter closed; now: no number, when it opens."""
    with Db(box.db_path) as db:
        db.set_day(local_today(), "off")
    context, page = kiosk(browser, problems, size, "kiosk-closed")
    try:
        page.goto(box.url + "/kiosk")
        banner = page.locator("#closed-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Kiosk tạm ngừng phát số")
        expect(banner).to_contain_text("Mời quý khách quay lại lúc")
        page.locator("#take-number").click()
        expect(page.locator("section[data-step=start]")).to_be_visible()  # no way to a number
        expect(page.locator("section[data-step=services]")).to_be_hidden()
        shots(page, f"kiosk-closed-{size_id(size)}")
        assert_accessible(page)
        refused = context.request.post(box.url + "/api/v1/tickets", data={"service": "ho-tich"},
                                       headers=page_headers(context, box.url))
        assert refused.status == 409 and "Mời quý khách quay lại lúc" in refused.json()["error"]
    finally:
        open_day(box)
    # open again (as the hub's working day arrives): services with their queue, no estimate without a counter
    headers = page_headers(context, box.url)
    assert context.request.post(box.url + "/api/v1/session", headers=headers,
                                data={"username": "canbo1", "password": "motcua123", "counter": 1}).ok
    page.goto(box.url + "/kiosk")
    expect(page.locator("#closed-banner")).to_be_hidden()
    page.locator("#take-number").click()
    services = page.locator("#services [data-service]")
    expect(services.first).to_be_visible()
    metas = [m.strip() for m in page.locator("#services .svc-meta").all_inner_texts()]
    assert any(m.startswith("Chưa có quầy nào mở cho lĩnh vực này") for m in metas), metas
    assert not metas[0].startswith("Chưa có quầy"), metas  # counter 1 (canbo1) serves ho-tich
    shots(page, f"kiosk-services-{size_id(size)}")
    assert_accessible(page)
    closed_service = page.locator("#services .service.none-open").first
    closed_service.click()
    page.locator("#priorities [data-priority='']").click()
    if page.locator("section[data-step=phone]").is_visible():
        page.locator("#phone-no").click()
    expect(page.locator("#t-wait")).to_have_text(re.compile("Chưa có quầy nào đang mở cho lĩnh vực này"))
    assert context.request.delete(box.url + "/api/v1/session", headers=page_headers(context, box.url)).ok
    context.close()
    problems.check(expected_http=("/api/v1/tickets",))


# ---- 5: the printer ------------------------------------------------------------------------

@pytest.mark.parametrize("size", KIOSK_SIZES, ids=size_id)
def test_printer_failure_told_at_once(broken_box, browser, shots, problems, size):
    """With the printer broken the kiosk said “Phiếu đang được in”; only the console knew, later."""
    context, page = kiosk(browser, problems, size, "kiosk-printer")
    page.goto(broken_box.url + "/kiosk")
    page.locator("#take-number").click()
    page.locator("#services [data-service=ho-tich]").click()
    page.locator("#priorities [data-priority='']").click()
    if page.locator("section[data-step=phone]").is_visible():
        page.locator("#phone-no").click()
    expect(page.locator("#t-number")).to_have_text(re.compile(r"^A-\d{3}$"))
    number = page.locator("#t-number").inner_text()
    state = page.locator("#t-print")
    expect(state).to_have_text(f"Máy in đang lỗi — xin ghi nhớ số {number} hoặc chụp mã QR trên màn hình này. "
                               "Cán bộ tại quầy đã được báo.", timeout=15000)
    shots(page, f"kiosk-printer-broken-{size_id(size)}")
    assert_accessible(page)
    context.close()

    counter = browser.new_context(viewport={"width": 1366, "height": 768})
    officer = problems.watch(counter.new_page(), "counter")
    officer.goto(broken_box.url + "/counter")
    officer.get_by_label("Tên đăng nhập").fill("canbo2")
    officer.get_by_label("Mật khẩu").fill("motcua123")
    officer.get_by_label("Quầy làm việc").select_option("2")
    officer.get_by_role("button", name="Đăng nhập").click()
    notice = officer.locator("#printer-notice")
    expect(notice).to_contain_text("Máy in phiếu đang lỗi", timeout=15000)
    reprint = notice.get_by_role("button", name=f"In lại số {number}")
    expect(reprint).to_be_visible(timeout=30000)  # once the job used its attempts
    shots(officer, "counter-printer-notice-1366x768")
    reprint.click()
    expect(notice).to_contain_text("Đã gửi lại máy in")
    officer.get_by_role("button", name="Đăng xuất").click()
    counter.close()
    with Db(broken_box.db_path) as db:
        jobs = [(state, error) for _, kind, state, error in db.print_jobs() if kind is None]
    assert jobs and all(state in ("pending", "failed") for state, _ in jobs), jobs  # reprinted, never lost
    problems.check()


# ---- 6: dead ends --------------------------------------------------------------------------

@pytest.mark.parametrize("size", KIOSK_SIZES, ids=size_id)
def test_kiosk_dead_ends(box, browser, shots, problems, size):
    context, page = kiosk(browser, problems, size, "kiosk-dead-ends")
    page.goto(box.url + "/kiosk")
    page.locator("[data-go=procedures]").click()
    page.locator("#proc-q").fill("khai sinh")
    first = page.locator("#proc-results a.result").first
    expect(first).to_be_visible()
    box_ = first.bounding_box()
    assert box_["y"] + box_["height"] <= size[1], f"first result at y={box_['y']:.0f}: below the screen"
    shots(page, f"kiosk-search-{size_id(size)}")
    assert_accessible(page)

    first.click()
    expect(page.locator("#procedure")).to_be_visible()
    button = page.locator("#print-checklist")
    assert button.evaluate("b => b.tagName") == "BUTTON"  # no link to an A4 page
    expect(page.locator(".take-qr img")).to_be_visible()
    button.scroll_into_view_if_needed()
    button.click()
    expect(page.locator("#checklist-status")).to_have_text("Đang in danh sách. Xin nhận giấy ở khe ra phiếu của kiosk.")
    shots(page, f"kiosk-checklist-{size_id(size)}")
    assert_accessible(page)
    deadline = datetime.now() + timedelta(seconds=20)
    while datetime.now() < deadline:
        with Db(box.db_path) as db:
            jobs = [j for j in db.print_jobs() if j[1] == "checklist"]
        if jobs and jobs[-1][2] == "done":
            break
        page.wait_for_timeout(300)
    assert jobs and jobs[-1][2] == "done", jobs  # printed by the worker on the ticket printer (preview)

    for path in ("/khong-co-trang-nay", "/t/KHONGCO1", "/procedures/khong-co?kiosk=1"):
        page.goto(box.url + path)
        links = page.locator("a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
        assert links == ["/kiosk"], (path, links)
    shots(page, f"kiosk-404-{size_id(size)}")
    assert_accessible(page)
    page.locator("a[href='/kiosk']").click()
    expect(page.locator("#take-number")).to_be_visible()
    context.close()
    problems.check(expected_http=("/khong-co-trang-nay", "/t/", "/procedures/khong-co"))


# ---- 9: legibility and reach ---------------------------------------------------------------

def check_text(page, where, min_px):
    small = [r for r in text_metrics(page, SECONDARY) if r["px"] < min_px]
    assert not small, f"{where}: text under {min_px} px: {small}"
    faint = [r for r in text_metrics(page, ALL_TEXT) if r["contrast"] < 4.5]
    assert not faint, f"{where}: contrast under 4.5:1: {faint}"


@pytest.mark.parametrize("size", KIOSK_SIZES, ids=size_id)
def test_kiosk_legibility_and_reach(box, browser, shots, problems, size):
    min_px = 28 if size[1] > size[0] else 22
    context, page = kiosk(browser, problems, size, "kiosk-legibility")
    page.goto(box.url + "/kiosk")
    check_text(page, "start", min_px)
    shots(page, f"kiosk-start-{size_id(size)}")
    page.locator("#take-number").click()
    expect(page.locator("#services .svc-meta").first).to_be_visible()
    check_text(page, "services", min_px)
    page.locator("#services [data-service=ho-tich]").click()
    priorities = page.locator("#priorities .priority")
    expect(priorities.first).to_be_visible()
    assert priorities.count() == 4 and priorities.locator("svg.pictogram").count() == 4
    check_text(page, "priority", min_px)
    shots(page, f"kiosk-priority-{size_id(size)}")
    assert_accessible(page)
    page.locator("#priorities [data-priority=elderly]").click()
    expect(page.locator("#consent")).to_contain_text("Để làm gì")
    for digit in "0987654321":
        page.locator(f'#digits [data-digit="{digit}"]').click()
    check_text(page, "phone", min_px)
    shots(page, f"kiosk-phone-{size_id(size)}")
    assert_accessible(page)
    page.locator("#phone-yes").click()
    number = page.locator("#t-number")
    expect(number).to_have_text(re.compile(r"^A-\d{3}$"))
    code = page.locator("#t-code").inner_text()
    expect(page.locator("#t-print")).to_have_text("Đã in xong phiếu. Xin nhận phiếu ở khe ra phiếu.", timeout=15000)
    check_text(page, "ticket", min_px)
    shots(page, f"kiosk-ticket-{size_id(size)}")
    assert_accessible(page)
    with Db(box.db_path) as db:
        assert db.ticket(number.inner_text()).phone == "0987654321"
    assert "0987654321" not in page.content()  # the phone is never shown back

    # a code typed with O/I/L where the code has 0/1
    page.get_by_role("button", name="Xong").click()
    page.locator("[data-go=track]").click()
    typed = code.replace("0", "O").replace("1", "l").lower()
    page.locator("#track-code").fill(typed)
    page.locator("#track-form button").click()
    expect(page.locator("#track-result .big-number")).to_have_text(number.inner_text())
    check_text(page, "track", min_px)

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    tracking = problems.watch(phone.new_page(), "tracking")
    tracking.goto(f"{box.url}/t/{code}")
    expect(tracking.locator("body")).to_contain_text(number.inner_text())
    expect(tracking.locator("body")).to_contain_text("Chưa có quầy nào đang mở cho lĩnh vực này")  # never “None phút”
    shots(tracking, "tracking-390x844")
    assert_accessible(tracking)
    phone.close()
    context.close()
    problems.check()
