"""JSON API v1 of the box. The screens use it too. Views parse, call one domain function, answer."""
import functools

from flask import Blueprint, g, jsonify, request, session

from motcua.web import json_body
from office import bookings, queue, rating_screens, ratings
from office.board import counters_overview, current_call, recent_calls, services_overview
from office.errors import MotcuaError, NotFound
from office.models import PrintJob, Ticket, utcnow
from office.ratings import awaiting_rating

from .auth import counter_by_number, officer_required, signed_in
from .box import current_box
from sync import box as sync_box

from .console import technician_signed_in
from .printing import PRINTER_FAILING, failed_jobs, job_state, printer_trouble, reprint
from .screens import rating_screen_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/health")
def health():
    from updates.state import running_version

    return jsonify(ok=True, version=running_version())


@bp.get("/services")
def services():
    """Active services with their queue now: waiting, open counters, estimated wait (None: no counter open)."""
    return jsonify(services_overview(current_box().policy))


@bp.get("/opening")
def opening():
    """Whether the kiosk issues numbers now, and when the office opens when it does not."""
    return jsonify(current_box().opening().as_dict())


@bp.get("/priorities")
def priorities():
    categories = current_box().policy.priority_categories
    return jsonify([{"code": code, "label": label} for code, label in categories.items()])


@bp.post("/tickets")
def issue():
    data = json_body()
    service = data.get("service")
    if not isinstance(service, str) or not service:
        raise MotcuaError("Thiếu dịch vụ (service).")
    priority = data.get("priority") or None
    phone = _phone(data.get("phone"))
    box = current_box()
    state = box.opening()
    if not state.issuing:
        raise MotcuaError(state.message, status=409, detail={"reason": "closed", **state.as_dict()})
    info = {}

    # one transaction with the other kiosks' tickets of the moment: one fsync for them all
    box.writes.run(queue.issue_ticket, box.policy, service, priority, phone, print_payload=_kiosk_answer(box, info))
    box.nudge_printer()
    return jsonify(info), 201


@bp.post("/bookings/ticket")
def honour_booking():
    """The kiosk's "Tôi đã đặt lịch": the booking's code (typed, or its QR code scanned) gives a ticket
    called ahead of walk-ins from the booking's slot on (``booking_late_minutes`` after it starts at most)."""
    code = json_body().get("code")
    if not isinstance(code, str) or not code.strip():
        raise MotcuaError("Xin nhập mã lịch hẹn.")
    box = current_box()
    state = box.opening()
    if not state.issuing:
        raise MotcuaError(state.message, status=409, detail={"reason": "closed", **state.as_dict()})
    info = {}
    ticket = bookings.honour_booking(box.policy, code, box.settings["booking_late_minutes"],
                                     print_payload=_kiosk_answer(box, info))
    box.nudge_printer()
    booking = ticket.booking_row
    info["booking"] = {"code": booking.code, "slot": booking.slot, "day": booking.day}
    return jsonify(info), 201


def _kiosk_answer(box, info):
    """The ``print_payload`` of a ticket, called inside the issuing transaction: it fills ``info``,
    the kiosk's answer, so that what the kiosk shows is what prints, with whether the printer is
    known to be broken (said at once; read in the transaction the ticket's statements already hold,
    not in one of its own)."""
    def print_payload(ticket):
        info.update(box.ticket_info(ticket, printer=True))
        return box.print_payload(info)

    return print_payload


def _phone(raw):
    if raw in (None, ""):
        return None
    digits = "".join(ch for ch in str(raw) if ch.isdigit())
    if not 9 <= len(digits) <= 12:
        raise MotcuaError("Số điện thoại không hợp lệ.")
    return digits


@bp.get("/tickets/<code>")
def ticket_status(code):
    ticket = Ticket.get_or_none(Ticket.tracking_code == queue.tracking_code_key(code))
    if ticket is None:
        raise NotFound("Không tìm thấy số thứ tự với mã này.")
    info = current_box().ticket_info(ticket)
    info["state"] = ticket.state
    info["counter"] = ticket.counter.number if ticket.counter_id else None
    return jsonify(info)


@bp.get("/tickets/<code>/print")
def ticket_print(code):
    """How the printing of a ticket goes: printing, printed, retrying or failed (with the error)."""
    ticket = Ticket.get_or_none(Ticket.tracking_code == queue.tracking_code_key(code))
    job = PrintJob.get_or_none(PrintJob.ticket == ticket) if ticket is not None else None
    if job is None:
        raise NotFound("Không tìm thấy phiếu in của vé này.")
    return jsonify(number=ticket.number, state=job_state(job), error=PRINTER_FAILING if job.last_error else None)


@bp.get("/queue")
def queue_state():
    policy = current_box().policy
    return jsonify(
        services=services_overview(policy),
        counters=counters_overview(),
        calls=recent_calls(policy, limit=8),
        now=current_call(policy),  # the banner's call; None: the banner is cleared
    )


@bp.get("/calls")
def calls():
    """Calls after ``after`` (an event id), each with the voice clips to play in order."""
    box = current_box()
    after = request.args.get("after", "")
    rows = recent_calls(box.policy, after_id=after, limit=10)
    for row in rows:
        row["clips"] = box.clip_urls(row)
    return jsonify(calls=rows)


@bp.get("/counters/<int:number>")
def counter_state(number):
    """The counter, its ticket in hand and the tickets it may call, each with its wait so far.
    ``mine``: whether the officer of this request's session is the one seated there (a console
    whose officer lost the counter to another sign-in learns it on its next poll)."""
    counter = counter_by_number(number)
    policy = current_box().policy
    waiting = queue.waiting_for_counter(policy, counter)
    current = queue.current_ticket(counter.id)
    now = utcnow()
    return jsonify(
        number=counter.number,
        label=counter.label,
        officer=counter.officer.full_name if counter.officer_id else None,
        officer_since=policy.local_time(counter.signed_in_at).strftime("%H:%M") if counter.signed_in_at else None,
        mine=session.get("officer_id") is not None and counter.officer_id == session.get("officer_id"),
        current=_ticket_row(current, now) if current else None,
        waiting=[_ticket_row(t, now) for t in waiting],
    )


def _minutes(start, end):
    return int((end - start).total_seconds() // 60) if start and end else None


def _ticket_row(ticket, now=None):
    return {
        "id": ticket.id,
        "number": ticket.number,
        "service": ticket.service.name,
        "priority": ticket.priority,
        "state": ticket.state,
        "transfers": ticket.transfers,
        "recalls": ticket.recalls,
        "target_counter": ticket.target_counter.label if ticket.target_counter_id else None,
        "waited_minutes": _minutes(ticket.issued_at, now or utcnow()) if ticket.state == Ticket.ISSUED else None,
        "served_minutes": _minutes(ticket.serving_at, ticket.ended_at),
    }


def _counter_action(action):
    @officer_required
    def view(number):
        before = queue.current_ticket(g.counter.id)
        ticket = action(g.counter.id, **_action_args(action))
        closed = None
        if before is not None and (ticket is None or ticket.id != before.id):
            closed = _ticket_row(Ticket.get_by_id(before.id))  # what "next" did to the ticket in hand
        return jsonify(ok=True, ticket=_ticket_row(ticket) if ticket else None, closed=closed)

    return view


def _action_args(action):
    if action is _call_next:
        data = json_body() if request.get_data(cache=True) else {}  # a bare POST: nobody is marked absent
        return {"absent_current": data.get("absent") is True}
    return _transfer_args(action)


def _transfer_args(action):
    if action is not queue.transfer:
        return {}
    data = json_body()
    to_counter = data.get("counter")
    if to_counter not in (None, ""):
        try:
            to_counter = int(to_counter)
        except (TypeError, ValueError):
            raise MotcuaError("Số quầy không hợp lệ.") from None
    return {"service_code": data.get("service") or None, "to_counter": to_counter or None}


def _call_next(counter_id, absent_current=False):
    return queue.call_next(current_box().policy, counter_id, absent_current=absent_current)


for _name, _action in {
    "next": _call_next,
    "recall": queue.recall,
    "start": queue.start_serving,
    "no-show": queue.no_show,
    "finish": queue.finish,
    "transfer": queue.transfer,
}.items():
    bp.add_url_rule(f"/counters/<int:number>/{_name}", f"counter_{_name}", _counter_action(_action), methods=["POST"])


@bp.get("/counters/<int:number>/awaiting-rating")
def counter_awaiting_rating(number):
    counter = counter_by_number(number)
    ticket = awaiting_rating(counter.id, current_box().settings["rating_window_seconds"])
    if ticket is None:
        return jsonify(ticket=None)
    officer = ticket.officer.full_name if ticket.officer_id else None
    return jsonify(ticket={"id": ticket.id, "number": ticket.number, "officer": officer})


@bp.post("/ratings")
def rate():
    """A rating from the rating screen paired with a counter (its cookie): only for the ticket that
    counter just finished, once, within ``rating_window_seconds``."""
    data = json_body()
    ticket_id = data.get("ticket")
    try:
        score = int(data.get("score"))
        number = int(data.get("counter"))
    except (TypeError, ValueError):
        score = number = None
    if not isinstance(ticket_id, str) or not ticket_id or score is None:
        raise MotcuaError("Cần quầy (counter), số thứ tự (ticket) và mức đánh giá (score: 1, 2 hoặc 3).")
    rating_screens.require_paired(rating_screen_token(), number)
    window = current_box().settings["rating_window_seconds"]
    rating = ratings.rate_at_counter(number, score, window, source="screen", ticket_id=ticket_id,
                                     reason=data.get("reason") or "")
    return jsonify(ok=True, id=rating.id, label=rating.label), 201


def staff_signed_in(view):
    """An officer signed in at a counter, or the technician signed in on the console."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if technician_signed_in():
            return view(*args, **kwargs)
        return signed_in(view)(*args, **kwargs)

    return wrapped


@bp.get("/print-jobs")
@staff_signed_in
def print_jobs():
    """Jobs that used up their attempts, and the printer's latest error (None: it prints)."""
    return jsonify([
        {"id": j.id, "number": j.ticket.number if j.ticket_id else None, "attempts": j.attempts,
         "error": j.last_error, "created_at": j.created_at.isoformat() + "Z"}
        for j in failed_jobs()
    ])


@bp.get("/printer")
@staff_signed_in
def printer_state():
    """For the counters: whether the printer fails now, and the tickets it could not print."""
    failed = [{"id": j.id, "number": j.ticket.number} for j in failed_jobs() if j.ticket_id][-10:]
    return jsonify(error=printer_trouble(), failed=failed)


@bp.post("/print-jobs/<int:job_id>/reprint")
@staff_signed_in
def reprint_job(job_id):
    job = reprint(job_id)
    current_box().enqueue("print_job", job.id)
    return jsonify(ok=True, id=job.id)



@bp.get("/sync")
def sync_state():
    return jsonify(sync_box.status(current_box().settings))


@bp.post("/sync")
@signed_in
def sync_request():
    current_box().enqueue("sync_now")
    return jsonify(ok=True, queued=True), 202
