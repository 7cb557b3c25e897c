"""The QR code on a chip-based citizen ID card (CCCD / thẻ căn cước), read into a dossier's fields.

The code holds fields separated by ``|``::

    001099012345|123456789|Nguyễn Văn An|01011990|Nam|Thôn Đông, Xã Tân Cương, Thái Nguyên|15082021

in order: the 12-digit personal ID number, the old ID number (9-digit CMND or a replaced CCCD; empty, or left out altogether
on cards of people who never had one), full name, date of birth, sex, permanent address and date of
issue, dates written ``ddmmyyyy``. Cards issued since 1/7/2024 may add fields after these; they are
ignored. Scanners in keyboard mode sometimes end the text with Enter or Tab and may add spaces.

Only the parsed fields leave this module: the raw text is never logged or stored.
"""
import re
from dataclasses import dataclass
from datetime import date

ID_NUMBER = re.compile(r"\d{12}")
OLD_ID = re.compile(r"\d{9}|\d{12}")  # a 9-digit CMND, or the CCCD a new card replaced
SEXES = {"nam": "Nam", "nữ": "Nữ", "nu": "Nữ"}


class CardError(ValueError):
    """The text is not a CCCD QR code; the message is for the officer, in Vietnamese."""


@dataclass(frozen=True)
class Card:
    id_number: str
    old_id_number: str
    full_name: str
    birth_date: date | None
    sex: str
    address: str
    issue_date: date | None

    def form_fields(self):
        """The dossier form's applicant fields this card fills."""
        return {"name": self.full_name, "id_number": self.id_number, "address": self.address}

    def as_json(self):
        return {"id_number": self.id_number, "old_id_number": self.old_id_number,
                "full_name": self.full_name, "sex": self.sex, "address": self.address,
                "birth_date": self.birth_date.isoformat() if self.birth_date else "",
                "issue_date": self.issue_date.isoformat() if self.issue_date else ""}


def _date(text, what):
    text = text.strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{8}", text):
        raise CardError(f"Mã QR có {what} không đúng dạng ngày (ddmmyyyy).")
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        raise CardError(f"Mã QR có {what} không phải ngày có thật.") from None


def parse(raw):
    """The card's fields from the QR text, or CardError with a message for the officer."""
    text = (raw or "").strip().strip("\r\n\t")
    parts = [p.strip() for p in text.split("|")]
    if not ID_NUMBER.fullmatch(parts[0]):
        raise CardError("Đây không phải mã QR trên thẻ căn cước (CCCD): "
                        "mã phải bắt đầu bằng số định danh 12 chữ số.")
    if len(parts) < 6:
        raise CardError("Mã QR trên thẻ căn cước bị thiếu trường: hãy quét lại.")
    if OLD_ID.fullmatch(parts[1]) or parts[1] == "":
        old_id, rest = parts[1], parts[2:]
    else:  # the old ID field left out altogether
        old_id, rest = "", parts[1:]
    if len(rest) < 5:
        raise CardError("Mã QR trên thẻ căn cước bị thiếu trường: hãy quét lại.")
    name, born, sex, address, issued = rest[:5]
    if not name or any(ch.isdigit() for ch in name):
        raise CardError("Mã QR trên thẻ căn cước không có họ tên hợp lệ: hãy quét lại.")
    return Card(id_number=parts[0], old_id_number=old_id, full_name=" ".join(name.split()),
                birth_date=_date(born, "ngày sinh"), sex=SEXES.get(sex.lower(), sex),
                address=" ".join(address.split()), issue_date=_date(issued, "ngày cấp"))


def decode_image(data):
    """The text of the first QR code in an image (bytes from the counter's webcam), or None.

    zxing-cpp does the decoding; Pillow opens the image. Both are imported here only.
    """
    import io

    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError):
        raise CardError("Ảnh từ camera không đọc được: hãy chụp lại.") from None
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return found[0].text if found else None
