"""A citizen texts a tracking code to the office's number; the gateway posts it here (MO webhook).

The reply is queued as an SMS in the outbox, keyed by the gateway's id of the incoming text, so
a gateway that posts the same text again gets the same answer and no second SMS. It says no
more than the tracking page shows anyone holding the code.
"""
import hmac
import re

from flask import Blueprint, current_app, jsonify, request

from motcua.ratelimit import RateLimiter
from motcua.tracking import _local_now
from office import dossiers
from office.errors import MotcuaError, NotFound
from office.models import Ticket

from .outbox import enqueue, normalise_phone
from .texts import ascii_text, for_channel

bp = Blueprint("inbound_sms", __name__)

QUERIES_PER_HOUR = 10
_KEYWORDS = re.compile(r"^\s*(TRA\s*CUU|TRACUU)\b[\s:.-]*", re.IGNORECASE)
TICKET_STATES = {Ticket.ISSUED: "dang cho goi", Ticket.CALLED: "dang duoc goi", Ticket.SERVING: "dang duoc phuc vu",
                 Ticket.DONE: "da phuc vu xong", Ticket.NO_SHOW: "da qua luot", Ticket.CANCELLED: "da huy"}
HELP = "Soan TRACUU <ma ho so> hoac ma tra cuu in tren phieu de xem tinh trang."


def _first(data, *names):
    for name in names:
        value = data.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def _authorised(settings):
    expected = settings["sms_inbound_token"]
    given = request.args.get("token") or request.headers.get("X-Motcua-Token") or ""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def parse_code(content):
    """The code a citizen typed: keyword and spaces gone, upper case (codes are upper case)."""
    text = _KEYWORDS.sub("", content or "").strip()
    return re.sub(r"\s+", "", text).upper()


def reply_for(code, now=None):
    """The short status of a dossier or a ticket, or how to ask."""
    if not code:
        return HELP
    try:
        view = dossiers.tracking_view(dossiers.get(code), now=now)
    except NotFound:
        view = None
    if view is not None:
        late = " (qua han)" if view["late"] else ""
        step = f", buoc: {view['stage']}" if view["stage"] else ""
        return ascii_text(f"Ho so {view['code']} ({view['procedure']}): {view['status_label']}{step}. "
                          f"Hen tra {view['due_at']}{late}.")
    ticket = Ticket.get_or_none(Ticket.tracking_code == code)
    if ticket is not None:
        counter = f" tai quay {ticket.counter.number}" if ticket.counter_id and ticket.state in Ticket.OPEN_STATES else ""
        return f"Ve so {ticket.number} ngay {ticket.day}: {TICKET_STATES.get(ticket.state, ticket.state)}{counter}."
    return ascii_text(f"Khong tim thay ho so hoac ve co ma {code}. ") + HELP


@bp.post("/api/v1/sms/inbound")
def inbound():
    settings = current_app.extensions["hub"].settings
    if not _authorised(settings):
        raise MotcuaError("Không được phép gửi tin đến địa chỉ này.", status=403)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        data = request.form.to_dict() or request.args.to_dict()
    phone = normalise_phone(_first(data, "Phone", "From", "phone", "from", "msisdn", "sender"))
    content = _first(data, "Content", "Text", "content", "text", "Message", "message")
    inbound_id = _first(data, "Id", "ID", "id", "SmsId", "MessageId", "message_id", "RequestId", "moid")
    if phone is None:
        raise MotcuaError("Thiếu số điện thoại người gửi hoặc số không hợp lệ.", status=400)
    if not inbound_id:
        raise MotcuaError("Thiếu mã của tin nhắn đến (id).", status=400)
    limiter = current_app.extensions.setdefault("sms_inbound_limiter", RateLimiter(QUERIES_PER_HOUR, 3600))
    if limiter.hit(phone):
        return jsonify(ok=True, reply="", queued=False, limited=True)
    reply = for_channel("sms", reply_for(parse_code(content), now=_local_now()), settings)
    queued = enqueue(f"sms-in:{inbound_id}", "sms", phone, reply, purpose="sms_reply")
    if queued:
        current_app.extensions["hub"].tasks and _trigger()
    return jsonify(ok=True, reply=reply, queued=queued)


def _trigger():
    from .tasks import trigger_notify

    trigger_notify(current_app.extensions["hub"].tasks)
