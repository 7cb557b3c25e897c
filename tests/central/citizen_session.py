"""A citizen's proved phone for tests that are about what comes after the one-time code: a session
cookie the hub accepts, made with its secret key (the code's own tests go through the real pages)."""
import time

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from central.citizens import SESSION_KEY, Citizen
from office.clock import utcnow


def citizen_cookie(secret_key, phone):
    """The value of the hub's ``session`` cookie for a browser that proved ``phone`` just now."""
    app = Flask("citizen-cookie")
    app.secret_key = secret_key
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return serializer.dumps({SESSION_KEY: {"phone": phone, "since": int(time.time())}})


def proved_citizen(client, phone, consent_version="2025-1"):
    """A Flask test ``client`` whose session proved ``phone`` (the Citizen row made, with consent)."""
    Citizen.get_or_create(phone=phone, defaults={"created_at": utcnow(), "consent_version": consent_version,
                                                 "consent_at": utcnow()})
    with client.session_transaction() as session:
        session[SESSION_KEY] = {"phone": phone, "since": int(time.time())}
    return client
