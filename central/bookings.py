"""Booking a time at the office, at the hub: the commune's plan (places per service and time slot,
days it is closed), the slots a citizen may pick, booking and cancelling.

The ``Booking`` row (``office.bookings``) is written here in the commune's scope and comes down to
the commune's box by sync; the box marks it used or no-show. Places are counted in the same
transaction as the insert, under a lock per slot (PostgreSQL: an advisory lock; SQLite: the
database's one writer, ``BEGIN IMMEDIATE``), so the last place of a slot goes to exactly one citizen.
"""
import secrets
from datetime import date, datetime, timedelta

from peewee import BooleanField, CharField, DateTimeField, IntegerField, PostgresqlDatabase

from office.bookings import Booking
from office.calendar import DEFAULT_HOURS, calendar_from
from office.clock import utcnow
from office.db import BaseModel, database
from office.errors import Conflict, MotcuaError, NotFound
from office.models import Holiday, Service
from office.notices import notify
from office.queue import _CODE_ALPHABET
from sync.policy import GLOBAL_SCOPE

SLOT_CHOICES = (15, 20, 30, 60)


class BookingPlan(BaseModel):
    """How many citizens of one service a commune receives per time slot (hub-only)."""

    commune = CharField()
    service_code = CharField()
    capacity = IntegerField(default=2)  # places per slot
    slot_minutes = IntegerField(default=30)
    active = BooleanField(default=True)
    updated_at = DateTimeField()
    updated_by = CharField(default="")

    class Meta:
        indexes = ((("commune", "service_code"), True),)


class BookingClosedDay(BaseModel):
    """A day a commune takes no bookings besides the calendar's holidays (hub-only)."""

    commune = CharField()
    day = CharField()  # YYYY-MM-DD
    note = CharField(default="")

    class Meta:
        indexes = ((("commune", "day"), True),)


BOOKING_MODELS = (BookingPlan, BookingClosedDay)


def commune_calendar(commune):
    """Working days of ``commune``: national holidays, the hub's days for all and for that commune."""
    rows = Holiday.select(Holiday.day, Holiday.kind).where(Holiday.commune.in_([commune, GLOBAL_SCOPE])).tuples()
    calendar = calendar_from(rows, hours=DEFAULT_HOURS)
    return calendar


def service_names(commune):
    return {s.code: s.name for s in Service.select().where(Service.commune == commune, Service.active == True)}  # noqa: E712


def bookable_services():
    """[(commune, service code, service name, plan)] of every active plan whose service exists."""
    plans = list(BookingPlan.select().where(BookingPlan.active == True)  # noqa: E712
                 .order_by(BookingPlan.commune, BookingPlan.service_code))
    names = {}
    out = []
    for plan in plans:
        if plan.commune not in names:
            names[plan.commune] = service_names(plan.commune)
        if plan.service_code in names[plan.commune]:
            out.append((plan.commune, plan.service_code, names[plan.commune][plan.service_code], plan))
    return out


def find_plan(commune, service_code):
    plan = BookingPlan.get_or_none(BookingPlan.commune == commune, BookingPlan.service_code == service_code,
                                   BookingPlan.active == True)  # noqa: E712
    if plan is None or service_code not in service_names(commune):
        raise NotFound("Xã/phường này chưa nhận đặt lịch cho dịch vụ đã chọn.")
    return plan


def bookable_days(commune, today, days_ahead):
    """Today and the next ``days_ahead`` working days, less the commune's closed days."""
    calendar = commune_calendar(commune)
    closed = {row.day for row in BookingClosedDay.select().where(BookingClosedDay.commune == commune)}
    days, day = [], today
    if calendar.is_working_day(day):
        days.append(day)
    for _ in range(days_ahead):
        day = calendar.next_working_day(day)
        days.append(day)
    return [d for d in days if d.isoformat() not in closed]


def slot_starts(plan, hours=DEFAULT_HOURS):
    """Start times ("HH:MM") of the slots within the office hours."""
    starts = []
    for begin, end in hours:
        moment = datetime.combine(date.min, begin)
        while moment + timedelta(minutes=plan.slot_minutes) <= datetime.combine(date.min, end):
            starts.append(moment.strftime("%H:%M"))
            moment += timedelta(minutes=plan.slot_minutes)
    return starts


def _taken(commune, service_code, day, slot=None):
    query = Booking.select().where(Booking.commune == commune, Booking.service_code == service_code,
                                   Booking.day == day, Booking.state.in_([Booking.BOOKED, Booking.USED]))
    return query.where(Booking.slot == slot).count() if slot else query


def day_slots(plan, day, now_local):
    """[(slot, places left)] of ``day`` (a date); slots already started are left out."""
    taken = {}
    for booking in _taken(plan.commune, plan.service_code, day.isoformat()):
        taken[booking.slot] = taken.get(booking.slot, 0) + 1
    out = []
    for slot in slot_starts(plan):
        if datetime.combine(day, datetime.strptime(slot, "%H:%M").time()) <= now_local:
            continue
        out.append((slot, max(plan.capacity - taken.get(slot, 0), 0)))
    return out


def open_bookings(phone, today):
    return (Booking.select().where(Booking.phone == phone, Booking.state == Booking.BOOKED,
                                   Booking.day >= today.isoformat()))


def bookings_of_phone(phone):
    return list(Booking.select().where(Booking.phone == phone).order_by(Booking.day.desc(), Booking.slot.desc()))


def _lock(*keys):
    if isinstance(database.obj, PostgresqlDatabase):
        for key in keys:
            database.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))


def new_code():
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def book(phone, commune, service_code, day_text, slot, settings, now_local, now=None):
    """Book ``slot`` of ``day_text`` for ``phone``; returns the Booking. Refused: a day or slot not
    offered, a slot full, more than ``booking_per_phone`` open bookings for the phone."""
    now = now or utcnow()
    plan = find_plan(commune, service_code)
    try:
        day = date.fromisoformat(day_text or "")
    except ValueError:
        raise MotcuaError("Xin chọn ngày hẹn.") from None
    if day not in bookable_days(commune, now_local.date(), settings["booking_days_ahead"]):
        raise MotcuaError(f"Ngày {day:%d/%m/%Y} không nhận đặt lịch. Xin chọn một ngày khác trong danh sách.")
    if slot not in dict(day_slots(plan, day, now_local)):
        raise MotcuaError("Xin chọn một giờ hẹn còn trong danh sách.")
    name = service_names(commune)[service_code]
    with database.atomic():
        _lock(f"booking-phone:{phone}", f"booking-slot:{commune}:{service_code}:{day}:{slot}")
        limit = settings["booking_per_phone"]
        if open_bookings(phone, now_local.date()).count() >= limit:
            raise Conflict(f"Mỗi số điện thoại giữ được tối đa {limit} lịch hẹn chưa dùng. "
                           "Xin huỷ một lịch hẹn cũ trước khi đặt thêm.")
        if _taken(commune, service_code, day.isoformat(), slot) >= plan.capacity:
            raise Conflict(f"Giờ {slot} ngày {day:%d/%m/%Y} vừa hết chỗ. Xin chọn giờ khác.",
                           detail={"reason": "full"})
        booking = Booking(commune=commune, code=new_code(), phone=phone, service_code=service_code,
                          service_name=name, day=day.isoformat(), slot=slot, slot_minutes=plan.slot_minutes,
                          created_at=now)
        booking.save()
        notify(commune, "booking_made", booking.id, phone, _fields(booking), now=now)
    return booking


def cancel(phone, code, now=None):
    """The citizen cancels an unused booking of theirs; the place is free again."""
    now = now or utcnow()
    with database.atomic():
        booking = Booking.get_or_none(Booking.code == code, Booking.phone == phone)
        if booking is None:
            raise NotFound("Không tìm thấy lịch hẹn này.")
        if booking.state != Booking.BOOKED:
            raise Conflict(f"Lịch hẹn này {booking.state_label.lower()}, không huỷ được nữa.")
        booking.save_changes({"state": Booking.CANCELLED, "cancelled_at": now})
        notify(booking.commune, "booking_cancelled", booking.id, phone, _fields(booking), now=now)
    return booking


KEEP_PHONE_DAYS = 90  # what the consent page promises


def forget_old_phones(today):
    """Blank the phone of bookings whose day is more than ``KEEP_PHONE_DAYS`` before ``today`` (the
    counts stay); returns how many. Each row is saved: the change goes down to the box too."""
    before = (today - timedelta(days=KEEP_PHONE_DAYS)).isoformat()
    forgotten = 0
    with database.atomic():
        for booking in Booking.select().where(Booking.day < before, Booking.phone != ""):
            booking.save_changes({"phone": ""})
            forgotten += 1
    return forgotten


def _fields(booking):
    return {"ma_dat_lich": booking.code, "dich_vu": booking.service_name, "gio": booking.slot,
            "ngay": booking.day_label}


def save_plan(commune, service_code, capacity, slot_minutes, active, by, now=None):
    """Set a commune's plan for one service (an operator's form)."""
    if service_code not in service_names(commune):
        raise MotcuaError("Xã/phường này không có dịch vụ đã chọn (dịch vụ đến từ hộp của xã).")
    try:
        capacity, slot_minutes = int(capacity), int(slot_minutes)
    except (TypeError, ValueError):
        raise MotcuaError("Số chỗ và độ dài khung giờ phải là số.") from None
    if not 1 <= capacity <= 50:
        raise MotcuaError("Số chỗ mỗi khung giờ phải từ 1 đến 50.")
    if slot_minutes not in SLOT_CHOICES:
        raise MotcuaError("Độ dài khung giờ phải là 15, 20, 30 hoặc 60 phút.")
    values = {"capacity": capacity, "slot_minutes": slot_minutes, "active": bool(active),
              "updated_at": now or utcnow(), "updated_by": by}
    with database.atomic():
        plan = BookingPlan.get_or_none(BookingPlan.commune == commune, BookingPlan.service_code == service_code)
        if plan is None:
            return BookingPlan.create(commune=commune, service_code=service_code, **values)
        BookingPlan.update(**values).where(BookingPlan.id == plan.id).execute()
    return BookingPlan.get_by_id(plan.id)


def set_closed_day(commune, day_text, note, closed=True):
    try:
        day = date.fromisoformat(day_text or "")
    except ValueError:
        raise MotcuaError("Ngày nghỉ phải có dạng năm-tháng-ngày, ví dụ 2026-12-24.") from None
    if closed:
        BookingClosedDay.insert(commune=commune, day=day.isoformat(), note=(note or "")[:200]).on_conflict_ignore().execute()
    else:
        BookingClosedDay.delete().where(BookingClosedDay.commune == commune, BookingClosedDay.day == day.isoformat()).execute()
