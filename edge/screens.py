"""The box's pages: kiosk, lobby display, counter console, rating, ticket tracking."""
import io
import logging
from pathlib import Path

import segno
from flask import (Blueprint, Response, abort, flash, get_flashed_messages, redirect, render_template, request, send_file,
                   session, url_for)

from devices.voice import CLIP_NAMES, clip_path
from motcua.ratelimit import client_address
from office import rating_screens
from office.errors import MotcuaError
from office.models import Counter, Service, Ticket
from office.officers import authenticate

from sync import box as sync_box

from .box import current_box
from .console import technician_required, technician_signed_in

log = logging.getLogger("motcua.screens")
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


RATING_SCREEN_COOKIE = "motcua_rating_screen"
RATING_SCREEN_MAX_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie; each visit renews it


def rating_screen_token():
    return request.cookies.get(RATING_SCREEN_COOKIE)


def _counter_or_404(number):
    counter = Counter.get_or_none(Counter.number == number)
    if counter is None:
        abort(404)
    return counter


def _keep_pairing(response, token):
    response.set_cookie(RATING_SCREEN_COOKIE, token, max_age=RATING_SCREEN_MAX_AGE, httponly=True,
                        samesite="Strict", secure=request.is_secure)
    return response


@bp.get("/rate/<int:number>")
def rate(number):
    counter = _counter_or_404(number)
    token = rating_screen_token()
    if rating_screens.paired_counter(token) != number:
        return _page("rate_unpaired.html", counter=counter, technician=technician_signed_in())
    return _keep_pairing(Response(_page("rate.html", counter=counter)), token)


@bp.post("/rate/<int:number>/pair")
def pair_rating_screen(number):
    """Pair this browser as counter ``number``'s rating screen: the technician signed in on it,
    or the officer seated at that counter giving their username and password."""
    counter = _counter_or_404(number)
    try:
        paired_by = _pairing_authority(counter)
        token = rating_screens.pair(number, paired_by)
    except MotcuaError as exc:
        page = _page("rate_unpaired.html", counter=counter, technician=technician_signed_in(), error=exc.message,
                     username=request.form.get("username", ""))
        return page, exc.status
    log.info("rating screen of counter %s paired by %s", number, "the technician" if paired_by == "technician"
             else "its officer")
    return _keep_pairing(redirect(url_for("screens.rate", number=number)), token)


def _pairing_authority(counter):
    if technician_signed_in():
        return "technician"
    officer = authenticate(request.form.get("username"), request.form.get("password"), client_address())
    if counter.officer_id != officer.id:
        raise MotcuaError(f"Cán bộ {officer.full_name} chưa đăng nhập làm việc tại {counter.label}. Hãy đăng "
                          f"nhập tại máy tính của {counter.label} trước, rồi ghép màn hình.", status=403)
    return officer.username


@bp.get("/t/<code>")
def track(code):
    ticket = Ticket.get_or_none(Ticket.tracking_code == code.strip().upper())
    if ticket is None:
        abort(404)
    return _page("track.html", ticket=ticket, info=current_box().ticket_info(ticket))


@bp.get("/sync")
def sync_page():
    return _page("sync.html", state=sync_box.status(current_box().settings), technician=technician_signed_in(),
                 messages=get_flashed_messages())


@bp.post("/sync/now")
@technician_required
def sync_now():
    """The technician's "Đồng bộ ngay": the worker syncs at once instead of at its next minute."""
    current_box().enqueue("sync_now")
    flash("Đã yêu cầu đồng bộ ngay. Tải lại trang sau vài giây để xem kết quả.")
    return redirect(url_for(".sync_page"), 303)


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
