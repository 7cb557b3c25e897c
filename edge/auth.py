"""Officers sign in at a counter; the counter's actions need that session."""
import functools

from flask import Blueprint, g, jsonify, session
from werkzeug.security import check_password_hash

from motcua.web import json_body
from office.errors import MotcuaError, NotFound
from office.models import Counter, Officer
from office.queue import sign_in, sign_out

bp = Blueprint("auth", __name__)


def authenticate(username, password):
    username, password = (v if isinstance(v, str) else "" for v in (username, password))  # JSON may send anything
    officer = Officer.get_or_none(Officer.username == (username or "").strip(), Officer.active == True)  # noqa: E712
    if officer is None or not check_password_hash(officer.password_hash, password or ""):
        raise MotcuaError("Tên đăng nhập hoặc mật khẩu không đúng.", status=401)
    return officer


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
    officer = authenticate(data.get("username"), data.get("password"))
    counter = sign_in(number, officer)
    session.clear()
    session["officer_id"] = officer.id
    session["counter"] = counter.number
    return jsonify(ok=True, officer=officer.full_name, counter=counter.number)


@bp.delete("/api/v1/session")
def logout():
    number = session.get("counter")
    counter = Counter.get_or_none(Counter.number == number) if number else None
    if counter is not None and counter.officer_id == session.get("officer_id"):
        sign_out(counter.id)
    session.clear()
    return jsonify(ok=True)
