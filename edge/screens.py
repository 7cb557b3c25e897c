"""The box's pages: kiosk, lobby display, counter console, rating, ticket tracking."""
import io
from pathlib import Path

import segno
from flask import Blueprint, Response, abort, render_template, request, send_file, session

from devices.voice import CLIP_NAMES, clip_path
from office.models import Counter, Service, Ticket

from sync import box as sync_box

from .box import current_box

bp = Blueprint("screens", __name__)


def _page(template, **context):
    box = current_box()
    return render_template(template, office=box.office, settings=box.settings, **context)


@bp.get("/")
def index():
    return _page("index.html", counters=Counter.select().order_by(Counter.number))


@bp.get("/kiosk")
def kiosk():
    return _page("kiosk.html")


@bp.get("/lobby")
def lobby():
    return _page("lobby.html")


@bp.get("/counter")
def counter():
    seated = Counter.get_or_none(Counter.number == session.get("counter"))
    if seated is not None and seated.officer_id != session.get("officer_id"):
        seated = None  # someone else signed in at that counter since
    return _page("counter.html", counters=Counter.select().order_by(Counter.number), seated=seated,
                 services=Service.select().where(Service.active == True).order_by(Service.sort_order))  # noqa: E712


@bp.get("/rate/<int:number>")
def rate(number):
    counter = Counter.get_or_none(Counter.number == number)
    if counter is None:
        abort(404)
    return _page("rate.html", counter=counter)


@bp.get("/t/<code>")
def track(code):
    ticket = Ticket.get_or_none(Ticket.tracking_code == code.strip().upper())
    if ticket is None:
        abort(404)
    return _page("track.html", ticket=ticket, info=current_box().ticket_info(ticket))


@bp.get("/sync")
def sync_page():
    return _page("sync.html", state=sync_box.status(current_box().settings))


@bp.get("/qr.svg")
def qr():
    data = request.args.get("data", "")
    if not data or len(data) > 500:
        abort(400)
    out = io.BytesIO()  # a standalone SVG file (with xmlns), loadable by <img>
    segno.make(data, error="m").save(out, kind="svg", scale=6, border=2)
    return Response(out.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@bp.get("/clips/<name>.wav")
def clip(name):
    if name not in CLIP_NAMES:
        abort(404)
    override = current_box().settings["clips_dir"]
    path = clip_path(name, Path(override) if override else None)
    return send_file(path, mimetype="audio/wav", max_age=3600)
