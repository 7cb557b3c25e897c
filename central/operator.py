"""The hub's operator pages and API: fleet, conflicts, hub-authored data."""
import json

from flask import Blueprint, flash, get_flashed_messages, jsonify, redirect, render_template, request, url_for

from motcua.web import json_body, json_fields, json_text
from office.errors import MotcuaError, NotFound
from office.models import Holiday, Place
from sync.models import Conflict

from .auth import audited, requires
from .fleet import box_rows, release_box, revoke_box
from .models import Alert, Rejection
from .releases import rollout_rows

bp = Blueprint("operator", __name__)


@bp.get("/")
@requires("fleet.view")
def index():
    return render_template("hub_index.html", boxes=box_rows(), alerts=_recent(Alert), rejections=_recent(Rejection),
                           conflicts=_recent(Conflict, Conflict.recorded_at), messages=get_flashed_messages(),
                           rollouts=rollout_rows())


@bp.post("/boxes/<node>/revoke")
@requires("fleet.manage")
def revoke(node):
    reason = (request.form.get("reason") or "").strip() or "thu hồi tại trang trung tâm"
    with audited("box.revoke", node, reason):
        revoke_box(node, reason)
    flash(f"Đã thu hồi khoá của hộp {node}: trung tâm từ chối mọi dữ liệu hộp này gửi lên.")
    return redirect(url_for(".index"), 303)


@bp.post("/boxes/<node>/release")
@requires("fleet.manage")
def release(node):
    with audited("box.release", node):
        release_box(node)
    flash(f"Hộp {node} hoạt động trở lại.")
    return redirect(url_for(".index"), 303)


def _recent(model, order=None):
    return list(model.select().order_by((order or model.at).desc()).limit(20))


@bp.get("/api/v1/boxes")
@requires("fleet.view")
def boxes():
    return jsonify(box_rows())


@bp.get("/api/v1/releases")
@requires("fleet.view")
def releases():
    return jsonify(rollout_rows())


@bp.get("/api/v1/conflicts")
@requires("fleet.view")
def conflicts():
    return jsonify([
        {"table": c.table, "pk": c.pk, "field": c.field, "commune": c.scope,
         "loser": {"value": json.loads(c.loser_value), "hlc": c.loser_hlc, "origin": c.loser_origin},
         "winner": {"value": json.loads(c.winner_value), "hlc": c.winner_hlc, "origin": c.winner_origin}}
        for c in Conflict.select().order_by(Conflict.id)
    ])


@bp.post("/api/v1/holidays")
@requires("hub_data.manage")
def add_holiday():
    data = json_body()
    day, name = str(data.get("day", "")), str(data.get("name", "")).strip()
    if len(day) != 10 or not name:
        raise MotcuaError("Cần ngày (YYYY-MM-DD) và tên ngày nghỉ.")
    kind = data.get("kind", Holiday.OFF)
    if kind not in (Holiday.OFF, Holiday.WORKING):
        raise MotcuaError("Loại ngày phải là off (nghỉ) hoặc working (làm bù).")
    with audited("holiday.add", day, f"{name} ({kind}, xã {data.get('commune') or '*'})"):
        holiday = Holiday.create(commune=data.get("commune") or "*", day=day, name=name, kind=kind)
    return jsonify(id=holiday.id), 201


PLACE_FIELDS = ("name", "category", "address", "description", "phone", "opening_hours", "active")


@bp.post("/api/v1/places")
@requires("hub_data.manage")
def add_place():
    data = json_body()
    if not data.get("commune") or not str(data.get("name", "")).strip():
        raise MotcuaError("Cần mã xã (commune) và tên địa điểm.")
    with audited("place.add", str(data["name"]), f"xã {data['commune']}"):
        place = Place.create(commune=json_text(data, "commune"), **json_fields(data, PLACE_FIELDS))
    return jsonify(id=place.id), 201


@bp.patch("/api/v1/places/<pk>")
@requires("hub_data.manage")
def edit_place(pk):
    place = Place.get_or_none(Place.id == pk)
    if place is None:
        raise NotFound("Không tìm thấy địa điểm.")
    with audited("place.change", place.name, f"xã {place.commune}"):
        place.save_changes(json_fields(json_body(), PLACE_FIELDS))
    return jsonify(id=place.id)
