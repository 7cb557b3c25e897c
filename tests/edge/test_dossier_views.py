"""The dossier desk over HTTP: receipt and its checks, codes and due dates, the printed forms,
the rules of each action, escaping, and what tracking never shows."""
import json
import re
from datetime import datetime
from html import unescape

import pytest
from escpos.printer import Dummy

from devices.printer import PreviewPrinter
from devices.slip import barcode_band, code128_modules, render_slip
from edge.printing import process_job
from office.models import Agency, Dossier, DossierEvent, Holiday, PrintJob, Procedure, Ticket
from sync.capture import applying_remote
from sync.models import ChangeEntry
from tests.conftest import sign_in

AGENCY = "000.19.05518"  # the demo office: Thái Nguyên (19), Sông Công (05518)
OTHER = "000.00.19.STP"
MON = datetime(2026, 3, 2, 9, 15)  # a Monday, office-local
PERSON = {"name": "Nguyễn Văn An", "id_number": "001099012345", "phone": "0912 345 678",
          "address": "Tổ 5, phường Sông Công", "way": "truc_tiep"}
SECRETS = ("001099012345", "0912345678", "0912 345 678", "Tổ 5")


@pytest.fixture
def clock(app):
    """The desk's office-local clock, set by the test."""
    now = {"t": MON}
    app.extensions["dossier_clock"] = lambda: now["t"]
    return now


@pytest.fixture
def desk(app, client, clock):
    with applying_remote():  # the catalog and the agencies come down from the hub
        components = [{"name": "Tờ khai đăng ký khai sinh", "copies": 1}, {"name": "Giấy chứng sinh", "copies": 1}]
        Procedure.insert(id="p-ks", commune="*", code="1.001193", name="Đăng ký khai sinh", field="Hộ tịch", days=3,
                         components=json.dumps(components, ensure_ascii=False)).execute()
        Procedure.insert(id="p-ct", commune="*", code="2.000815", name="Chứng thực chữ ký", field="Chứng thực",
                         hours=4, components="[]").execute()
        Agency.insert(id="ag-1", commune="05518", code=OTHER, name="Sở Tư pháp tỉnh Thái Nguyên").execute()
    sign_in(client)
    return client


def receive(client, procedure="1.001193", components=("0", "1"), **fields):
    data = {"procedure": procedure, **PERSON, **fields, "components": list(components)}
    return client.post("/dossiers", data=data)


def received(client, **fields):
    response = receive(client, **fields)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return Dossier.get(Dossier.code == response.headers["Location"].split("/dossiers/")[1].split("?")[0])


def text(response):
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def act(client, dossier, action, **data):
    """An action as the desk's form sends it (the irreversible ones with their ticked confirmation)."""
    return client.post(f"/dossiers/{dossier.code}/{action}", data={"confirm": "1", **data})


# ---- signing in, finding procedures --------------------------------------------------------------

def test_the_desk_is_for_signed_in_officers(app, client, clock):
    response = client.get("/dossiers")
    assert response.status_code == 302 and response.headers["Location"].endswith("/counter")
    assert client.post("/dossiers", data={"procedure": "1.001193", "name": "A"}).status_code == 401
    assert client.get("/dossiers/new").status_code == 302


def test_procedures_are_found_without_diacritics_and_by_code(desk):
    page = desk.get("/dossiers/new?q=dang ky khai sinh")
    assert page.status_code == 200 and "Đăng ký khai sinh" in page.get_data(as_text=True)
    assert "Chứng thực chữ ký" not in page.get_data(as_text=True)
    rows = desk.get("/dossiers/procedures?q=2.0008").get_json()
    assert [r["code"] for r in rows] == ["2.000815"] and rows[0]["time_limit"] == "4 giờ làm việc"
    chosen = desk.get("/dossiers/new?procedure=1.001193").get_data(as_text=True)
    assert "Tờ khai đăng ký khai sinh" in chosen and "Giấy chứng sinh" in chosen and 'name="components"' in chosen


# ---- receiving -----------------------------------------------------------------------------------

def test_invalid_receipt_says_why_in_vietnamese_and_keeps_the_input(desk):
    response = receive(desk, name="  ", id_number="12345", phone="09ab", address="Xóm Đồi <b>2</b>",
                       components=("1",))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    words = text(response)
    assert "Cần họ tên người nộp hồ sơ." in words
    assert "Số định danh/CCCD phải có 12 chữ số (hoặc CMND 9 chữ số)." in words
    assert "Số điện thoại không hợp lệ." in words
    assert 'value="12345"' in page and 'value="09ab"' in page and 'value="Xóm Đồi &lt;b&gt;2&lt;/b&gt;"' in page
    assert re.search(r'value="1" checked', page) and not re.search(r'value="0" checked', page)  # the checks kept
    assert Dossier.select().count() == 0 and DossierEvent.select().count() == 0
    no_procedure = receive(desk, procedure="")
    assert no_procedure.status_code == 400 and "Hãy chọn thủ tục hành chính" in text(no_procedure)
    nothing = receive(desk, components=())
    assert nothing.status_code == 400 and "Hãy đánh dấu các giấy tờ đã nhận" in text(nothing)
    assert 'value="Nguyễn Văn An"' in nothing.get_data(as_text=True)
    assert Dossier.select().count() == 0


def test_codes_per_day_and_due_dates_in_working_days(desk, clock):
    first = received(desk)
    second = received(desk, extra="Bản sao sổ hộ khẩu\n\n")
    assert [first.code, second.code] == ["000.19.05518-260302-0001", "000.19.05518-260302-0002"]
    assert first.due_at == datetime(2026, 3, 5, 17)  # Mon + 3 working days, the day of receipt not counted
    assert (first.status, first.agency, first.handler, first.received_at) == (2, AGENCY, "Nguyễn Thị Lan", MON)
    assert json.loads(second.components)[-1] == {"name": "Bản sao sổ hộ khẩu", "copies": 1}
    assert first.applicant_phone == "0912345678"
    with applying_remote():  # a day off decided above the commune (hub-owned holiday)
        Holiday.insert(id="h-1", commune="*", day="2026-03-04", name="Nghỉ bù", kind="off").execute()
    clock["t"] = datetime(2026, 3, 2, 17, 30)  # after closing: counts from Tuesday
    late = received(desk)
    assert late.code.endswith("-260302-0003") and late.due_at == datetime(2026, 3, 9, 17)  # Tue→Thu, Fri, Mon
    clock["t"] = datetime(2026, 3, 3, 8)
    assert received(desk).code == "000.19.05518-260303-0001"
    hours = received(desk, procedure="2.000815", components=(), extra="Giấy tờ cần chứng thực")
    assert hours.due_at == datetime(2026, 3, 3, 14)  # 4 office hours: 08:00–11:30, then 13:30–14:00
    page = desk.get(f"/dossiers/{first.code}?received=1").get_data(as_text=True)
    assert first.code in page and "17:00 05/03/2026" in page and f"/dossiers/{first.code}/slip" in page


def test_receipt_for_the_ticket_served_at_my_counter(desk, app):
    issued = desk.post("/api/v1/tickets", json={"service": "ho-tich", "phone": "0987654321"}).get_json()
    assert desk.get("/dossiers/new?from_counter=1&procedure=1.001193").status_code == 200
    desk.post("/api/v1/counters/1/next")
    page = desk.get("/dossiers/new?from_counter=1&procedure=1.001193").get_data(as_text=True)
    assert "A-001" in page and f'name="ticket" value="{issued["id"]}"' in page and 'value="0987654321"' in page
    dossier = received(desk, ticket=issued["id"])
    assert dossier.ticket == issued["id"]
    assert "A-001" in desk.get(f"/dossiers/{dossier.code}").get_data(as_text=True)
    assert receive(desk, ticket="khong-co").status_code == 404
    assert Ticket.get_by_id(issued["id"]).state == "called"  # the queue is the counter's business


# ---- the printed forms ---------------------------------------------------------------------------

def test_slip_form_01_has_code_due_date_qr_and_barcode(desk):
    dossier = received(desk)
    response = desk.get(f"/dossiers/{dossier.code}/slip")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in page.upper()
    assert dossier.code in page and "17 giờ 00 phút, ngày 05/03/2026" in page and "17:00 05/03/2026" in page
    assert "09 giờ 15 phút, ngày 02/03/2026" in page and "3 ngày làm việc" in page
    assert '<svg width=' in page and 'class="segno"' in page  # the QR code, inline
    assert re.search(r'<svg class="barcode" role="img" aria-label="Mã vạch 000\.19\.05518-260302-0001"', page)
    assert page.count("<rect") > 30 and "<?xml" not in page  # Code 128 bars, inline
    assert "Tờ khai đăng ký khai sinh" in page and "Nguyễn Thị Lan" in page and "Sông Công, ngày 02 tháng 03" in page
    assert "size: A5" in page


def test_forms_02_to_06_render(desk, clock):
    dossier = received(desk)
    assert desk.get(f"/dossiers/{dossier.code}/forms/02").status_code == 404  # no supplement request yet
    assert act(desk, dossier, "supplement", note="Thiếu bản sao giấy chứng sinh").status_code == 303
    form02 = desk.get(f"/dossiers/{dossier.code}/forms/02")
    assert form02.status_code == 200 and "Thiếu bản sao giấy chứng sinh" in form02.get_data(as_text=True)
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in form02.get_data(as_text=True).upper()
    clock["t"] = datetime(2026, 3, 4, 10)
    assert act(desk, dossier, "resume").status_code == 303
    dossier = Dossier.get_by_id(dossier.id)
    assert dossier.due_at == datetime(2026, 3, 9, 17) and dossier.paused_days == 2  # Tue, Wed waited
    refused = received(desk)
    assert act(desk, refused, "refuse", reason="Hồ sơ không thuộc thẩm quyền của xã").status_code == 303
    form03 = desk.get(f"/dossiers/{refused.code}/forms/03").get_data(as_text=True)
    assert "Hồ sơ không thuộc thẩm quyền của xã" in form03 and "TỪ CHỐI" in form03.upper()
    clock["t"] = datetime(2026, 3, 10, 9)  # past the due date
    apology = act(desk, dossier, "apologize", new_due="2026-03-12T17:00", reason="Chờ xác minh thông tin")
    assert apology.status_code == 303
    form04 = desk.get(f"/dossiers/{dossier.code}/forms/04").get_data(as_text=True)
    assert "Chờ xác minh thông tin" in form04 and "17:00 09/03/2026" in form04 and "17:00 12/03/2026" in form04
    assert "XIN LỖI" in form04.upper()
    form05 = desk.get(f"/dossiers/{dossier.code}/forms/06")
    sheet = text(form05)
    assert form05.status_code == 200
    for label in ("Tiếp nhận hồ sơ", "Yêu cầu bổ sung giấy tờ", "Nhận đủ giấy tờ bổ sung",
                  "Xin lỗi, gia hạn thời gian giải quyết"):
        assert label in sheet
    form06 = desk.get("/dossiers/register?from=2026-03-01&to=2026-03-31")
    register = form06.get_data(as_text=True)
    assert form06.status_code == 200 and dossier.code in register and refused.code in register
    assert "SỔ THEO DÕI HỒ SƠ" in register.upper() and "A4 landscape" in register
    assert dossier.code not in desk.get("/dossiers/register?from=2026-04-01&to=2026-04-30").get_data(as_text=True)
    assert desk.get("/dossiers/register?from=hom-qua").status_code == 400
    assert desk.get(f"/dossiers/{dossier.code}/forms/07").status_code == 404


# ---- the actions and their rules -----------------------------------------------------------------

def test_each_action_follows_the_state_rules(desk, clock):
    dossier = received(desk)
    code = dossier.code

    def status():
        return Dossier.get(Dossier.code == code).status

    refused = act(desk, dossier, "return")
    assert refused.status_code == 409 and "chưa xử lý xong" in text(refused)
    early = act(desk, dossier, "apologize", new_due="2026-03-20T17:00", reason="x")
    assert early.status_code == 409 and "quá hạn" in text(early)
    assert act(desk, dossier, "resume").status_code == 409
    no_stage = act(desk, dossier, "transfer", stage="", agency=AGENCY)
    assert no_stage.status_code == 400 and "Cần tên bước xử lý." in text(no_stage)
    assert act(desk, dossier, "transfer", stage="Thẩm định", agency="000.99.XXX").status_code == 400
    assert act(desk, dossier, "transfer", stage="Thẩm định hồ sơ", handler="Trần Văn Minh", agency=AGENCY,
               note="Ưu tiên").status_code == 303
    assert (status(), Dossier.get(Dossier.code == code).handler) == (4, "Trần Văn Minh")
    assert act(desk, dossier, "refuse", reason="x").status_code == 409  # in progress: no refusal any more
    assert act(desk, dossier, "supplement", note="").status_code == 400
    assert act(desk, dossier, "supplement", note="Thiếu giấy chứng sinh").status_code == 303 and status() == 5
    paused = act(desk, dossier, "transfer", stage="Thẩm định", agency=AGENCY)
    assert paused.status_code == 409 and "chờ công dân bổ sung" in text(paused)
    assert act(desk, dossier, "resume").status_code == 303 and status() == 4
    assert act(desk, dossier, "transfer", stage="Chuyển liên thông", agency=OTHER).status_code == 303
    assert Dossier.get(Dossier.code == code).agency == OTHER
    assert "Sở Tư pháp tỉnh Thái Nguyên" in desk.get(f"/dossiers/{code}").get_data(as_text=True)
    clock["t"] = datetime(2026, 3, 6, 8)  # past 17:00 on the 5th
    assert act(desk, dossier, "apologize", new_due="2026-03-05T17:00", reason="x").status_code == 400
    assert act(desk, dossier, "apologize", new_due="not-a-date", reason="x").status_code == 400
    assert act(desk, dossier, "apologize", new_due="2026-03-10T17:00", reason="").status_code == 400
    assert act(desk, dossier, "apologize", new_due="2026-03-10T17:00", reason="Chờ Sở trả lời").status_code == 303
    assert Dossier.get(Dossier.code == code).due_at == datetime(2026, 3, 10, 17)
    assert act(desk, dossier, "finish", note="Đã ký").status_code == 303 and status() == 9
    assert Dossier.get(Dossier.code == code).timeliness == "early"
    assert act(desk, dossier, "withdraw").status_code == 409
    assert act(desk, dossier, "return", note="Công dân nhận").status_code == 303 and status() == 10
    for action in ("finish", "transfer", "supplement", "withdraw", "return"):
        assert act(desk, dossier, action, stage="x", note="x").status_code == 409, action
    events = [e.action for e in DossierEvent.select().where(DossierEvent.dossier == dossier.id)
              .order_by(DossierEvent.at, DossierEvent.id)]
    assert events == ["receive", "transfer", "supplement", "resume", "transfer", "apologize", "finish", "return"]
    assert desk.post("/dossiers/000-000000-0000/finish").status_code == 404
    withdrawn = received(desk)
    assert act(desk, withdrawn, "withdraw", note="Công dân xin rút").status_code == 303
    assert Dossier.get_by_id(withdrawn.id).status == 7
    # every write is in the change log, for the hub
    logged = {(e.table, e.op) for e in ChangeEntry.select()}
    assert {("dossier", "insert"), ("dossier", "update"), ("dossier_event", "insert")} <= logged


def test_an_error_keeps_what_the_officer_typed(desk):
    dossier = received(desk)
    response = act(desk, dossier, "refuse", reason="")
    assert response.status_code == 400 and "Cần lý do từ chối." in text(response)
    kept = act(desk, dossier, "transfer", stage="Thẩm định <i>gấp</i>", note="ghi chú giữ lại", agency="000.99.X")
    assert kept.status_code == 400 and "Cơ quan nhận hồ sơ không có trong danh sách." in text(kept)
    page = kept.get_data(as_text=True)
    assert 'value="Thẩm định &lt;i&gt;gấp&lt;/i&gt;"' in page and 'value="ghi chú giữ lại"' in page
    assert '<details id="act-transfer" open>' in page
    assert Dossier.get_by_id(dossier.id).status == 2


def test_list_filters_by_status_and_lateness(desk, clock):
    first, second, third = received(desk), received(desk, name="Trần Thị Bình"), received(desk, name="Lê Văn Cường")
    act(desk, second, "transfer", stage="Thẩm định", agency=AGENCY)
    act(desk, third, "finish")
    clock["t"] = datetime(2026, 3, 6, 9)
    everything = desk.get("/dossiers").get_data(as_text=True)
    assert all(d.code in everything for d in (first, second, third)) and "Quá hạn (2)" in everything
    in_progress = desk.get("/dossiers?status=4").get_data(as_text=True)
    assert second.code in in_progress and first.code not in in_progress and third.code not in in_progress
    late = desk.get("/dossiers?overdue=1").get_data(as_text=True)
    assert first.code in late and second.code in late and third.code not in late
    found = desk.get("/dossiers?q=Bình").get_data(as_text=True)
    assert second.code in found and first.code not in found
    assert "Không có hồ sơ nào" in desk.get("/dossiers?q=khong-ai").get_data(as_text=True)


# ---- escaping and privacy ------------------------------------------------------------------------

def test_what_people_typed_is_escaped_everywhere(desk):
    evil = '<script>alert("x")</script>'
    dossier = received(desk, name=f"Nguyễn {evil}", address=f"Tổ 1 {evil}", extra=f"Giấy {evil}")
    act(desk, dossier, "transfer", stage=f"Bước {evil}", agency=AGENCY, note=evil)
    for path in (f"/dossiers/{dossier.code}", "/dossiers", f"/dossiers/{dossier.code}/slip",
                 f"/dossiers/{dossier.code}/forms/06", "/dossiers/register?from=2026-03-01&to=2026-03-31",
                 f"/tracking?code={dossier.code}&secret={dossier.tracking_secret}"):
        page = desk.get(path).get_data(as_text=True)
        assert "<script>alert" not in page, path
        assert "&lt;script&gt;" in page, path


def test_tracking_never_shows_the_id_number_phone_or_address(desk, client):
    dossier = received(desk)
    act(desk, dossier, "transfer", stage="Thẩm định", agency=AGENCY)
    api = client.get(f"/api/v1/tracking/{dossier.code}?secret={dossier.tracking_secret}")
    page = client.get(f"/tracking?code={dossier.code}&secret={dossier.tracking_secret}")
    assert api.status_code == page.status_code == 200
    assert api.get_json()["status_label"] == "Đang xử lý" and api.get_json()["applicant"] == "N***** V** An"
    for body in (api.get_data(as_text=True), page.get_data(as_text=True)):
        for secret in SECRETS + ("Nguyễn Văn An",):
            assert secret not in body
    assert "17:00 05/03/2026" in page.get_data(as_text=True)


# ---- the thermal slip ----------------------------------------------------------------------------

def test_thermal_slip_goes_through_the_print_jobs(desk, app, settings, tmp_path):
    dossier = received(desk, print_slip="1")
    job = PrintJob.get()
    payload = json.loads(job.payload)
    assert payload["kind"] == "slip" and payload["code"] == dossier.code and payload["due_at"] == "17:00 05/03/2026"
    assert payload["secret"] == dossier.tracking_secret and len(dossier.tracking_secret) == 6
    assert payload["qr"] == f"http://127.0.0.1:8001/tracking?code={dossier.code}&secret={dossier.tracking_secret}"
    assert "001099012345" not in job.payload and "0912345678" not in job.payload
    printer = Dummy()
    assert process_job(job.id, lambda: printer, settings) == PrintJob.DONE
    assert len(printer.output) > 1000  # the raster image, the QR code, the cut
    assert desk.post(f"/dossiers/{dossier.code}/print-slip").status_code == 303
    again = PrintJob.select().order_by(PrintJob.id.desc()).first()
    preview = PreviewPrinter(tmp_path / "prints")
    assert process_job(again.id, lambda: preview, settings) == PrintJob.DONE
    assert sorted(p.suffix for p in (tmp_path / "prints").iterdir()) == [".bin", ".png"]


def test_slip_image_is_one_bit_and_fits_both_papers():
    payload = {"office": "UBND Phường Sông Công", "code": "000.19.05518-260302-0001", "procedure": "Đăng ký khai sinh",
               "applicant": "Nguyễn Văn An", "received_at": "09:15 02/03/2026", "due_at": "17:00 05/03/2026",
               "components": ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"], "officer": "Nguyễn Thị Lan",
               "tracking_url": "http://192.168.1.10:8001/tracking", "qr": "000.19.05518-260302-0001"}
    wide, narrow = render_slip(payload, 576), render_slip(payload, 384)
    assert wide.mode == narrow.mode == "1" and wide.width == 576 and narrow.width == 384
    assert barcode_band(payload["code"], 576) is not None  # 2 dots a module on 80 mm paper
    assert barcode_band(payload["code"], 384) is None  # 58 mm: the QR code alone
    assert set(code128_modules(payload["code"])) == {"0", "1"}


def test_the_desk_shows_the_secret_and_a_reprinted_slip_makes_one_for_an_old_dossier(desk):
    dossier = received(desk)
    assert dossier.tracking_secret in desk.get(f"/dossiers/{dossier.code}").get_data(as_text=True)
    dossier.save_changes({"tracking_secret": None})  # as received on an older box
    assert "chưa có" in desk.get(f"/dossiers/{dossier.code}").get_data(as_text=True)
    assert desk.post(f"/dossiers/{dossier.code}/print-slip").status_code == 303
    secret = Dossier.get_by_id(dossier.id).tracking_secret
    assert len(secret) == 6 and json.loads(PrintJob.select().order_by(PrintJob.id.desc()).first().payload)["secret"] == secret
    assert secret in desk.get(f"/dossiers/{dossier.code}/slip").get_data(as_text=True)
