"""Reading the QR code of a chip-based citizen ID card (CCCD) into a dossier's applicant fields."""
import io
from datetime import date

import pytest
import segno

from office import cccd

FULL = "001099012345|123456789|Nguyễn Văn An|01011990|Nam|Thôn Đông, Xã Tân Cương, Thái Nguyên|15082021"


def test_full_card_with_old_id():
    card = cccd.parse(FULL)
    assert card.id_number == "001099012345"
    assert card.old_id_number == "123456789"
    assert card.full_name == "Nguyễn Văn An"
    assert card.birth_date == date(1990, 1, 1)
    assert card.sex == "Nam"
    assert card.address == "Thôn Đông, Xã Tân Cương, Thái Nguyên"
    assert card.issue_date == date(2021, 8, 15)
    assert card.form_fields() == {"name": "Nguyễn Văn An", "id_number": "001099012345",
                                  "address": "Thôn Đông, Xã Tân Cương, Thái Nguyên"}


def test_card_with_empty_old_id_field():
    card = cccd.parse("038201000123||Lê Thị Bình|29022000|Nữ|Phường Hạc Thành, Thanh Hóa|01072024")
    assert (card.old_id_number, card.full_name, card.birth_date, card.sex) == \
        ("", "Lê Thị Bình", date(2000, 2, 29), "Nữ")


def test_card_without_old_id_field_at_all():
    card = cccd.parse("038201000123|Lê Thị Bình|29022000|Nữ|Phường Hạc Thành, Thanh Hóa|01072024")
    assert card.old_id_number == "" and card.full_name == "Lê Thị Bình"
    assert card.issue_date == date(2024, 7, 1)


def test_old_id_may_be_the_replaced_12_digit_cccd():
    card = cccd.parse("001099012345|001099012345|Trần Văn Cường|05051985|Nam|Xã Đông Anh, Hà Nội|10102024")
    assert card.old_id_number == "001099012345" and card.full_name == "Trần Văn Cường"


def test_scanner_noise_and_extra_trailing_fields_are_ignored():
    card = cccd.parse("  " + FULL + "|Thêm|trường\r\n")
    assert card.issue_date == date(2021, 8, 15) and card.full_name == "Nguyễn Văn An"


def test_names_and_addresses_lose_repeated_spaces():
    card = cccd.parse(FULL.replace("Nguyễn Văn An", "Nguyễn  Văn   An"))
    assert card.full_name == "Nguyễn Văn An"


def test_unaccented_sex_is_read():
    assert cccd.parse(FULL.replace("|Nam|", "|Nu|")).sex == "Nữ"


@pytest.mark.parametrize("raw, words", [
    ("", "không phải mã QR"),
    ("https://dichvucong.gov.vn/", "không phải mã QR"),
    ("12345|Nguyễn Văn An|01011990|Nam|x|01012020", "12 chữ số"),
    ("001099012345|123456789|Nguyễn Văn An|1011990|Nam|x|15082021", "ngày sinh"),
    ("001099012345|123456789|Nguyễn Văn An|31021990|Nam|x|15082021", "ngày sinh"),
    ("001099012345|123456789|Nguyễn Văn An|01011990|Nam|x|2021", "ngày cấp"),
    ("001099012345|123456789|Nguyễn Văn An|01011990", "thiếu trường"),
])
def test_what_is_not_a_card_gets_a_vietnamese_reason(raw, words):
    with pytest.raises(cccd.CardError) as caught:
        cccd.parse(raw)
    assert words in str(caught.value)


def test_webcam_image_of_the_qr_code_is_decoded():
    buf = io.BytesIO()
    segno.make(FULL, error="m").save(buf, kind="png", scale=6, border=4)
    text = cccd.decode_image(buf.getvalue())
    assert text == FULL
    assert cccd.parse(text).id_number == "001099012345"


def test_webcam_image_without_a_code_gives_none_and_a_bad_image_a_reason():
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buf, format="PNG")
    assert cccd.decode_image(buf.getvalue()) is None
    with pytest.raises(cccd.CardError):
        cccd.decode_image(b"not an image")
