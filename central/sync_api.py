"""The replication endpoints boxes talk to: push, pull, snapshot, and the hub's key."""
from flask import Blueprint, Response, current_app, jsonify, request

from office.db import database
from sync.capture import now_ms
from sync.keys import load_public_text, public_text, verify
from sync.protocol import HUB_TIME, NONCE, ORIGIN, PROTOCOL, SCHEMA, SIGNATURE, TIME, BatchRejected, request_message

from . import outbound
from .ingest import count_refusal, ingest
from .fleet import record_contact
from .models import BoxNode
from .push_gate import PushGate
from .replay import check_fresh
from .tasks import trigger_notify

bp = Blueprint("sync_api", __name__, url_prefix="/sync/v1")


def hub():
    return current_app.extensions["hub"]


@bp.after_request
def stamp_hub_time(response):
    response.headers[HUB_TIME] = str(now_ms())  # boxes set their clocks by it
    return response


@bp.get("/hub")
def hub_info():
    return jsonify(node="hub", public_key=public_text(hub().key), protocol=PROTOCOL, schema=SCHEMA,
                   hub_time_ms=now_ms())


BUSY = "Trung tâm đang nhận dữ liệu của nhiều xã/phường cùng lúc; hộp sẽ tự gửi lại sau {seconds} giây."


def push_gate():
    """The hub's push admission (``central.push_gate``), one per web process."""
    return current_app.extensions.setdefault("push_gate", PushGate.from_settings(hub().settings))


@bp.post("/push")
def push():
    # read whole first, also when refused: the answer then never races an upload still coming in
    # (the first fleet runs saw boxes' connections reset); behind a reverse proxy it is already here
    data = request.get_data(cache=False)
    gate = push_gate()
    with gate.admit() as admitted:
        if not admitted:  # answered at once: the hub stays usable while it drains
            seconds = gate.retry_after()
            body = BatchRejected("busy", BUSY.format(seconds=seconds), status=503).to_dict()
            body.update(reason="busy", retry_after=seconds, hub_time_ms=now_ms())
            return jsonify(body), 503, {"Retry-After": str(seconds)}
        return _push(data)


def _push(data):
    try:
        result = ingest(request.headers.get(ORIGIN, ""), data,
                        request.headers.get(SIGNATURE, ""), hub().settings["future_bound_seconds"] * 1000,
                        window_ms=window_ms())
    except BatchRejected as exc:
        body = exc.to_dict()
        body.update(reason=exc.reason, hub_time_ms=now_ms())
        if getattr(exc, "acked_seq", None) is not None:  # only a fresh request the box signed learns it
            body["acked_seq"] = exc.acked_seq
        return jsonify(body), exc.status
    if result.get("notices") and hub().tasks:
        trigger_notify(hub().tasks)
    return jsonify(result)


def window_ms():
    return int(hub().settings.get("request_window_seconds") or 300) * 1000


def signed_box(action):
    """The registered, active box that signed ``action`` now, with a nonce not seen before."""
    origin = request.headers.get(ORIGIN, "")
    box = BoxNode.get_or_none(BoxNode.node_id == origin[:64])
    if box is None:
        exc = BatchRejected("unknown_box", "Hộp chưa được đăng ký với trung tâm.", status=401)
        count_refusal("?", exc, origin)
        raise exc
    if box.status != BoxNode.ACTIVE:
        exc = BatchRejected(box.status, f"Hộp không còn được phép đồng bộ ({box.status}).", status=403)
        count_refusal(box.node_id, exc)
        raise exc
    nonce, stamp = request.headers.get(NONCE, ""), request.headers.get(TIME, "")
    message = request_message(action, origin, request.query_string.decode(), nonce, stamp)
    if not stamp:  # a box of the previous release: it signs no time
        exc = BatchRejected("unstamped", "Yêu cầu không có dấu thời gian: phần mềm của hộp quá cũ. "
                            "Hãy cập nhật phần mềm của hộp.", status=426)
    elif not verify(load_public_text(box.public_key), message, request.headers.get(SIGNATURE, "")):
        exc = BatchRejected("bad_signature", "Chữ ký yêu cầu không hợp lệ.", status=401)
    else:
        exc = None
    try:
        if exc is not None:
            raise exc
        check_fresh(box.node_id, int(stamp) if stamp.lstrip("-").isdigit() else None, nonce, window_ms())
    except BatchRejected as refused:
        count_refusal(box.node_id, refused)
        raise
    record_contact(box.id)  # a pull or a hello is a contact too, with data to send or not
    return box


@bp.get("/hello")
def hello():
    """An idle box's sign of life (every few minutes): nothing to send, nothing to fetch."""
    box = signed_box("hello")
    pending = request.args.get("pending", type=int)
    if pending is not None:
        record_contact(box.id, pending=pending)
    return jsonify(ok=True, hub_time_ms=now_ms())


@bp.get("/pull")
def pull():
    box = signed_box("pull")
    cursor = request.args.get("cursor", 0, type=int)
    limit = min(request.args.get("limit", hub().settings["sync_batch_size"], type=int), 10000)
    body, signature, new_cursor, count = outbound.pull_batch(hub().key, box, cursor, limit, _schema())
    return Response(body, mimetype="application/octet-stream", headers={
        SIGNATURE: signature, "X-Motcua-Cursor": str(new_cursor), "X-Motcua-Count": str(count)})


UNSAID_SCHEMA = 5


def _schema():
    """The schema the box says it has; a box of a release that did not say is at schema 5 (the boxes
    say theirs since schema 6)."""
    return request.args.get("schema", UNSAID_SCHEMA, type=int)


@bp.get("/snapshot")
def snapshot():
    box = signed_box("snapshot")
    with database.atomic():  # one consistent read: rows and the cursor they correspond to
        body, signature = outbound.snapshot(hub().key, box, _schema())
    return Response(body, mimetype="application/octet-stream", headers={SIGNATURE: signature})
