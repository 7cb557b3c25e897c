"""Dossier tracking, the box's and the hub's API and pages: the progress of a dossier for whoever
holds its code and the secret printed on its appointment slip (the slip's QR code carries both);
with the code alone, only that the dossier exists."""
from flask import Blueprint, current_app, jsonify, render_template, request

from office import dossiers
from office.errors import MotcuaError

from .ratelimit import RateLimiter, client_address
from .web import local_now

bp = Blueprint("tracking", __name__)
LOOKUPS_PER_MINUTE = 30
LOOKUPS = RateLimiter(LOOKUPS_PER_MINUTE, 60, bucket="tracking")
REFRESH_SECONDS = 120  # the open page reloads itself (no script): well under the lookup limit


def limited():
    wait = LOOKUPS.hit(client_address())
    if wait:
        raise MotcuaError(f"Bạn tra cứu quá nhiều lần. Vui lòng thử lại sau {int(wait) + 1} giây.", status=429)


def lookup(code, secret, now=None):
    limited()
    return dossiers.track(code, secret, now=now, office_title=current_app.config.get("OFFICE_TITLE"))


@bp.get("/api/v1/tracking/<path:code>")
def tracking_api(code):
    return jsonify(lookup(code, request.args.get("secret", ""), now=local_now()))


@bp.get("/tracking")
def tracking_page():
    code = (request.args.get("code") or "").strip()
    secret = dossiers.clean_secret(request.args.get("secret"))
    view, error = None, None
    if code:
        try:
            view = lookup(code, secret, now=local_now())
        except MotcuaError as exc:
            if exc.status == 429:
                raise
            error = exc.message
    return render_template("tracking.html", code=code, secret=secret, view=view, error=error,
                           refresh_seconds=REFRESH_SECONDS)
