"""A time booked at the office by a citizen online, and what the box does with it.

The hub writes a booking when a citizen books or cancels (``central.bookings``); the row comes down
to the commune's box by sync. At the office the kiosk takes the booking's code (typed, or scanned
from its QR code) and issues a ticket marked booked: it waits like a walk-in until the slot starts
and from then on is called before walk-ins (``office.queue``). A booking still unused when its day
is over is a no-show.

Shared row (per-field last writer wins): the hub sets booked / cancelled, the box used / no_show.
"""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from peewee import CharField, DateTimeField, IntegerField, fn

from sync.capture import ReplicatedModel
from sync.policy import SHARED

from .clock import utcnow
from .db import database
from .errors import Conflict, MotcuaError, NotFound

QR_PREFIX = "DATLICH:"  # what a booking's QR code holds before its code (the kiosk's scanner types it)
STATE_LABELS = {"booked": "Đã đặt lịch", "cancelled": "Đã huỷ", "used": "Đã đến, đã lấy số",
                "no_show": "Không đến"}


class Booking(ReplicatedModel):
    BOOKED, CANCELLED, USED, NO_SHOW = "booked", "cancelled", "used", "no_show"
    replication = SHARED

    code = CharField(unique=True)  # 8 letters of the tracking codes' alphabet (no I, L, O, U)
    phone = CharField()  # 0xxxxxxxxx, as proved at the hub
    service_code = CharField()
    service_name = CharField(default="")
    day = CharField(index=True)  # the office's local day, YYYY-MM-DD
    slot = CharField()  # local start time, HH:MM
    slot_minutes = IntegerField(default=30)
    state = CharField(default=BOOKED)
    created_at = DateTimeField()
    cancelled_at = DateTimeField(null=True)
    used_at = DateTimeField(null=True)
    ticket = CharField(default="")  # id of the ticket issued for it

    class Meta:
        indexes = ((("commune", "service_code", "day", "slot"), False),)

    @property
    def state_label(self):
        return STATE_LABELS.get(self.state, self.state)

    @property
    def qr_text(self):
        return QR_PREFIX + self.code

    @property
    def day_label(self):
        return datetime.strptime(self.day, "%Y-%m-%d").strftime("%d/%m/%Y")

    def starts_at(self, tz):
        """The slot's start as naive UTC, from the office's local day and time."""
        local = datetime.strptime(f"{self.day} {self.slot}", "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(tz))
        return local.astimezone(timezone.utc).replace(tzinfo=None)


def booking_code_key(typed):
    """A booking code as stored, from what was typed or scanned (``DATLICH:K7PX3M2Q``, spaces, dashes,
    lower case, O/I/L for 0/1/1)."""
    from .queue import tracking_code_key

    text = (typed or "").strip()
    if text.upper().startswith(QR_PREFIX):
        text = text[len(QR_PREFIX):]
    return tracking_code_key(text.replace("-", "").replace(" ", ""))


def honour_booking(policy, code, late_minutes, print_payload=None, now=None):
    """The kiosk's "Tôi đã đặt lịch": a ticket for the booking's service, marked booked, and the
    booking marked used, in one transaction. Refused: an unknown, cancelled or used booking, a
    booking of another day, one whose slot started more than ``late_minutes`` ago. Before the slot
    the ticket is issued at once: it waits like a walk-in and goes ahead of walk-ins at the slot's time."""
    from .queue import issue_ticket

    now = now or utcnow()
    booking = Booking.get_or_none(Booking.code == booking_code_key(code))
    if booking is None:
        raise NotFound("Không tìm thấy lịch hẹn với mã này. Xin kiểm tra lại mã trong tin nhắn hoặc trên điện thoại.")
    if booking.state == Booking.CANCELLED:
        raise Conflict("Lịch hẹn này đã được huỷ. Mời quý khách lấy số thứ tự như thường.")
    if booking.state == Booking.USED:
        raise Conflict("Lịch hẹn này đã được dùng để lấy số rồi.")
    today = policy.local_day(now)
    if booking.day != today:
        when = "đã qua" if booking.day < today else "chưa đến"
        raise Conflict(f"Lịch hẹn của quý khách vào ngày {booking.day_label} lúc {booking.slot} ({when}). "
                       "Hôm nay mời quý khách lấy số thứ tự như thường.")
    starts = booking.starts_at(policy.timezone)
    if now > starts + timedelta(minutes=late_minutes):
        raise Conflict(f"Lịch hẹn lúc {booking.slot} đã quá {late_minutes} phút nên không còn được ưu tiên. "
                       "Mời quý khách lấy số thứ tự như thường.", detail={"reason": "late"})
    with database.atomic():
        ticket = issue_ticket(policy, booking.service_code, print_payload=print_payload, now=now,
                              booking=booking.id, booked_for=starts)
        booking.save_changes({"state": Booking.USED, "used_at": now, "ticket": ticket.id})
    ticket.booking_row = booking
    return ticket


def mark_no_shows(policy, now=None):
    """Bookings of days before today never used become no-shows; returns how many."""
    today = policy.local_day(now or utcnow())
    marked = 0
    with database.atomic():
        for booking in Booking.select().where(Booking.day < today, Booking.state == Booking.BOOKED):
            booking.save_changes({"state": Booking.NO_SHOW})
            marked += 1
    return marked


def booking_counts(communes=None):
    """{commune: {state: count}} of every booking (the hub's page of used and no-show counts)."""
    query = Booking.select(Booking.commune, Booking.state, fn.COUNT(Booking.id)).group_by(Booking.commune, Booking.state)
    if communes is not None:
        query = query.where(Booking.commune.in_(list(communes)))
    counts = {}
    for commune, state, count in query.tuples():
        counts.setdefault(commune, dict.fromkeys(STATE_LABELS, 0))[state] = count
    return counts


def check_phone(raw):
    """A Vietnamese mobile number as 0xxxxxxxxx (+84 / 84 prefixes, spaces, dots, dashes allowed)."""
    digits = "".join(ch for ch in str(raw or "") if ch.isdigit())
    if str(raw or "").strip().startswith("+84") or (digits.startswith("84") and len(digits) == 11):
        digits = "0" + digits[2:]
    if len(digits) != 10 or not digits.startswith("0") or digits[1] not in "35789":
        raise MotcuaError("Số điện thoại di động không hợp lệ: cần 10 chữ số, ví dụ 0912 345 678.")
    return digits
