"""The appointment slip (giấy hẹn) on the thermal printer: form 01 in a receipt's shape.

Like a queue ticket, the text is one 1-bit raster image (DejaVu Sans: Vietnamese needs no
code page), the tracking code's Code 128 barcode is drawn into it when it fits at two dots
per module, and the QR code (its text is the dossier code) goes native where the profile
supports it. The A5 form printed through the browser remains the official paper.

Payload (a dict, stored as a print job with ``"kind": "slip"``)::

    office, code, procedure, applicant, received_at, due_at, components [names], officer,
    tracking_url (where to look the code up), secret (the tracking secret, printed big: with the
    code it opens the dossier's progress), qr (the text of the QR code: the tracking page's URL
    with code and secret; the code alone on slips made before secrets)
"""
from dataclasses import dataclass
from datetime import datetime

from escpos.constants import QR_ECLEVEL_M
from PIL import Image, ImageDraw

from .printer import (BASE_WIDTH, PreviewPrinter, _font, _qr_band, _qr_size, _set_paper_width, _stack, _wrap,
                      print_image)

BARCODE_HEIGHT = 72  # dots (9 mm at 203 dpi)
BARCODE_QUIET = 4  # modules of quiet zone each side, at least


@dataclass(frozen=True)
class _Row:
    text: str
    size: int
    bold: bool = False
    align: str = "center"  # center / left
    inverse: bool = False
    fit: bool = False  # shrink to one line instead of wrapping
    indent: bool = False  # wrapped rows of a list item start under its text, not its bullet


def _rows(payload):
    rows = [
        _Row(payload.get("office") or "", 26, bold=True),
        _Row(payload.get("office_title") or "Trung tâm Phục vụ hành chính công", 22),
        None,
        _Row("GIẤY TIẾP NHẬN HỒ SƠ", 32, bold=True),
        _Row("VÀ HẸN TRẢ KẾT QUẢ", 32, bold=True),
        _Row("Mã hồ sơ", 22),
        _Row(payload["code"], 32, bold=True, fit=True),
        None,
        _Row(f"Thủ tục: {payload.get('procedure', '')}", 24, align="left"),
        _Row(f"Người nộp: {payload.get('applicant', '')}", 24, align="left"),
        _Row(f"Tiếp nhận lúc: {payload.get('received_at', '')}", 24, align="left"),
    ]
    components = [c for c in payload.get("components") or [] if c]
    if components:
        rows.append(_Row("Giấy tờ đã nhận:", 24, bold=True, align="left"))
        rows += [_Row(f"– {name}", 22, align="left", indent=True) for name in components]
    if payload.get("officer"):
        rows.append(_Row(f"Người tiếp nhận: {payload['officer']}", 22, align="left"))
    rows += [
        None,
        _Row("HẸN TRẢ KẾT QUẢ", 26, bold=True),
        _Row(payload.get("due_at", ""), 40, bold=True, inverse=True, fit=True),
        _Row("Mang theo giấy này khi đến nhận kết quả.", 22),
    ]
    if payload.get("secret"):
        rows += [_Row("Mã bí mật tra cứu (giữ kín)", 22, bold=True), _Row(payload["secret"], 36, bold=True)]
    if payload.get("tracking_url"):
        rows.append(_Row(f"Tra cứu: {payload['tracking_url']}", 20, fit=True))
    return [row for row in rows if row is None or row.text]


def render_slip(payload, width):
    """The slip's text (and barcode, when it fits) as a black-and-white image ``width`` dots wide."""
    image = render_rows(_rows(payload), width)
    barcode = barcode_band(payload["code"], width)
    return _stack(image, barcode) if barcode is not None else image


def render_rows(rows, width):
    """Rows of text (``None``: a rule) as one black-and-white image ``width`` dots wide."""
    scale = (width / BASE_WIDTH) ** 0.5  # as the ticket: 58 mm paper keeps readable text
    margin = max(8, width // 32)
    inner = width - 2 * margin
    blocks = []
    for row in rows:
        if row is None:
            blocks.append(None)
            continue
        size = max(12, round(row.size * scale))
        font = _font(size, row.bold)
        pad = 2 * margin if row.inverse else 0
        if row.fit:
            while size > 12 and font.getlength(row.text) > inner - pad:
                size -= 2
                font = _font(size, row.bold)
            lines = [row.text]
        else:
            lines = _wrap(row.text, font, inner - pad)
            if row.indent and len(lines) > 1:  # "– text" : continuation lines under the text
                hang = font.getlength("– ")
                lines = [lines[0]] + ["\0" + line for line in _wrap(" ".join(lines[1:]), font, inner - hang)]
        ascent, descent = font.getmetrics()
        blocks.append((row, lines, font, ascent + descent, round(min(size, 36) * 0.35)))
    rule = 2 * margin
    height = 2 * margin + sum(rule if b is None else len(b[1]) * b[3] + b[4] for b in blocks)
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    y = margin
    for block in blocks:
        if block is None:
            draw.line((margin, y + margin, width - margin, y + margin), fill=0, width=2)
            y += rule
            continue
        row, lines, font, row_height, gap = block
        for line in lines:
            if row.inverse:
                half = font.getlength(line) / 2 + margin
                draw.rectangle((width / 2 - half, y, width / 2 + half, y + row_height), fill=0)
            if row.align == "left":
                x = margin
                if line.startswith("\0"):
                    line, x = line[1:], margin + font.getlength("– ")
                draw.text((x, y), line, font=font, fill=0, anchor="la")
            else:
                draw.text((width / 2, y), line, font=font, fill=1 if row.inverse else 0, anchor="ma")
            y += row_height
        y += gap
    return image


def code128_modules(text):
    """The bars of ``text`` in Code 128 as a string of 1 (dark) and 0 (light) modules."""
    import barcode

    return barcode.get("code128", text).build()[0]


def barcode_band(text, width, height=BARCODE_HEIGHT):
    """Code 128 of ``text`` centred on a strip as wide as the paper; None when two dots per
    module do not fit (58 mm paper: the QR code carries the code alone)."""
    modules = code128_modules(text)
    module = width // (len(modules) + 2 * BARCODE_QUIET)
    if module < 2:
        return None
    band = Image.new("1", (width, height + 8), 1)
    draw = ImageDraw.Draw(band)
    x = (width - module * len(modules)) // 2
    for i, bit in enumerate(modules):
        if bit == "1":
            draw.rectangle((x + i * module, 4, x + (i + 1) * module - 1, 4 + height - 1), fill=0)
    return band


def render_slip_preview(payload, width):
    """What the paper will look like: the text, then the QR code."""
    return _stack(render_slip(payload, width), _qr_band(payload.get("qr") or payload["code"], width))


def write_slip(printer, payload, width, stem=None):
    """Send one slip to ``printer``; ``stem`` names the files a preview printer keeps."""
    _set_paper_width(printer, width)
    print_image(printer, render_slip(payload, width))
    qr = payload.get("qr") or payload["code"]
    if printer.profile.supports("qrCode"):
        printer.set(align="center")
        printer.qr(qr, ec=QR_ECLEVEL_M, size=_qr_size(qr, width), native=True)
        printer.set(align="left")
    else:
        print_image(printer, _qr_band(qr, width))
    printer.cut()
    if isinstance(printer, PreviewPrinter):
        printer.save_ticket(stem or f"slip-{payload['code']}-{datetime.now():%Y%m%d-%H%M%S-%f}",
                            render_slip_preview(payload, width))
