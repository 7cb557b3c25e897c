"""What to bring for a procedure, on the thermal printer: the kiosk's “In danh sách giấy tờ cần mang”.

The same 1-bit raster as the appointment slip (``devices.slip``), with a box to tick per
document, and the QR code of the procedure's page to read it again on a phone.

Payload (a dict, stored as a print job with ``"kind": "checklist"``)::

    office, procedure, code (of the procedure), field, time_limit, fee, components [[name, what to bring]], qr
"""
from datetime import datetime

from escpos.constants import QR_ECLEVEL_M

from .printer import PreviewPrinter, _qr_band, _qr_size, _set_paper_width, _stack, print_image
from .slip import _Row, render_rows


def _rows(payload):
    rows = [
        _Row(payload.get("office") or "", 26, bold=True),
        _Row(payload.get("office_title") or "Bộ phận tiếp nhận và trả kết quả", 22),
        None,
        _Row("GIẤY TỜ CẦN MANG THEO", 32, bold=True),
        _Row(payload.get("procedure") or "", 26, bold=True),
        _Row(f"Mã thủ tục: {payload.get('code', '')}", 22),
        None,
    ]
    components = payload.get("components") or []
    for index, (name, bring) in enumerate(components, 1):
        bring = f"{bring:02d} bản" if isinstance(bring, int) else bring  # “1 bản chính, 2 bản sao”
        rows.append(_Row(f"☐ {index}. {name}" + (f" ({bring})" if bring else ""), 24, align="left", indent=True))
    if not components:
        rows.append(_Row("Chưa có thông tin; xin hỏi cán bộ tại quầy.", 24, align="left"))
    rows += [
        None,
        _Row(f"Thời hạn giải quyết: {payload.get('time_limit', '')}", 22, align="left"),
        _Row(f"Phí, lệ phí: {payload.get('fee') or 'Không quy định'}", 22, align="left"),
        _Row("Bản sao cần mang theo bản chính để đối chiếu.", 20),
        _Row("Quét mã QR để xem lại trên điện thoại", 20),
    ]
    return [row for row in rows if row is None or row.text]


def render_checklist(payload, width):
    return render_rows(_rows(payload), width)


def write_checklist(printer, payload, width, stem=None):
    """Send one checklist to ``printer``; ``stem`` names the files a preview printer keeps."""
    _set_paper_width(printer, width)
    image = render_checklist(payload, width)
    print_image(printer, image)
    qr = payload.get("qr")
    if qr and printer.profile.supports("qrCode"):
        printer.set(align="center")
        printer.qr(qr, ec=QR_ECLEVEL_M, size=_qr_size(qr, width), native=True)
        printer.set(align="left")
    elif qr:
        print_image(printer, _qr_band(qr, width))
    printer.cut()
    if isinstance(printer, PreviewPrinter):
        preview = _stack(image, _qr_band(qr, width)) if qr else image
        printer.save_ticket(stem or f"checklist-{datetime.now():%Y%m%d-%H%M%S-%f}", preview)
