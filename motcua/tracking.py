"""Dossier tracking by code, for anyone holding the code: the box's and the hub's API and pages."""
from flask import Blueprint, current_app, jsonify, render_template, request

from office import dossiers
from office.errors import MotcuaError

from .ratelimit import RateLimiter
from .web import local_now

bp = Blueprint("tracking", __name__)
LOOKUPS_PER_MINUTE = 30


def _limited():
    limiter = current_app.extensions.setdefault("tracking_limiter", RateLimiter(LOOKUPS_PER_MINUTE, 60))
    wait = limiter.hit(request.remote_addr or "?")
    if wait:
        raise MotcuaError(f"Bạn tra cứu quá nhiều lần. Vui lòng thử lại sau {int(wait) + 1} giây.", status=429)


def lookup(code, now=None):
    _limited()
    return dossiers.tracking_view(dossiers.get(code), now=now)


@bp.get("/api/v1/tracking/<path:code>")
def tracking_api(code):
    return jsonify(lookup(code, now=local_now()))


@bp.get("/tracking")
def tracking_page():
    code = (request.args.get("code") or "").strip()
    view, error = None, None
    if code:
        try:
            view = lookup(code, now=local_now())
        except MotcuaError as exc:
            if exc.status == 429:
                raise
            error = exc.message
    return render_template("tracking.html", code=code, view=view, error=error)


