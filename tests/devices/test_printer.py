import pytest
from hypothesis import given, settings, strategies as st
from escpos.constants import PAPER_FULL_CUT
from escpos.printer import Dummy, File, Network
from PIL import Image, ImageDraw

from devices.printer import PreviewPrinter, open_printer, render_preview, render_ticket, write_ticket
from office.errors import MotcuaError

PAYLOAD = {
    "office": "Ủy ban nhân dân phường Sông Công, thành phố Sông Công, tỉnh Thái Nguyên",
    "service": "Hộ tịch",
    "number": "A-015",
    "priority_label": "Người cao tuổi",
    "issued_at": "08:15 23/11/2026",
    "estimated_wait_min": 12,
    "ahead": 3,
    "tracking_code": "7K3M9QXZ",
    "qr": "http://192.168.1.10:8001/t/7K3M9QXZ",
}


def black_pixels(image):
    return image.histogram()[0]


def test_dummy_output_has_raster_image_native_qr_and_cut():
    printer = Dummy()
    write_ticket(printer, PAYLOAD, 576)
    out = printer.output
    assert b"\x1dv0" in out  # GS v 0: raster bit image
    assert b"\x1d(k" in out  # GS ( k: native 2D code
    assert PAYLOAD["qr"].encode() in out
    assert out.index(b"\x1dv0") < out.index(b"\x1d(k")
    assert out.endswith(PAPER_FULL_CUT)


def test_printer_without_native_qr_gets_an_image_qr():
    printer = Dummy()
    printer.profile.features = {**printer.profile.features, "qrCode": False}
    write_ticket(printer, PAYLOAD, 384)
    assert b"\x1d(k" not in printer.output
    assert printer.output.count(b"\x1dv0") >= 2


@pytest.mark.parametrize("width", [384, 576])
def test_render_fits_the_paper(width):
    ticket = render_ticket(PAYLOAD, width)
    preview = render_preview(PAYLOAD, width)
    for image in (ticket, preview):
        assert image.mode == "1"
        assert image.width == width
        assert 0 < black_pixels(image) < width * image.height / 2
    assert preview.height > ticket.height
    assert black_pixels(preview) > black_pixels(ticket)


@pytest.mark.parametrize("width", [384, 576])
def test_rows_stamped_from_their_cached_dots_print_what_drawing_them_prints(width, monkeypatch):
    """Each row's glyphs are rendered once and stamped from then on (rendering them was most of a
    ticket's printing): the ticket must be dot for dot the one ``ImageDraw.text`` draws, marks stacked
    on capitals, white rows on black and wrapped rows included."""
    import devices.printer as printer

    payloads = [PAYLOAD, dict(PAYLOAD, priority_label=None, estimated_wait_min=0, ahead=0),
                dict(PAYLOAD, office="ỦY BAN NHÂN DÂN XÃ ĐỒNG HỶ", service="Chứng thực bản sao từ bản chính, "
                     "chữ ký, hợp đồng, giao dịch liên quan đến động sản", number="Ễ-999", priority_label="NGƯỜI KHUYẾT TẬT")]
    stamped = [render_ticket(p, width).tobytes() for p in payloads + payloads]  # the second time from the cache

    def drawn(image, row, font, y, row_height, ink):
        ImageDraw.Draw(image).text((image.width / 2, y), row, font=font, fill=ink, anchor="ma")

    monkeypatch.setattr(printer, "_stamp_row", drawn)
    assert stamped == [render_ticket(p, width).tobytes() for p in payloads + payloads]


def test_optional_lines_change_the_ticket():
    plain = dict(PAYLOAD, priority_label=None)
    assert render_ticket(plain, 576).height < render_ticket(PAYLOAD, 576).height


def test_preview_printer_keeps_bytes_and_png(tmp_path):
    printer = open_printer("preview", str(tmp_path), 5)
    assert isinstance(printer, PreviewPrinter)
    write_ticket(printer, PAYLOAD, 384, stem="A-015-7")
    reference = Dummy()
    write_ticket(reference, PAYLOAD, 384)

    raw = tmp_path / "prints" / "A-015-7.bin"
    assert raw.read_bytes() == reference.output
    with Image.open(tmp_path / "prints" / "A-015-7.png") as png:
        assert png.width == 384
        assert png.height > 384
    assert printer.output == b""  # the next ticket starts from an empty buffer


def test_preview_printer_names_files_by_number_without_stem(tmp_path):
    write_ticket(open_printer("preview", str(tmp_path), 5), PAYLOAD, 576)
    assert [p.suffix for p in sorted((tmp_path / "prints").glob("A-015-*"))] == [".bin", ".png"]


def test_specs_build_lazy_printers(tmp_path):
    assert type(open_printer("dummy", str(tmp_path), 5)) is Dummy
    network = open_printer("network:192.168.1.50", str(tmp_path), 3)
    assert isinstance(network, Network)
    assert (network.host, network.port, network.timeout) == ("192.168.1.50", 9100, 3)
    assert open_printer("network:printer.local:9101", str(tmp_path), 3).port == 9101
    target = tmp_path / "lp0"
    printer = open_printer(f"file:{target}", str(tmp_path), 3)
    assert isinstance(printer, File)
    assert not target.exists()  # nothing opened until the first byte
    write_ticket(printer, PAYLOAD, 384)
    printer.close()
    assert b"\x1dv0" in target.read_bytes()


@pytest.mark.parametrize("spec", ["laser", "usb:xyz:1", "network:", "network:host:port", "file:", "dummy:1", ""])
def test_unknown_spec_is_a_vietnamese_error(tmp_path, spec):
    with pytest.raises(MotcuaError, match="Cấu hình máy in"):
        open_printer(spec, str(tmp_path), 5)


def test_print_previews_do_not_pile_up(tmp_path):
    import os

    from devices.printer import prune_previews

    prints = tmp_path / "prints"
    prints.mkdir()
    for i in range(10):
        for suffix in (".bin", ".png"):
            path = prints / f"A{i:03d}{suffix}"
            path.write_bytes(b"x")
            os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))
    (prints / "notes.txt").write_text("kept")
    assert prune_previews(prints, 3) == 7
    assert sorted(p.name for p in prints.iterdir()) == [
        "A007.bin", "A007.png", "A008.bin", "A008.png", "A009.bin", "A009.png", "notes.txt"]
    assert prune_previews(prints, 3) == 0
    assert prune_previews(tmp_path / "absent", 3) == 0


def _escpos_and_ours(image, width):
    """The bytes of ``image`` from escpos's own ``image()`` and from ``print_image``."""
    from devices.printer import _set_paper_width, print_image

    theirs, ours = Dummy(), Dummy()
    for printer in (theirs, ours):
        _set_paper_width(printer, width)
    theirs.image(image)
    print_image(ours, image)
    return theirs.output, ours.output


@pytest.mark.parametrize("width", [384, 576])
def test_printed_images_are_escposs_bytes(width):
    """``print_image`` skips escpos's conversion of each image through RGBA, RGB and greyscale (half of
    a ticket's printing): the printer must get exactly the bytes escpos would have sent."""
    import random

    from devices.printer import _qr_band

    noise = Image.new("1", (width, 2_100), 1)  # taller than escpos's fragments of 960 rows
    rng = random.Random(7)
    noise.putdata([rng.choice((0, 255)) for _ in range(width * 2_100)])
    for image in (render_ticket(PAYLOAD, width), _qr_band(PAYLOAD["qr"], width), noise):
        theirs, ours = _escpos_and_ours(image, width)
        assert ours == theirs and ours.count(b"\x1dv0") == -(-image.height // 960)


def test_an_image_escpos_must_convert_goes_to_escpos():
    grey = Image.new("L", (100, 30), 128)  # not black and white, nor whole bytes wide
    theirs, ours = _escpos_and_ours(grey, 384)
    assert ours == theirs


def test_an_image_wider_than_the_paper_is_refused_as_escpos_does():
    from escpos.exceptions import ImageWidthError

    from devices.printer import _set_paper_width, print_image

    for write in (Dummy.image, print_image):
        printer = Dummy()
        _set_paper_width(printer, 384)
        with pytest.raises(ImageWidthError):
            write(printer, Image.new("1", (576, 10), 1))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=700), st.text(alphabet="0123456789", max_size=1500),
                 st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $%*+-./:", max_size=900)),
       st.sampled_from([384, 576, 256, 96]))
def test_the_qr_codes_size_without_making_the_code_is_the_size_of_the_code(content, width):
    """A short content's size is read from the byte-mode capacities instead of a code segno builds
    (a third of a ticket's printing): the same dots a module as the code segno makes."""
    import segno

    from devices.printer import QR_BORDER, QR_SIZE, _qr_size

    try:
        code = segno.make(content, error="m", mask=0)
    except segno.DataOverflowError:
        return
    modules = code.symbol_size(scale=1, border=QR_BORDER)[0]
    assert _qr_size(content, width) == max(1, min(QR_SIZE, width // modules))
