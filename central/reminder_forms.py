"""Checking and saving reminder rules and contacts, from the operator's forms or the JSON API.

Input arrives as a dict of strings (a form; a multi-valued field as a list) or of JSON values;
every problem is named in Vietnamese, all at once, in ``MotcuaError.detail``.
"""
import re

from office.clock import utcnow
from office.communes import find_commune
from office.errors import MotcuaError, NotFound

from .outbox import CHANNELS, normalise_phone
from .reminder_models import Contact, ReminderRule
from .reminders import parse_times, parse_weekdays

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
RULE_TEXT = ("name", "what", "lead", "lead_unit", "audience", "times", "communes")
CONTACT_TEXT = ("name", "commune", "role", "handler", "agency", "phone", "email")


def _listed(value):
    """A list from a multi-valued form field, a JSON list, or a comma list."""
    if isinstance(value, (list, tuple)):
        parts = value
    else:
        parts = str(value or "").split(",")
    return [str(p).strip() for p in parts if str(p).strip()]


def _active(data):
    """``active`` when given (an edit that leaves it out keeps the row's)."""
    if "active" not in data:
        return {}
    value = data["active"]
    if isinstance(value, bool):
        return {"active": value}
    return {"active": str(value).strip().lower() in ("1", "true", "on", "yes")}


def _texts(data, keys):
    return {k: str(data.get(k) if data.get(k) is not None else "").strip() for k in keys}


def rule_values(data):
    """The columns of a rule from ``data``, or MotcuaError listing every problem."""
    text = _texts(data, RULE_TEXT)
    reasons = []
    if not text["name"]:
        reasons.append("Cần đặt tên cho quy tắc nhắc việc (ví dụ “Nhắc hồ sơ sắp đến hạn buổi sáng”).")
    what = text["what"] or ReminderRule.NEAR_DUE
    if what not in ReminderRule.WHAT:
        reasons.append("Loại nhắc việc phải là hồ sơ sắp đến hạn, quá hạn, hoặc cả hai.")
    unit = text["lead_unit"] or "days"
    if unit not in ReminderRule.UNITS:
        reasons.append("Đơn vị thời gian báo trước phải là ngày làm việc hoặc giờ làm việc.")
    lead = 0
    if what in (ReminderRule.NEAR_DUE, ReminderRule.BOTH):
        try:
            lead = int(text["lead"])
        except ValueError:
            lead = 0
        if lead <= 0:
            reasons.append("Số ngày/giờ báo trước phải là số nguyên lớn hơn 0 (ví dụ 1).")
        elif lead > (60 if unit == "days" else 480):
            reasons.append("Thời gian báo trước quá dài: tối đa 60 ngày hoặc 480 giờ làm việc.")
    audience = text["audience"] or "both"
    if audience not in ReminderRule.AUDIENCES:
        reasons.append("Người nhận phải là cán bộ xử lý, lãnh đạo, hoặc cả hai.")
    channels = _listed(data.get("channels"))
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        reasons.append(f"Kênh gửi không hỗ trợ: {', '.join(unknown)} (chỉ có sms, zalo, email, log).")
    elif not channels:
        reasons.append("Chọn ít nhất một kênh gửi (SMS, Zalo, thư điện tử hoặc nhật ký).")
    try:
        times = parse_times(text["times"])
        if not times:
            reasons.append("Cần ít nhất một giờ gửi, dạng GG:PP (ví dụ 08:00,14:00).")
    except ValueError as exc:
        times = []
        reasons.append(f"Giờ gửi “{exc}” không hợp lệ: ghi dạng GG:PP, cách nhau bởi dấu phẩy (ví dụ 08:00,14:00).")
    try:
        weekdays = parse_weekdays(",".join(_listed(data.get("weekdays"))))
        if not weekdays:
            reasons.append("Chọn ít nhất một ngày trong tuần để gửi.")
    except ValueError:
        weekdays = []
        reasons.append("Ngày trong tuần phải là số từ 0 (Thứ Hai) đến 6 (Chủ nhật).")
    communes = _listed(text["communes"])
    missing = [c for c in communes if find_commune(c) is None]
    if missing:
        reasons.append(f"Không có xã/phường mã: {', '.join(missing)} (ghi mã GSO 5 chữ số, cách nhau bởi dấu phẩy).")
    if reasons:
        raise MotcuaError("Chưa lưu được quy tắc nhắc việc: " + " ".join(reasons), detail=reasons)
    return {"name": text["name"][:200], "what": what, "lead": lead or 1, "lead_unit": unit, "audience": audience,
            "channels": ",".join(c for c in CHANNELS if c in channels),
            "times": ",".join(f"{t:%H:%M}" for t in times), "weekdays": ",".join(map(str, weekdays)),
            "communes": ",".join(dict.fromkeys(communes)), **_active(data)}


def contact_values(data):
    text = _texts(data, CONTACT_TEXT)
    reasons = []
    if not text["name"]:
        reasons.append("Cần họ tên người nhận nhắc việc.")
    role = text["role"] or Contact.HANDLER
    if role not in Contact.ROLES:
        reasons.append("Vai trò phải là cán bộ xử lý hoặc lãnh đạo.")
    if text["commune"] and find_commune(text["commune"]) is None:
        reasons.append(f"Không có xã/phường mã “{text['commune']}” (để trống nếu dùng cho mọi xã).")
    if text["phone"] and normalise_phone(text["phone"]) is None:
        reasons.append("Số điện thoại di động không hợp lệ (ví dụ 0912345678).")
    if text["email"] and not EMAIL.match(text["email"]):
        reasons.append("Địa chỉ thư điện tử không hợp lệ (ví dụ canbo@songcong.gov.vn).")
    if role != Contact.LEADER and text["agency"]:
        reasons.append("Chỉ lãnh đạo mới gắn với một cơ quan; cán bộ xử lý được nhận theo tên trên hồ sơ.")
    if reasons:
        raise MotcuaError("Chưa lưu được người nhận: " + " ".join(reasons), detail=reasons)
    return dict(text, role=role, handler=text["handler"] if role == Contact.HANDLER else "",
                **_active(data))


def save_rule(data, rule=None):
    values = rule_values(data)
    if rule is None:
        return ReminderRule.create(created_at=utcnow(), **values)
    for name, value in values.items():
        setattr(rule, name, value)
    rule.save()
    return rule


def save_contact(data, contact=None):
    values = contact_values(data)
    if contact is None:
        return Contact.create(**values)
    for name, value in values.items():
        setattr(contact, name, value)
    contact.save()
    return contact


def get_rule(pk):
    rule = ReminderRule.get_or_none(ReminderRule.id == pk)
    if rule is None:
        raise NotFound("Không tìm thấy quy tắc nhắc việc này.")
    return rule


def get_contact(pk):
    contact = Contact.get_or_none(Contact.id == pk)
    if contact is None:
        raise NotFound("Không tìm thấy người nhận này.")
    return contact


def rule_dict(rule):
    return {"id": rule.id, "name": rule.name, "what": rule.what, "lead": rule.lead, "lead_unit": rule.lead_unit,
            "audience": rule.audience, "channels": rule.listed("channels"), "times": rule.listed("times"),
            "weekdays": [int(d) for d in rule.listed("weekdays")], "communes": rule.listed("communes"),
            "active": rule.active, "created_at": rule.created_at.isoformat(sep=" ")}


def contact_dict(contact):
    return {"id": contact.id, "name": contact.name, "commune": contact.commune, "role": contact.role,
            "handler": contact.handler, "agency": contact.agency, "phone": contact.phone, "email": contact.email,
            "active": contact.active}
