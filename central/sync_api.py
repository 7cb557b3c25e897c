"""The replication endpoints boxes talk to: push, pull, snapshot, and the hub's key."""
from flask import Blueprint, Response, current_app, jsonify, request

from office.db import database
from office.errors import MotcuaError
from sync.capture import now_ms
from sync.keys import load_public_text, public_text, verify
from sync.protocol import NONCE, ORIGIN, PROTOCOL, SCHEMA, SIGNATURE, BatchRejected, request_message

from . import outbound
from .ingest import ingest
from .models import BoxNode
from .tasks import trigger_notify

bp = Blueprint("sync_api", __name__, url_prefix="/sync/v1")



def hub():
    return current_app.extensions["hub"]


@bp.after_request
def stamp_hub_time(response):
    response.headers["X-Motcua-Hub-Time"] = str(now_ms())  # boxes set their clocks by it
    return response


@bp.get("/hub")
def hub_info():
    return jsonify(node="hub", public_key=public_text(hub().key), protocol=PROTOCOL, schema=SCHEMA,
                   hub_time_ms=now_ms())


@bp.post("/push")
def push():
    try:
        result = ingest(request.headers.get(ORIGIN, ""), request.get_data(cache=False),
                        request.headers.get(SIGNATURE, ""), hub().settings["future_bound_seconds"] * 1000)
    except BatchRejected as exc:
        box = BoxNode.get_or_none(BoxNode.node_id == request.headers.get(ORIGIN, ""))
        body = exc.to_dict()
        body.update(reason=exc.reason, acked_seq=box.acked_seq if box else 0, hub_time_ms=now_ms())
        return jsonify(body), exc.status
    if result.get("notices") and hub().tasks:
        trigger_notify(hub().tasks)
    return jsonify(result)


def signed_box(action):
    """The registered, active box that signed ``action`` with this request's nonce."""
    origin = request.headers.get(ORIGIN, "")
    box = BoxNode.get_or_none(BoxNode.node_id == origin)
    if box is None:
        raise MotcuaError("Hộp chưa được đăng ký với trung tâm.", status=401)
    if box.status != BoxNode.ACTIVE:
        raise MotcuaError(f"Hộp không còn được phép đồng bộ ({box.status}).", status=403)
    message = request_message(action, origin, request.query_string.decode(), request.headers.get(NONCE, ""))
    if not verify(load_public_text(box.public_key), message, request.headers.get(SIGNATURE, "")):
        raise MotcuaError("Chữ ký yêu cầu không hợp lệ.", status=401)
    return box


@bp.get("/pull")
def pull():
    box = signed_box("pull")
    cursor = request.args.get("cursor", 0, type=int)
    limit = min(request.args.get("limit", hub().settings["sync_batch_size"], type=int), 10000)
    body, signature, new_cursor, count = outbound.pull_batch(hub().key, box, cursor, limit)
    return Response(body, mimetype="application/octet-stream", headers={
        SIGNATURE: signature, "X-Motcua-Cursor": str(new_cursor), "X-Motcua-Count": str(count)})


@bp.get("/snapshot")
def snapshot():
    box = signed_box("snapshot")
    with database.atomic():  # one consistent read: rows and the cursor they correspond to
        body, signature = outbound.snapshot(hub().key, box)
    return Response(body, mimetype="application/octet-stream", headers={SIGNATURE: signature})
