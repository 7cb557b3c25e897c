"""Citizens at the hub: a person is known by a phone number they proved with a one-time code, and
by the consent they gave to the processing of their personal data (Decree 13/2023).

The proof lives in the hub's signed session cookie (``session["citizen"]``), apart from an
operator's sign-in. Pages for citizens are in blueprints listed in
``accounts_roles.CITIZEN_BLUEPRINTS``; a view that needs a proved phone is ``@citizen_required``.
"""
import functools
import time

from flask import current_app, redirect, request, session, url_for
from peewee import CharField, DateTimeField

from office.clock import utcnow
from office.db import BaseModel
from office.errors import MotcuaError

SESSION_KEY = "citizen"
SESSION_DAYS = 30


class Citizen(BaseModel):
    """A proved phone number (hub-only: never replicated to a box)."""

    phone = CharField(unique=True)  # normalised, e.g. 0912345678
    created_at = DateTimeField()
    consent_version = CharField(default="")  # which wording of the consent they agreed to
    consent_at = DateTimeField(null=True)
    last_seen_at = DateTimeField(null=True)


CITIZEN_MODELS = (Citizen,)


def sign_in_citizen(phone):
    """After the code was right: remember the phone in the session; return the Citizen."""
    now = utcnow()
    citizen, _ = Citizen.get_or_create(phone=phone, defaults={"created_at": now})
    citizen.last_seen_at = now
    citizen.save()
    session[SESSION_KEY] = {"phone": phone, "since": int(time.time())}
    return citizen


def sign_out_citizen():
    session.pop(SESSION_KEY, None)


def current_citizen():
    """The Citizen whose phone this browser proved (within ``SESSION_DAYS``), or None."""
    held = session.get(SESSION_KEY)
    if not isinstance(held, dict) or time.time() - held.get("since", 0) > SESSION_DAYS * 86400:
        return None
    return Citizen.get_or_none(Citizen.phone == held.get("phone"))


def citizen_required(view):
    """A citizen's page that needs a proved phone: otherwise to the sign-in page, coming back after."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_citizen() is None:
            if "citizen.sign_in" not in current_app.view_functions:  # a hub without the sign-in pages
                raise MotcuaError("Cần xác minh số điện thoại để dùng trang này.", status=401)
            return redirect(url_for("citizen.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped
