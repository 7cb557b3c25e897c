"""The queue: how a ticket is issued, called, served and closed.

Every function here is one transaction. On SQLite the box opens transactions with
``BEGIN IMMEDIATE``, so two counters pressing "next" at the same moment, or two kiosks
issuing at once (threads or processes), are serialised by the database itself.
"""
import json
import secrets
from dataclasses import dataclass, field
from datetime import timezone
from zoneinfo import ZoneInfo

from peewee import fn

from sync.capture import one_savepoint

from .db import database, row_instance
from .errors import Conflict, MotcuaError, NotFound
from .group_commit import own_savepoint
from .models import (
    Counter,
    CounterService,
    PrintJob,
    Service,
    Ticket,
    TicketEvent,
    utcnow,
)
from .notices import notify

DEFAULT_PRIORITY_CATEGORIES = {
    "elderly": "Người cao tuổi",
    "disabled": "Người khuyết tật",
    "pregnant": "Phụ nữ mang thai",
    "child": "Người đi cùng trẻ nhỏ",
}

# Crockford base32 without I, L, O, U: readable aloud and over the phone.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class QueuePolicy:
    timezone: str = "Asia/Ho_Chi_Minh"
    # When both priority and normal tickets wait, a counter calls this many priority
    # tickets for every normal one: priority goes first, but normal never starves.
    priority_ratio: int = 2
    priority_categories: dict = field(default_factory=lambda: dict(DEFAULT_PRIORITY_CATEGORIES))
    default_service_minutes: float = 5.0
    estimate_window: int = 20
    # After a call, the ticket with this many tickets of its service ahead is told its turn is
    # near (if it left a phone number); 0: nobody is told.
    turn_ahead: int = 3

    def local_day(self, now):
        return now.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(self.timezone)).date().isoformat()

    def local_time(self, now):
        return now.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(self.timezone))


def format_number(prefix, seq):
    return f"{prefix}-{seq:03d}"


_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def tracking_code_key(typed):
    """A tracking code as stored: upper case, and O/I/L (never in a code) read as 0/1/1."""
    return (typed or "").strip().upper().translate(_LOOKALIKES)


def forget_phones(policy, now=None):
    """Clear the phone numbers left for the “turn near” text on tickets of days before today;
    returns how many were cleared. Each row is saved (the change goes to the hub too)."""
    day = policy.local_day(now or utcnow())
    cleared = 0
    with database.atomic():
        for ticket in Ticket.select().where(Ticket.day < day, Ticket.phone.is_null(False)):
            ticket.phone = None
            ticket.save()
            cleared += 1
    return cleared


def new_tracking_code():
    # one read of the system's randomness for the eight characters (``secrets.choice`` read it once a
    # character); 32 symbols take the low five bits of a byte each, as evenly as ``choice`` does
    return "".join(_CODE_ALPHABET[byte & 31] for byte in secrets.token_bytes(8))


@own_savepoint  # its writes: all in ``one_savepoint`` below
def issue_ticket(policy, service_code, priority=None, phone=None, print_payload=None, now=None, booking=None,
                 booked_for=None):
    """Hand out the next number of the service's prefix for today.

    The sequence row, the ticket and its print job commit together: a number is never given
    twice and never skipped, and a ticket is never lost to a printer that is off. The ticket's
    row is the record of its issue (``issued_at``, ``priority``, ``booking``); ``ticket_event``
    holds what happens to it after (an "issue" event repeated the row: a second replicated
    row and log entry, 12 % of a ticket's instructions; boxes before it still send theirs).
    """
    now = now or utcnow()
    if priority is not None and priority not in policy.priority_categories:
        raise MotcuaError(f"Không có đối tượng ưu tiên “{priority}”.", status=400)
    service = _active_service(service_code)
    if service is None:
        raise NotFound(f"Không tìm thấy dịch vụ “{service_code}”.")
    day = policy.local_day(now)
    with one_savepoint():  # the ticket and its print job, or neither
        seq = _next_seq(day, service.prefix)
        ticket = Ticket.create(
            day=day,
            prefix=service.prefix,
            seq=seq,
            number=format_number(service.prefix, seq),
            service=service,
            priority=priority,
            phone=phone,
            tracking_code=new_tracking_code(),
            issued_at=now,
            queued_at=now,
            booking=booking or "",
            booked_for=booked_for,
        )
        if print_payload is not None:
            _queue_print(ticket, dict(print_payload(ticket), number=ticket.number), now)
    return ticket


def _queue_print(ticket, payload, now):
    """The ticket's print job, due now: one plain statement (a ``PrintJob`` instance and its insert
    cost 2 % of a ticket's instructions)."""
    p, at = database.param, PrintJob.created_at.db_value(now)
    database.execute_sql(
        f"INSERT INTO print_job (ticket_id, payload, state, attempts, last_error, created_at, next_attempt_at)"
        f" VALUES ({p}, {p}, {p}, 0, '', {p}, {p})",
        (ticket.id, json.dumps(payload, ensure_ascii=False), PrintJob.PENDING, at, at))


def _active_service(code):
    """The active service of ``code``, or None: a plain statement (peewee's query builder costs
    ~0.2 ms of CPU a call, on every ticket)."""
    p = database.param
    return row_instance(Service, database.execute_sql(
        f'SELECT * FROM "service" WHERE "code" = {p} AND "active" = {p}', (code, True)))


def _next_seq(day, prefix):
    cursor = database.execute_sql(
        "INSERT INTO ticket_sequence (day, prefix, last) VALUES (?, ?, 1) "
        "ON CONFLICT (day, prefix) DO UPDATE SET last = last + 1 RETURNING last",
        (day, prefix),
    )
    return cursor.fetchone()[0]


def waiting_tickets(policy, now=None, service=None):
    """Tickets of today still waiting, in calling order for display."""
    day = policy.local_day(now or utcnow())
    query = Ticket.select().where(Ticket.day == day, Ticket.state == Ticket.ISSUED)
    if service is not None:
        query = query.where(Ticket.service == service)
    return list(query.order_by(Ticket.transfers.desc(), Ticket.queued_at, Ticket.id))


def waiting_for_counter(policy, counter, now=None):
    """Tickets this counter may call, in display order."""
    services = {link.service_id for link in CounterService.select().where(CounterService.counter == counter)}
    return [
        t for t in waiting_tickets(policy, now)
        if t.target_counter_id == counter.id or (t.target_counter_id is None and t.service_id in services)
    ]


def call_next(policy, counter_id, now=None, absent_current=False):
    """Call the next ticket to a counter, or return None when nobody waits.

    The ticket in hand is closed first: served if started; a citizen called and not come is
    marked absent only when the officer confirmed it (``absent_current``), never by a stray
    press of "next" (refused with a message naming the ticket).

    Order: tickets transferred to this counter first, then booked tickets whose slot has started
    (earliest slot first), then tickets transferred into one of its services, then the fair mix
    of priority and normal tickets by queue time (a booked ticket before its slot is one of them).
    """
    now = now or utcnow()
    with database.atomic():
        counter = _open_counter(counter_id)
        current = current_ticket(counter.id)
        if current is not None and current.state == Ticket.CALLED and not absent_current:
            raise Conflict(f"Số {current.number} đã được mời nhưng chưa bắt đầu phục vụ. Hãy xác nhận "
                           f"số {current.number} vắng mặt trước khi gọi số tiếp.")
        _close_current(counter, now)
        ticket = _pick_next(policy, counter, now)
        if ticket is None:
            return None
        ticket.state = Ticket.CALLED
        ticket.counter = counter
        ticket.officer = counter.officer
        ticket.called_at = now
        ticket.target_counter = None
        ticket.save()
        _event(ticket, "call", now, counter)
        if policy.turn_ahead > 0:
            _tell_turn_near(policy.turn_ahead, ticket, counter, now)
    return ticket


def _tell_turn_near(ahead, called, counter, now):
    """One notice for the ticket of the called service that now has ``ahead`` tickets before it
    (counted as ``board.waiting_ahead`` counts): one indexed query, LIMIT 1 OFFSET ``ahead``; a
    notice only if that ticket left a phone, and ``notify`` writes at most one per ticket."""
    nth = (Ticket.select(Ticket.id, Ticket.number, Ticket.phone, Ticket.commune)
           .where(Ticket.day == called.day, Ticket.state == Ticket.ISSUED, Ticket.service == called.service_id)
           .order_by(Ticket.queued_at, Ticket.id).offset(ahead).limit(1).first())
    if nth is None or not nth.phone:
        return
    notify(nth.commune, "turn_near", nth.id, nth.phone,
           {"so_thu_tu": nth.number, "quay": str(counter.number), "so_luot_truoc": str(ahead)}, now=now)


def _pick_next(policy, counter, now):
    day = policy.local_day(now)
    services = CounterService.select(CounterService.service).where(CounterService.counter == counter)
    waiting = Ticket.select().where(Ticket.day == day, Ticket.state == Ticket.ISSUED)
    mine = waiting.where(Ticket.target_counter == counter).order_by(Ticket.queued_at, Ticket.id).first()
    if mine is not None:
        return mine
    eligible = waiting.where(Ticket.service.in_(services), Ticket.target_counter.is_null())
    booked = (eligible.where(Ticket.booked_for.is_null(False), Ticket.booked_for <= now)
              .order_by(Ticket.booked_for, Ticket.queued_at, Ticket.id).first())
    if booked is not None:
        return booked
    transferred = eligible.where(Ticket.transfers > 0).order_by(Ticket.queued_at, Ticket.id).first()
    if transferred is not None:
        return transferred
    first_priority = eligible.where(Ticket.priority.is_null(False)).order_by(Ticket.queued_at, Ticket.id).first()
    first_normal = eligible.where(Ticket.priority.is_null()).order_by(Ticket.queued_at, Ticket.id).first()
    if first_priority is None or first_normal is None:
        return first_priority or first_normal
    return first_priority if _priority_streak(counter, day) < policy.priority_ratio else first_normal


def _priority_streak(counter, day):
    """How many priority tickets this counter called in a row most recently today."""
    streak = 0
    recent = (
        TicketEvent.select(Ticket.priority)
        .join(Ticket)
        .where(TicketEvent.counter == counter, TicketEvent.action == "call", Ticket.day == day)
        .order_by(TicketEvent.id.desc())
        .limit(50)
        .tuples()
    )
    for (priority,) in recent:
        if priority is None:
            break
        streak += 1
    return streak


def start_serving(counter_id, now=None):
    now = now or utcnow()
    with database.atomic():
        ticket = _current(_open_counter(counter_id))
        if ticket.state != Ticket.CALLED:
            raise Conflict(f"Số {ticket.number} đang được phục vụ rồi.")
        _set_state(ticket, Ticket.SERVING, now, "serve", serving_at=now)
    return ticket


def recall(counter_id, now=None):
    now = now or utcnow()
    with database.atomic():
        counter = _open_counter(counter_id)
        ticket = _current(counter)
        if ticket.state != Ticket.CALLED:
            raise Conflict(f"Số {ticket.number} đang được phục vụ, không cần gọi lại.")
        ticket.recalls += 1
        ticket.save()
        _event(ticket, "recall", now, counter)
    return ticket


def no_show(counter_id, now=None):
    now = now or utcnow()
    with database.atomic():
        ticket = _current(_open_counter(counter_id))
        if ticket.state != Ticket.CALLED:
            raise Conflict(f"Số {ticket.number} đang được phục vụ, không thể báo vắng mặt.")
        _set_state(ticket, Ticket.NO_SHOW, now, "no_show", ended_at=now)
    return ticket


def finish(counter_id, now=None):
    """Close the ticket being served. A ticket only called was never served: finishing it is
    refused (it would record a service of no length for a citizen who may not have come)."""
    now = now or utcnow()
    with database.atomic():
        ticket = _current(_open_counter(counter_id))
        if ticket.state != Ticket.SERVING:
            raise Conflict(f"Số {ticket.number} chưa bắt đầu phục vụ: bấm “Bắt đầu phục vụ” khi công dân "
                           "đến quầy, hoặc báo vắng mặt.")
        _set_state(ticket, Ticket.DONE, now, "finish", ended_at=now)
    return ticket


def cancel(ticket_id, now=None):
    now = now or utcnow()
    with database.atomic():
        ticket = Ticket.get_or_none(id=ticket_id)
        if ticket is None:
            raise NotFound("Không tìm thấy số thứ tự.")
        if ticket.state not in Ticket.OPEN_STATES:
            raise Conflict(f"Số {ticket.number} đã kết thúc, không thể huỷ.")
        _set_state(ticket, Ticket.CANCELLED, now, "cancel", ended_at=now)
    return ticket


def transfer(counter_id, service_code=None, to_counter=None, now=None):
    """Send the current ticket to another service's queue or to a given counter.

    The citizen keeps the number and goes ahead of fresh tickets: they already waited.
    """
    now = now or utcnow()
    if not service_code and not to_counter:
        raise MotcuaError("Hãy chọn dịch vụ hoặc quầy để chuyển đến.")
    with database.atomic():
        counter = _open_counter(counter_id)
        ticket = _current(counter)
        detail = []
        if service_code:
            service = Service.get_or_none(Service.code == service_code)
            if service is None:
                raise NotFound(f"Không tìm thấy dịch vụ “{service_code}”.")
            ticket.service = service
            detail.append(f"service={service.code}")
        if to_counter:
            target = Counter.get_or_none(Counter.number == to_counter)
            if target is None:
                raise NotFound(f"Không có quầy số {to_counter}.")
            if target.id == counter.id:
                raise MotcuaError("Không thể chuyển số thứ tự về chính quầy này.")
            ticket.target_counter = target
            detail.append(f"counter={target.number}")
        ticket.state = Ticket.ISSUED
        ticket.counter = None
        ticket.officer = None
        ticket.queued_at = now
        ticket.transfers += 1
        ticket.save()
        _event(ticket, "transfer", now, counter, detail=" ".join(detail))
    return ticket


def current_ticket(counter_id):
    """The ticket a counter is calling or serving, or None."""
    return (
        Ticket.select()
        .where(Ticket.counter == counter_id, Ticket.state.in_((Ticket.CALLED, Ticket.SERVING)))
        .order_by(Ticket.called_at.desc())
        .first()
    )


def sign_in(counter_number, officer, now=None, take_over=False):
    """Seat ``officer`` at the counter (leaving any other seat). A counter another officer is
    seated at is taken only when asked (``take_over``): refused otherwise, naming who sits there."""
    now = now or utcnow()
    with database.atomic():
        counter = Counter.get_or_none(Counter.number == counter_number)
        if counter is None:
            raise NotFound(f"Không có quầy số {counter_number}.")
        if counter.officer_id not in (None, officer.id) and not take_over:
            raise Conflict(f"{counter.label} đang có cán bộ {counter.officer.full_name} làm việc. Nhận quầy thay "
                           "thì cán bộ đó sẽ không thao tác được nữa.", detail={"occupied_by": counter.officer.full_name})
        for seat in Counter.select().where(Counter.officer == officer, Counter.id != counter.id):
            seat.officer, seat.signed_in_at = None, None
            seat.save()
        counter.officer = officer
        counter.signed_in_at = now
        counter.save()
    return counter


def sign_out(counter_id):
    with database.atomic():
        counter = Counter.get_or_none(Counter.id == counter_id)
        if counter is not None and counter.officer_id is not None:
            counter.officer, counter.signed_in_at = None, None
            counter.save()


def _open_counter(counter_id):
    counter = Counter.get_or_none(Counter.id == counter_id)
    if counter is None:
        raise NotFound("Không tìm thấy quầy.")
    if counter.officer_id is None:
        raise Conflict(f"{counter.label} chưa có cán bộ đăng nhập.")
    return counter


def _current(counter):
    ticket = current_ticket(counter.id)
    if ticket is None:
        raise Conflict(f"{counter.label} đang không gọi số nào.")
    return ticket


def _close_current(counter, now):
    """Calling the next number closes the one in hand: served if started, else absent."""
    ticket = current_ticket(counter.id)
    if ticket is None:
        return
    if ticket.state == Ticket.SERVING:
        _set_state(ticket, Ticket.DONE, now, "finish", ended_at=now)
    else:
        _set_state(ticket, Ticket.NO_SHOW, now, "no_show", ended_at=now)


def _set_state(ticket, state, now, action, **stamps):
    ticket.state = state
    for name, value in stamps.items():
        setattr(ticket, name, value)
    ticket.save()
    _event(ticket, action, now, ticket.counter)


def _event(ticket, action, now, counter=None, detail=""):
    officer = counter.officer_id if counter is not None else None
    TicketEvent.create(ticket=ticket, action=action, at=now, counter=counter, officer=officer, detail=detail)


def rebuild_sequences():
    """Set each day's ticket and dossier counters from the rows held (after restoring a box)."""
    from .dossiers import rebuild_numbers

    rebuild_numbers()
    with database.atomic():
        rows = (Ticket.select(Ticket.day, Ticket.prefix, fn.MAX(Ticket.seq))
                .group_by(Ticket.day, Ticket.prefix).tuples())
        for day, prefix, last in rows:
            database.execute_sql(
                "INSERT INTO ticket_sequence (day, prefix, last) VALUES (?, ?, ?) "
                "ON CONFLICT (day, prefix) DO UPDATE SET last = max(last, excluded.last)", (day, prefix, last))
