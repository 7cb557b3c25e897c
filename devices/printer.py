"""The ticket printer: the only module that speaks ESC/POS.

A ticket is printed as one raster image (Vietnamese text needs no code page that way),
then the tracking QR code, natively when the printer can draw it, then a cut. The
``preview`` printer keeps each ticket as ``.bin`` (the exact ESC/POS bytes) and ``.png``.
"""
import re
import struct
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from office.errors import MotcuaError

from . import escpos_capabilities

escpos_capabilities.load()  # before escpos reads its printer profiles
from escpos.constants import QR_ECLEVEL_M  # noqa: E402
from escpos.exceptions import ImageWidthError  # noqa: E402
from escpos.printer import Dummy, File, Network, Serial, Usb  # noqa: E402

FONTS = Path(__file__).with_name("fonts")
BASE_WIDTH = 576  # 80 mm paper; sizes below are for it and scale down for 58 mm
QR_SIZE = 6  # dots per QR module
QR_BORDER = 2  # modules of quiet zone in image QR codes


@dataclass(frozen=True)
class _Line:
    text: str
    size: int
    bold: bool = False
    inverse: bool = False
    fit: bool = False  # shrink to one line instead of wrapping
    repeats: bool = False  # the same text on every ticket (of a service): its dots are kept (``_row_mask``)


def _lines(payload):
    lines = [
        _Line(payload.get("office") or "", 28, bold=True, repeats=True),
        None,  # a rule
        _Line("PHIẾU THỨ TỰ", 36, bold=True, repeats=True),
        _Line(payload.get("service") or "", 28, repeats=True),
        _Line(payload["number"], 170, bold=True, fit=True),
    ]
    if payload.get("priority_label"):
        lines.append(_Line(payload["priority_label"], 28, bold=True, inverse=True, repeats=True))
    if payload.get("estimated_wait_min") is not None:
        minutes = payload["estimated_wait_min"]
        text = f"Thời gian chờ dự kiến: khoảng {minutes} phút" if minutes >= 1 else "Sắp đến lượt quý khách"
        lines.append(_Line(text, 26))
    if payload.get("ahead") is not None:
        lines.append(_Line(f"Số người chờ trước: {payload['ahead']}", 26))
    lines += [
        _Line(f"Lấy số lúc {payload.get('issued_at', '')}", 24),
        _Line(f"Mã tra cứu: {payload.get('tracking_code', '')}", 28, bold=True),
        None,
        _Line("Xin vui lòng chờ đến lượt", 26, repeats=True),
    ]
    return [line for line in lines if line is None or line.text]


@lru_cache(maxsize=64)
def _font(size, bold):
    return ImageFont.truetype(str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size)


@lru_cache(maxsize=256)
def _wrap(text, font, max_width):
    """The rows of ``text`` in ``font`` at most ``max_width`` dots wide (a tuple: the lines most tickets
    repeat, the office, the service, the closing words, are measured once)."""
    rows, row = [], ""
    for word in text.split():
        candidate = f"{row} {word}".strip()
        if row and font.getlength(candidate) > max_width:
            rows.append(row)
            candidate = word
        row = candidate
    return tuple(rows + [row] if row else rows)


@lru_cache(maxsize=32)
def _row_mask(row, font, width, row_height):
    """(dots, size, left, top) of what ``row`` sets when drawn centred on a strip ``width`` dots wide,
    ``top`` from the row's own top; None for a row with no dot. Rendering the glyphs is most of a
    ticket's printing, and most rows repeat on every ticket: each is rendered once, cropped to its
    dots and packed, then stamped with ``paste``: the same dots ``ImageDraw.text`` sets. Only the rows
    every ticket of a service repeats are kept (the office, the title, the service, the priority, the
    closing words): rows that change (the number, the time, the people ahead) are drawn, as a cache
    churning through them left the worker's heap 4 MB larger (bench/queue.py)."""
    pad = row_height  # room for marks above and below the row (Vietnamese capitals stack them)
    strip = Image.new("1", (width, row_height + 2 * pad), 0)
    ImageDraw.Draw(strip).text((width / 2, pad), row, font=font, fill=1, anchor="ma")
    box = strip.getbbox()
    if box is None:
        return None
    dots = strip.crop(box)
    return dots.tobytes(), dots.size, box[0], box[1] - pad  # packed, a bit a dot


def _stamp_row(image, row, font, y, row_height, ink):
    """Set the dots of a repeating ``row`` to ``ink`` (0 black, 1 white), centred, its top at ``y``."""
    mask = _row_mask(row, font, image.width, row_height)
    if mask is not None:
        dots, size, left, top = mask
        image.paste(ink, (left, y + top), mask=Image.frombytes("1", size, dots))


def render_ticket(payload, width):
    """The text of a ticket as a black-and-white image ``width`` dots wide."""
    scale = (width / BASE_WIDTH) ** 0.5  # shrink text less than the paper: 58 mm stays readable
    margin = max(8, width // 32)
    inner = width - 2 * margin
    blocks = []  # (rows, font, inverse, height of one row, gap after, repeats)
    for line in _lines(payload):
        if line is None:
            blocks.append(None)
            continue
        size = max(12, round(line.size * scale))
        font = _font(size, line.bold)
        if line.fit:
            while size > 12 and font.getlength(line.text) > inner:
                size -= 4
                font = _font(size, line.bold)
            rows = [line.text]
        else:
            rows = _wrap(line.text, font, inner - (2 * margin if line.inverse else 0))
        ascent, descent = font.getmetrics()
        blocks.append((rows, font, line.inverse, ascent + descent, round(min(size, 36) * 0.4), line.repeats))
    rule_height = 2 * margin
    height = 2 * margin + sum(
        rule_height if b is None else len(b[0]) * b[3] + b[4] for b in blocks
    )
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    y = margin
    for block in blocks:
        if block is None:
            draw.line((margin, y + margin, width - margin, y + margin), fill=0, width=2)
            y += rule_height
            continue
        rows, font, inverse, row_height, gap, repeats = block
        for row in rows:
            if inverse:
                half = font.getlength(row) / 2 + margin
                draw.rectangle((width / 2 - half, y, width / 2 + half, y + row_height), fill=0)
            ink = 1 if inverse else 0
            if repeats:
                _stamp_row(image, row, font, y, row_height, ink)
            else:
                draw.text((width / 2, y), row, font=font, fill=ink, anchor="ma")
            y += row_height
        y += gap
    return image


# The most bytes a QR code of each version (1 to 40) holds at level M in byte mode (ISO/IEC 18004),
# the mode that needs the most room: no content of that many bytes makes a larger code.
_BYTES_AT_M = (14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666,
               711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809, 1911, 1989,
               2099, 2213, 2331)


@lru_cache(maxsize=8)
def _bytes_at_full_size(width):
    """The most bytes whose QR code fits ``width`` dots at QR_SIZE dots a module (-1: none does)."""
    fitting = [n for version, n in enumerate(_BYTES_AT_M, 1) if QR_SIZE * (17 + 4 * version + 2 * QR_BORDER) <= width]
    return fitting[-1] if fitting else -1


def _qr_size(content, width, qr=None):
    """Dots per module: QR_SIZE unless the code would not fit on the paper. Without ``qr``, a content
    short enough to fit at QR_SIZE in any mode needs no code made at all (a ticket's tracking address:
    up to 213 bytes fit on 58 mm paper, 560 on 80 mm); a longer one is made with a fixed mask: its
    size is the same, and segno's building and masking in Python were a third of a ticket's printing
    (choosing the best of eight masks, before, 40 %) when only the size was wanted."""
    if qr is None:
        if len(content.encode()) <= _bytes_at_full_size(width):
            return QR_SIZE
        qr = segno.make(content, error="m", mask=0)
    modules = qr.symbol_size(scale=1, border=QR_BORDER)[0]
    return max(1, min(QR_SIZE, width // modules))


def _qr_band(content, width):
    """The QR code centered on a strip as wide as the paper."""
    qr = segno.make(content, error="m")
    scale = _qr_size(content, width, qr)
    size = qr.symbol_size(scale=scale, border=QR_BORDER)
    code = Image.new("1", size, 1)
    code.putdata([0 if dark else 255 for row in qr.matrix_iter(scale=scale, border=QR_BORDER) for dark in row])
    band = Image.new("1", (width, size[1]), 1)
    band.paste(code, ((width - size[0]) // 2, 0))
    return band


def _stack(top, bottom):
    image = Image.new("1", (top.width, top.height + bottom.height), 1)
    image.paste(top, (0, 0))
    image.paste(bottom, (0, top.height))
    return image


def render_preview(payload, width, text=None):
    """What the paper will look like: the text (``render_ticket``'s image, made here without
    ``text``) with the QR code under it."""
    return _stack(render_ticket(payload, width) if text is None else text, _qr_band(payload["qr"], width))


def write_ticket(printer, payload, width, stem=None):
    """Send one ticket to ``printer``; ``stem`` names the files a preview printer keeps."""
    _set_paper_width(printer, width)
    image = render_ticket(payload, width)
    print_image(printer, image)
    if printer.profile.supports("qrCode"):
        # python-escpos 3.1 refuses center=True with native=True: align the line instead.
        printer.set(align="center")
        printer.qr(payload["qr"], ec=QR_ECLEVEL_M, size=_qr_size(payload["qr"], width), native=True)
        printer.set(align="left")
    else:
        print_image(printer, _qr_band(payload["qr"], width))
    printer.cut()
    if isinstance(printer, PreviewPrinter):
        number = payload.get("number", "ticket")
        printer.save_ticket(stem or f"{number}-{datetime.now():%Y%m%d-%H%M%S-%f}",
                            render_preview(payload, width, image))


_INVERT = bytes(255 - b for b in range(256))  # Pillow's 1-bit images: 1 is white; ESC/POS rasters: 1 prints
FRAGMENT_HEIGHT = 960  # escpos's default: taller images go as several rasters


def print_image(printer, image):
    """``printer.image(image)``: the same bytes for a black-and-white image as wide as whole bytes
    (every image here), without escpos's conversion of each image to RGBA, RGB and greyscale and
    back (half of a ticket's printing, and a Pi's core is several times slower)."""
    width = printer.profile.profile_data.get("media", {}).get("width", {}).get("pixels")
    if image.mode != "1" or image.width % 8 or not isinstance(width, int):
        printer.image(image)
        return
    if image.width > width:
        raise ImageWidthError(f"{image.width} > {width}")
    for top in range(0, image.height, FRAGMENT_HEIGHT):
        part = image.crop((0, top, image.width, min(top + FRAGMENT_HEIGHT, image.height)))
        # GS v 0, high density both ways (escpos's bitImageRaster)
        printer._raw(b"\x1dv0\x00" + struct.pack("<HH", image.width // 8, part.height)
                     + part.tobytes().translate(_INVERT))


def _set_paper_width(printer, width):
    """Tell the profile the paper width, so escpos neither prints a notice nor guesses."""
    data = printer.profile.profile_data
    media = data.get("media", {})
    if media.get("width", {}).get("pixels") != width:
        # profile_data is shared by every printer of a profile class: copy, never mutate.
        printer.profile.profile_data = {**data, "media": {**media, "width": {**media.get("width", {}), "pixels": width}}}


class PreviewPrinter(Dummy):
    """A printer on disk: each ticket becomes ``<stem>.bin`` and ``<stem>.png`` in ``directory``."""

    def __init__(self, directory, **kwargs):
        super().__init__(**kwargs)
        self.directory = Path(directory)

    def save_ticket(self, stem, preview):
        """Keep the bytes written since the last ticket and the preview; return both paths."""
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^\w.-]", "_", stem)
        raw, png = self.directory / f"{stem}.bin", self.directory / f"{stem}.png"
        raw.write_bytes(self.output)
        preview.save(png)
        self.clear()
        return raw, png


def prune_previews(directory, keep):
    """Keep the newest ``keep`` tickets of a preview printer's ``directory`` (both files of each);
    delete the older ones. Returns how many tickets were deleted."""
    directory = Path(directory)
    if keep < 0 or not directory.is_dir():
        return 0
    stems = {}
    for path in directory.iterdir():
        if path.suffix in (".bin", ".png") and path.is_file():
            try:
                moment = path.stat().st_mtime
            except FileNotFoundError:
                continue
            stems[path.stem] = max(stems.get(path.stem, 0), moment)
    old = sorted(stems, key=lambda stem: (stems[stem], stem), reverse=True)[keep:]
    for stem in old:
        for suffix in (".bin", ".png"):
            (directory / f"{stem}{suffix}").unlink(missing_ok=True)
    return len(old)


def open_printer(spec, data_dir, timeout):
    """A printer for the ``printer`` setting. Devices open lazily, on the first byte sent."""
    kind, _, arg = spec.strip().partition(":")
    kind = kind.lower()
    if kind == "dummy" and not arg:
        return Dummy()
    if kind == "preview" and not arg:
        return PreviewPrinter(Path(data_dir) / "prints")
    if kind == "usb":
        vendor, _, product = arg.partition(":")
        try:
            ids = int(vendor, 16), int(product, 16)
        except ValueError:
            raise _bad_spec(spec) from None
        _require(Usb, "pyusb")
        return Usb(*ids, timeout=int(timeout * 1000))  # pyusb counts milliseconds
    if kind == "network" and arg:
        host, port = arg, "9100"
        if arg.count(":") == 1:
            host, port = arg.split(":")
        if not host or not port.isdigit():
            raise _bad_spec(spec)
        return Network(host, int(port), timeout=timeout)
    if kind == "serial" and arg:
        _require(Serial, "pyserial")
        return Serial(arg, timeout=timeout)
    if kind == "file" and arg:
        return File(arg)
    raise _bad_spec(spec)


def _require(printer_class, library):
    if not printer_class.is_usable():
        raise MotcuaError(f"Thiếu thư viện {library} để dùng máy in {printer_class.__name__}: hãy cài “{library}”.")


def _bad_spec(spec):
    return MotcuaError(
        f"Cấu hình máy in “{spec}” không hợp lệ. Hãy dùng: dummy, preview, usb:VID:PID, "
        "network:ĐỊA_CHỈ[:CỔNG], serial:THIẾT_BỊ hoặc file:ĐƯỜNG_DẪN."
    )
