"""Officers sign in at a counter; the counter's actions need that session.

The cookie carries the officer, the counter and a session token; every request checks the
token's session is still open and the officer still active, else the cookie is worth nothing.
"""
import functools

from flask import Blueprint, g, jsonify, session

from motcua.current import current_session
from motcua.ratelimit import client_address
from motcua.web import json_body
from office import sessions
from office.errors import MotcuaError, NotFound
from office.models import Counter, Officer
from office.officers import authenticate
from office.queue import sign_in, sign_out

bp = Blueprint("auth", __name__)
SESSION_KEYS = ("officer_id", "counter", "officer_session")


@bp.before_app_request
def check_officer_session():
    """Forget the officer of a cookie whose session ended or whose account was disabled."""
    officer_id = current_session().get("officer_id")
    g.officer = None
    if officer_id is None:
        return
    open_session = sessions.find(session.get("officer_session"), sessions.OFFICER)
    if open_session is not None and open_session.subject == officer_id:
        g.officer = Officer.get_or_none(Officer.id == officer_id, Officer.active == True)  # noqa: E712
    if g.officer is None:
        for key in SESSION_KEYS:
            session.pop(key, None)


def counter_by_number(number):
    counter = Counter.get_or_none(Counter.number == number)
    if counter is None:
        raise NotFound(f"Không có quầy số {number}.")
    return counter


def signed_in(view):
    """Any officer signed in on this box."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if session.get("officer_id") is None:
            raise MotcuaError("Bạn cần đăng nhập tại quầy.", status=401)
        return view(*args, **kwargs)

    return wrapped


def officer_required(view):
    """The signed-in officer must be the one seated at the counter in the URL."""

    @functools.wraps(view)
    def wrapped(number, **kwargs):
        counter = counter_by_number(number)
        officer_id = session.get("officer_id")
        if officer_id is None:
            raise MotcuaError("Bạn cần đăng nhập tại quầy.", status=401)
        if counter.officer_id != officer_id:
            raise MotcuaError(f"Bạn không đăng nhập tại {counter.label}.", status=403)
        g.counter = counter
        return view(number, **kwargs)

    return wrapped


@bp.post("/api/v1/session")
def login():
    data = json_body()
    try:
        number = int(data.get("counter"))
    except (TypeError, ValueError):
        raise MotcuaError("Hãy chọn quầy làm việc.") from None
    officer = authenticate(data.get("username"), data.get("password"), client_address())
    counter = sign_in(number, officer, take_over=data.get("take_over") is True)
    sessions.end(session.get("officer_session"))
    session.clear()
    session["officer_id"] = officer.id
    session["counter"] = counter.number
    session["officer_session"] = sessions.start(sessions.OFFICER, officer.id)
    return jsonify(ok=True, officer=officer.full_name, counter=counter.number)


@bp.delete("/api/v1/session")
def logout():
    number = session.get("counter")
    counter = Counter.get_or_none(Counter.number == number) if number else None
    if counter is not None and counter.officer_id == session.get("officer_id"):
        sign_out(counter.id)
    sessions.end(session.get("officer_session"))
    session.clear()
    return jsonify(ok=True)
