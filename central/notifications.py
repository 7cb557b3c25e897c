"""The operator's view of the outbox: what went to whom, on which channel, what failed and why."""
from flask import Blueprint, flash, get_flashed_messages, jsonify, redirect, render_template, request, url_for
from peewee import fn

from motcua.web import refuse_cross_site
from office.communes import find_commune
from office.errors import MotcuaError

from .auth import audited, requires
from .dispatch import LogCursor
from .outbox import CHANNELS, Outbox
from .sending import mask, retry_now

bp = Blueprint("notifications", __name__)
bp.before_request(refuse_cross_site)

STATES = {"pending": "Chờ gửi", "sending": "Đang gửi", "sent": "Đã gửi", "failed": "Thất bại"}
PURPOSES = {"dossier_received": "Tiếp nhận hồ sơ", "dossier_supplement": "Yêu cầu bổ sung", "dossier_ready": "Có kết quả",
            "dossier_refused": "Không được tiếp nhận", "turn_near": "Sắp đến lượt", "reminder": "Nhắc việc",
            "sms_reply": "Trả lời tin nhắn tra cứu", "citizen_code": "Mã xác thực công dân", "booking_made": "Đặt lịch",
            "booking_cancelled": "Huỷ lịch hẹn",
            "report_answered": "Trả lời phản ánh"}
LIMIT = 200


def _filters():
    return {k: (request.args.get(k) or "").strip() for k in ("state", "purpose", "channel", "commune")}


def outbox_log(filters, limit=LIMIT):
    """Messages, newest first, and the count per state, for the given filters."""
    query = Outbox.select()
    for name in ("purpose", "channel", "commune"):
        if filters.get(name):
            query = query.where(getattr(Outbox, name) == filters[name])
    counts = {state: 0 for state in STATES}
    counts.update(dict(query.select(Outbox.state, fn.COUNT(Outbox.id)).group_by(Outbox.state).tuples()))
    if filters.get("state"):
        query = query.where(Outbox.state == filters["state"])
    rows = list(query.order_by(Outbox.id.desc()).limit(limit))
    return rows, counts


def _row(m):
    return {"id": m.id, "state": m.state, "channel": m.channel, "purpose": m.purpose, "commune": m.commune,
            "recipient": mask(m.recipient), "text": m.shown_text, "attempts": m.attempts, "provider_ref": m.provider_ref,
            "last_error": m.last_error, "created_at": f"{m.created_at:%Y-%m-%d %H:%M:%S}",
            "next_at": f"{m.next_at:%Y-%m-%d %H:%M:%S}",
            "sent_at": f"{m.sent_at:%Y-%m-%d %H:%M:%S}" if m.sent_at else None}


def _commune_name(code):
    commune = find_commune(code)
    return commune.full_name if commune else code


def _skipped():
    cursor = LogCursor.get_or_none(LogCursor.name == "notice")
    return cursor.skipped if cursor else 0


@bp.get("/notifications")
@requires("messages.manage")
def page():
    filters = _filters()
    rows, counts = outbox_log(filters)
    communes = {c: _commune_name(c) for (c,) in Outbox.select(Outbox.commune).distinct().order_by(Outbox.commune)
                .tuples() if c}
    return render_template("notifications.html", rows=[_row(m) for m in rows], counts=counts, filters=filters,
                           states=STATES, purposes=PURPOSES, channels=CHANNELS, communes=communes,
                           skipped=_skipped(), messages=get_flashed_messages(), limit=LIMIT)


@bp.get("/api/v1/notifications")
@requires("messages.manage")
def api():
    rows, counts = outbox_log(_filters(), limit=min(request.args.get("limit", LIMIT, type=int), 1000))
    return jsonify(counts=counts, skipped_notices=_skipped(), messages=[_row(m) for m in rows])


@bp.post("/notifications/<int:message_id>/retry")
@requires("messages.manage")
def retry(message_id):
    if Outbox.get_or_none(Outbox.id == message_id) is None:
        raise MotcuaError("Không tìm thấy tin này.", status=404)
    with audited("message.resend", f"tin #{message_id}") as entry:
        again = retry_now(message_id)
        entry["detail"] = "xếp gửi lại" if again else "không ở trạng thái thất bại"
    if again:
        flash(f"Đã xếp tin #{message_id} để gửi lại ngay.")
    else:
        flash(f"Tin #{message_id} không ở trạng thái thất bại nên không gửi lại.")
    return redirect(url_for("notifications.page", **{k: v for k, v in _filters().items() if v}), code=303)
