"""JSON API v1 of the box. The screens use it too. Views parse, call one domain function, answer."""
from flask import Blueprint, g, jsonify, request

from motcua.web import json_body
from office import queue, rating_screens, ratings
from office.board import counters_overview, current_call, recent_calls, services_overview
from office.errors import MotcuaError, NotFound
from office.models import Service, Ticket
from office.ratings import awaiting_rating

from .auth import counter_by_number, officer_required, signed_in
from .box import current_box
from sync import box as sync_box

from .printing import failed_jobs, reprint
from .screens import rating_screen_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/health")
def health():
    from updates.state import running_version

    return jsonify(ok=True, version=running_version())


@bp.get("/services")
def services():
    rows = Service.select().where(Service.active == True).order_by(Service.sort_order, Service.id)  # noqa: E712
    return jsonify([{"code": s.code, "name": s.name, "prefix": s.prefix} for s in rows])


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
    info = {}

    def print_payload(ticket):  # inside the issuing transaction: what the kiosk shows is what prints
        info.update(box.ticket_info(ticket))
        return box.print_payload(info)

    ticket = queue.issue_ticket(box.policy, service, priority, phone, print_payload=print_payload)
    box.enqueue("print_job", ticket.print_job.id)
    return jsonify(info), 201


def _phone(raw):
    if raw in (None, ""):
        return None
    digits = "".join(ch for ch in str(raw) if ch.isdigit())
    if not 9 <= len(digits) <= 12:
        raise MotcuaError("Số điện thoại không hợp lệ.")
    return digits


@bp.get("/tickets/<code>")
def ticket_status(code):
    ticket = Ticket.get_or_none(Ticket.tracking_code == code.strip().upper())
    if ticket is None:
        raise NotFound("Không tìm thấy số thứ tự với mã này.")
    info = current_box().ticket_info(ticket)
    info["state"] = ticket.state
    info["counter"] = ticket.counter.number if ticket.counter_id else None
    return jsonify(info)


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
    counter = counter_by_number(number)
    waiting = queue.waiting_for_counter(current_box().policy, counter)
    current = queue.current_ticket(counter.id)
    return jsonify(
        number=counter.number,
        label=counter.label,
        officer=counter.officer.full_name if counter.officer_id else None,
        current=_ticket_row(current) if current else None,
        waiting=[_ticket_row(t) for t in waiting],
    )


def _ticket_row(ticket):
    return {
        "id": ticket.id,
        "number": ticket.number,
        "service": ticket.service.name,
        "priority": ticket.priority,
        "state": ticket.state,
        "transfers": ticket.transfers,
        "recalls": ticket.recalls,
    }


def _counter_action(action):
    @officer_required
    def view(number):
        ticket = action(g.counter.id, **_transfer_args(action))
        return jsonify(ok=True, ticket=_ticket_row(ticket) if ticket else None)

    return view


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


def _call_next(counter_id):
    return queue.call_next(current_box().policy, counter_id)


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


@bp.get("/print-jobs")
@signed_in
def print_jobs():
    return jsonify([
        {"id": j.id, "number": j.ticket.number if j.ticket_id else None, "attempts": j.attempts,
         "error": j.last_error, "created_at": j.created_at.isoformat() + "Z"}
        for j in failed_jobs()
    ])


@bp.post("/print-jobs/<int:job_id>/reprint")
@signed_in
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
