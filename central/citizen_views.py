"""The citizen's own pages at the hub (``/cong-dan/``): prove a phone by a one-time code, consent to
the processing of personal data (Decree 13/2023), the home page, sign out. Booking pages are in
``central.booking_views``. Plain HTML forms: everything works without JavaScript."""
import functools
import logging
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from motcua.logs import mask_phone
from motcua.ratelimit import client_address
from motcua.web import secret_key
from office.bookings import check_phone
from office.clock import utcnow
from office.errors import MotcuaError

from .bookings import bookings_of_phone
from .citizens import current_citizen, sign_in_citizen, sign_out_citizen
from .phone_codes import check_code, send_code
from .tasks import trigger_notify

log = logging.getLogger("motcua.hub.citizens")
bp = Blueprint("citizen", __name__, url_prefix="/cong-dan")
PENDING = "citizen_pending"  # the phone a code was sent to, until it is proved
CONSENT_VERSION = "2025-1"


def _settings():
    return current_app.extensions["hub"].settings


def _next_url(default=None):
    target = request.values.get("next") or ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):  # only a page of this hub
        return default or url_for("citizen.home")
    return target


def consent_required(view):
    """A page that needs a proved phone and the current consent."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        citizen = current_citizen()
        if citizen is None:
            return redirect(url_for("citizen.sign_in", next=request.full_path.rstrip("?")))
        if citizen.consent_version != CONSENT_VERSION or citizen.consent_at is None:
            return redirect(url_for("citizen.consent", next=request.full_path.rstrip("?")))
        return view(citizen, *args, **kwargs)

    return wrapped


@bp.route("/dang-nhap", methods=["GET", "POST"])
def sign_in():
    phone, error = request.form.get("phone", ""), None
    if request.method == "POST":
        try:
            number = check_phone(phone)
            send_code(number, client_address(), _secret(), _settings()["citizen_code_minutes"],
                      channel=_settings()["citizen_code_channel"])
            trigger_notify(current_app.extensions["hub"].tasks)
            session[PENDING] = number
            return redirect(url_for("citizen.enter_code", next=_next_url()), code=303)
        except MotcuaError as exc:
            error = exc.message
            status = exc.status
        return render_template("citizen_sign_in.html", phone=phone, error=error, next=_next_url()), status
    return render_template("citizen_sign_in.html", phone=phone, error=None, next=_next_url())


@bp.route("/dang-nhap/ma", methods=["GET", "POST"])
def enter_code():
    phone = session.get(PENDING)
    if not phone:
        return redirect(url_for("citizen.sign_in", next=_next_url()))
    error, status = None, 200
    if request.method == "POST":
        try:
            check_code(phone, request.form.get("code", ""), _secret())
        except MotcuaError as exc:
            error, status = exc.message, exc.status
        else:
            session.pop(PENDING, None)
            citizen = sign_in_citizen(phone)
            log.info("citizen %s signed in", mask_phone(phone))
            if citizen.consent_version != CONSENT_VERSION:
                return redirect(url_for("citizen.consent", next=_next_url()), code=303)
            return redirect(_next_url(), code=303)
    return render_template("citizen_code.html", masked=mask_phone(phone), error=error, next=_next_url(),
                           minutes=_settings()["citizen_code_minutes"]), status


@bp.route("/dong-y", methods=["GET", "POST"])
def consent():
    citizen = current_citizen()
    if citizen is None:
        return redirect(url_for("citizen.sign_in", next=request.full_path.rstrip("?")))
    error = None
    if request.method == "POST":
        if request.form.get("agree") == CONSENT_VERSION:
            citizen.consent_version, citizen.consent_at = CONSENT_VERSION, utcnow()
            citizen.save()
            return redirect(_next_url(), code=303)
        error = "Xin đánh dấu ô “Tôi đồng ý” để tiếp tục, hoặc đăng xuất nếu không đồng ý."
    return render_template("citizen_consent.html", citizen=citizen, version=CONSENT_VERSION, error=error,
                           next=_next_url(), agreed=citizen.consent_version == CONSENT_VERSION), 400 if error else 200


@bp.post("/rut-dong-y")
def withdraw_consent():
    """Withdrawing consent: nothing new is submitted with this phone until it is given again."""
    citizen = current_citizen()
    if citizen is not None:
        citizen.consent_version, citizen.consent_at = "", None
        citizen.save()
        log.info("citizen %s withdrew consent", mask_phone(citizen.phone))
    sign_out_citizen()
    return redirect(url_for("citizen.sign_in", withdrawn=1), code=303)


@bp.post("/dang-xuat")
def sign_out():
    sign_out_citizen()
    return redirect(url_for("citizen.sign_in", out=1), code=303)


@bp.get("/")
@consent_required
def home(citizen):
    return render_template("citizen_home.html", citizen=citizen, bookings=bookings_of_phone(citizen.phone),
                           masked=mask_phone(citizen.phone))


def _secret():
    return current_app.config["SECRET_KEY"] or secret_key(_settings())
