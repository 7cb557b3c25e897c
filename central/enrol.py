"""Enrolment: a box provisioned from a bundle binds its own key to the bundle's commune.

``POST /sync/v1/enrol``: the body is the canonical JSON ``{token, public_key, commune,
bundle_id, node_id, fresh, sent_ms, nonce}``, signed (``X-Motcua-Signature``) by the new box
key it names. The hub refuses it outside its time window or when its nonce was seen (see
``central.replay``: a captured request cannot be sent again). It checks the token (by its sha256), its commune, bundle, expiry and that it
was never used; then, in one transaction: consumes the token, registers the key for the
commune, revokes the commune's other boxes (one active box per commune: this is how a box is
replaced) and logs the enrolment. Every refusal is logged too. The same box asking again with
the same token (a lost answer) gets the same answer.
"""
import hashlib
import json
import secrets
from datetime import timedelta

from flask import Blueprint, current_app, jsonify, request

from office.clock import utcnow
from office.communes import find_commune
from office.db import database
from office.errors import MotcuaError
from office.models import Office
from sync.capture import now_ms
from sync.keys import load_public_text, verify
from sync.keys import node_id as key_node_id
from sync.protocol import HUB_TIME, SIGNATURE, BatchRejected

from .fleet import register_box, revoke_box
from .models import BoxNode, Enrolment, EnrolToken
from .ingest import count_refusal
from .replay import STALE, check_fresh

bp = Blueprint("enrol", __name__, url_prefix="/sync/v1")

MAX_REQUEST = 16 * 1024
UNPROVEN = ("malformed", "signature") + STALE  # refusals of requests that do not prove who sent them


class EnrolRefused(MotcuaError):
    def __init__(self, reason, message, status):
        super().__init__(message, status=status, detail={"reason": reason})
        self.reason = reason


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(commune, hours, now=None):
    """A new one-time token for ``commune``: (bundle id, token, expiry). Only its hash is kept."""
    now = (now or utcnow()).replace(microsecond=0)
    bundle_id, token = secrets.token_hex(8), secrets.token_urlsafe(32)
    expires = now + timedelta(hours=hours)
    EnrolToken.create(bundle_id=bundle_id, commune=commune, token_hash=token_hash(token),
                      created_at=now, expires_at=expires)
    return bundle_id, token, expires


def commune_has_data(commune, except_node=""):
    """Whether the hub holds data of ``commune`` (a box pushed some): a new box restores it."""
    pushed = BoxNode.select().where(BoxNode.commune == commune, BoxNode.node_id != except_node,
                                    BoxNode.acked_seq > 0).exists()
    return pushed or Office.select().where(Office.commune == commune).exists()


def _when(moment):
    from provisioning.bundle import local_time

    return local_time(moment)


def enrol(body, signature, address="", now=None, window_ms=None, hub_now_ms=None):
    """Check and take one enrolment request; return the answer, or raise ``EnrolRefused`` (logged)."""
    now = now or utcnow()
    seen = {"commune": "", "bundle_id": "", "node_id": ""}
    try:
        answer = _enrol(body, signature, now, seen, window_ms, hub_now_ms)
    except EnrolRefused as exc:
        if exc.reason in UNPROVEN:  # what anyone can send at will: counted, not a row each
            count_refusal(seen["node_id"] if exc.reason in STALE else "?", exc, seen["node_id"])
        else:
            Enrolment.create(at=now, outcome="refused", message=exc.message, address=address or "", **seen)
        raise
    Enrolment.create(at=now, outcome="enrolled" if not answer["repeated"] else "repeated", address=address or "",
                     replaced=",".join(answer["replaced"]), message="", **seen)
    return answer


def _enrol(body, signature, now, seen, window_ms, hub_now_ms):
    if len(body) > MAX_REQUEST:
        raise EnrolRefused("malformed", "Yêu cầu đăng ký quá lớn.", 413)
    try:
        data = json.loads(body)
        token, public_text = str(data["token"]), str(data["public_key"])
        commune, bundle_id = str(data["commune"]), str(data["bundle_id"])
        fresh = bool(data.get("fresh", True))
    except (ValueError, KeyError, TypeError) as exc:
        raise EnrolRefused("malformed", "Yêu cầu đăng ký không hợp lệ.", 400) from exc
    seen.update(commune=commune[:20], bundle_id=bundle_id[:40])
    try:
        public = load_public_text(public_text)
    except MotcuaError as exc:
        raise EnrolRefused("malformed", exc.message, 400) from exc
    node = key_node_id(public)
    seen["node_id"] = node
    if not verify(public, body, signature or ""):
        raise EnrolRefused("signature", "Chữ ký của yêu cầu đăng ký không hợp lệ.", 401)
    sent = data.get("sent_ms")
    try:  # signed: a captured request cannot be sent again, nor later
        check_fresh(node, sent if isinstance(sent, int) else None, str(data.get("nonce") or ""), window_ms,
                    hub_now_ms)
    except BatchRejected as exc:
        raise EnrolRefused(exc.reason, exc.message, exc.status) from None
    with database.atomic():
        record = EnrolToken.get_or_none(EnrolToken.token_hash == token_hash(token))
        if record is None:
            raise EnrolRefused("token", "Mã đăng ký không hợp lệ: gói cài đặt không do trung tâm này tạo, "
                               "hoặc đã bị huỷ.", 403)
        if record.commune != commune or record.bundle_id != bundle_id:
            raise EnrolRefused("token", "Mã đăng ký không khớp với xã hoặc gói cài đặt.", 403)
        if record.consumed_at is not None:
            if record.consumed_by == node:  # the same box again: its answer was lost
                return _answer(node, commune, [], repeated=True)
            raise EnrolRefused("used", f"Gói cài đặt này đã được dùng để đăng ký hộp {record.consumed_by} "
                               f"lúc {_when(record.consumed_at)}. Mỗi gói chỉ dùng được một lần: "
                               "hãy tạo gói mới tại trung tâm.", 409)
        if now > record.expires_at:
            raise EnrolRefused("expired", f"Gói cài đặt đã hết hạn lúc {_when(record.expires_at)} (giờ Việt Nam): "
                               "hãy tạo gói mới tại trung tâm.", 410)
        if find_commune(commune) is None:
            raise EnrolRefused("token", f"Không có xã/phường mã “{commune}”.", 403)
        existing = BoxNode.get_or_none(BoxNode.node_id == node)
        if existing is not None:
            if existing.commune != commune:
                raise EnrolRefused("other_commune", f"Khoá của hộp này đã đăng ký cho xã {existing.commune}.", 409)
            if existing.status == BoxNode.REVOKED:
                raise EnrolRefused("revoked", "Khoá của hộp này đã bị thu hồi: hãy cài lại hộp (xoá khoá cũ) "
                                   "rồi dùng gói mới.", 403)
        elif not fresh and commune_has_data(commune, node):
            raise EnrolRefused("diverged", "Trung tâm đã có dữ liệu của xã này từ hộp khác, nhưng hộp này đã tự "
                               "tạo dữ liệu riêng khi chưa kết nối. Hãy cài lại hộp từ đầu (xoá dữ liệu) với "
                               "gói mới để hộp tải dữ liệu của xã từ trung tâm.", 409)
        taken = (EnrolToken.update(consumed_at=now, consumed_by=node)
                 .where(EnrolToken.id == record.id, EnrolToken.consumed_at.is_null()).execute())
        if not taken:  # another box took it a moment ago
            raise EnrolRefused("used", "Gói cài đặt này vừa được dùng cho hộp khác. Mỗi gói chỉ dùng được một lần.", 409)
        register_box(commune, public_text, now=now)
        replaced = []
        for other in BoxNode.select().where(BoxNode.commune == commune, BoxNode.node_id != node,
                                            BoxNode.status != BoxNode.REVOKED):
            revoke_box(other.node_id, f"thay bằng {node} (gói {bundle_id})", now=now)
            replaced.append(other.node_id)
        return _answer(node, commune, replaced)


def _answer(node, commune, replaced, repeated=False):
    return {"ok": True, "node_id": node, "commune": commune, "has_data": commune_has_data(commune, node),
            "replaced": replaced, "repeated": repeated, "hub_time_ms": now_ms()}


@bp.post("/enrol")
def enrol_box():
    window = current_app.extensions["hub"].settings.get("request_window_seconds") or 300
    answer = enrol(request.get_data(cache=False)[:MAX_REQUEST + 1], request.headers.get(SIGNATURE, ""),
                   request.remote_addr, window_ms=int(window) * 1000)
    return jsonify(answer)


@bp.after_request
def stamp_hub_time(response):
    response.headers[HUB_TIME] = str(now_ms())
    return response


def token_rows(now=None):
    """The bundles this hub made and what became of them."""
    now = now or utcnow()
    rows = []
    for record in EnrolToken.select().order_by(EnrolToken.created_at.desc()):
        if record.consumed_at:
            state = f"đã dùng bởi {record.consumed_by} lúc {_when(record.consumed_at)}"
        elif now > record.expires_at:
            state = "hết hạn"
        else:
            state = "chưa dùng"
        rows.append({"bundle_id": record.bundle_id, "commune": record.commune, "created_at": record.created_at,
                     "expires_at": record.expires_at, "consumed_at": record.consumed_at,
                     "consumed_by": record.consumed_by, "state": state})
    return rows


def enrolment_rows(limit=200):
    return [{"at": e.at, "commune": e.commune, "bundle_id": e.bundle_id, "node_id": e.node_id, "outcome": e.outcome,
             "message": e.message, "replaced": e.replaced, "address": e.address}
            for e in Enrolment.select().order_by(Enrolment.at.desc(), Enrolment.id.desc()).limit(limit)]
