"""A citizen texts a tracking code to the office's number; the gateway posts it here (MO webhook).

The reply is queued as an SMS in the outbox, keyed by the gateway's id of the incoming text, so
a gateway that posts the same text again gets the same answer and no second SMS. The answer
itself is ``sms_query.reply_for``.
"""
import hmac

from flask import Blueprint, current_app, jsonify, request

from motcua.ratelimit import RateLimiter
from motcua.web import local_now
from office.errors import MotcuaError

from .outbox import enqueue, normalise_phone
from .sms_query import parse_code, reply_for
from .tasks import trigger_notify
from .texts import for_channel

bp = Blueprint("inbound_sms", __name__)

QUERIES_PER_HOUR = 10


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
    reply = for_channel("sms", reply_for(parse_code(content), now=local_now()), settings)
    queued = enqueue(f"sms-in:{inbound_id}", "sms", phone, reply, purpose="sms_reply")
    tasks = current_app.extensions["hub"].tasks
    if queued and tasks:
        trigger_notify(tasks)  # the citizen waits for the answer: do not leave it to the minute's run
    return jsonify(ok=True, reply=reply, queued=queued)
