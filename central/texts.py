"""What a citizen reads: one short text per notice kind, from the notice's named fields.

Texts fit one SMS when sent without diacritics (``sms_ascii``): brandname SMS in Vietnam is
usually unaccented, an accented (Unicode) SMS holds 70 characters and costs more.
"""
from office.search import fold

TEXTS = {
    "dossier_received": "{co_quan} đã tiếp nhận hồ sơ {ma_ho_so} ({thu_tuc}). Hẹn trả kết quả {ngay_hen}. "
                        "Tra cứu bằng mã hồ sơ.",
    "dossier_supplement": "Hồ sơ {ma_ho_so} cần bổ sung: {ghi_chu}. Vui lòng mang giấy tờ đến bộ phận một cửa.",
    "dossier_ready": "Hồ sơ {ma_ho_so} đã có kết quả. Mời ông/bà đến bộ phận một cửa {co_quan} nhận kết quả.",
    "dossier_refused": "{co_quan} không tiếp nhận hồ sơ trực tuyến {ma_ho_so} ({thu_tuc}). Lý do: {ghi_chu}. "
                       "Tra cứu bằng mã hồ sơ.",
    "turn_near": "Số {so_thu_tu} của ông/bà sắp đến lượt (còn {so_luot_truoc} người trước). "
                 "Vui lòng có mặt gần quầy {quay}.",
    "booking_made": "{co_quan}: lịch hẹn {ma_dat_lich} ({dich_vu}) lúc {gio} ngày {ngay}. Đến kiosk, chọn "
                    "\"Tôi đã đặt lịch\" và nhập mã {ma_dat_lich} để lấy số.",
    "booking_cancelled": "{co_quan}: lịch hẹn {ma_dat_lich} lúc {gio} ngày {ngay} đã được huỷ.",
    "report_answered": "{co_quan} đã trả lời phản ánh {ma_phan_anh} của ông/bà. Xem nội dung trả lời "
                       "tại trang Phản ánh, kiến nghị với mã phản ánh.",
}
SUBJECTS = {
    "dossier_received": "Đã tiếp nhận hồ sơ {ma_ho_so}",
    "dossier_supplement": "Hồ sơ {ma_ho_so} cần bổ sung giấy tờ",
    "dossier_ready": "Hồ sơ {ma_ho_so} đã có kết quả",
    "dossier_refused": "Hồ sơ {ma_ho_so} không được tiếp nhận",
    "turn_near": "Sắp đến lượt số {so_thu_tu}",
    "booking_made": "Lịch hẹn {ma_dat_lich} lúc {gio} ngày {ngay}",
    "booking_cancelled": "Đã huỷ lịch hẹn {ma_dat_lich}",
    "report_answered": "Phản ánh {ma_phan_anh} đã được trả lời",
}


class _Blank(dict):
    def __missing__(self, key):
        return ""


def render(kind, fields):
    """The text of a notice (with diacritics). ``co_quan``: the commune's people's committee as it
    really is (“UBND Phường Sông Công”, “UBND Xã Tân Quang”, “UBND Đặc khu Côn Đảo”)."""
    return TEXTS[kind].format_map(_Blank(fields)).replace(" ()", "").replace(": .", ".")


def subject(kind, fields):
    return SUBJECTS.get(kind, "Thông báo từ bộ phận một cửa").format_map(_Blank(fields))


def ascii_text(text):
    """Vietnamese text without diacritics, case kept (đ -> d): what an unaccented SMS carries."""
    out = []
    for ch in text:
        folded = fold(ch) if not ch.isspace() else ch
        if ch.isupper() and folded:
            folded = folded.upper()
        out.append(folded if folded or ch.isspace() else ch)
    return "".join(out).encode("ascii", "replace").decode("ascii")


# at most two SMS segments (153 plain or 67 Unicode characters each): a long note is cut, not sent in five parts
SMS_MAX, SMS_MAX_UNICODE = 306, 134


def for_channel(channel, text, settings, cut=True):
    """The text as the channel carries it: an SMS unaccented (``sms_ascii``) and, unless ``cut`` is
    off (a reminder's list of codes must stay whole), at most two segments."""
    if channel != "sms":
        return text
    text = ascii_text(text) if settings["sms_ascii"] else text
    if not cut:
        return text
    limit = SMS_MAX if settings["sms_ascii"] else SMS_MAX_UNICODE
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."
