"""Flask's signed-cookie sessions, with each genuine cookie's signature checked once.

A kiosk, a counter console or an operator's page sends the same Cookie header with every request
until its session changes. Flask parses it and checks the session cookie again each time: a
serializer built anew, its key derived, the HMAC, then the JSON: a fifth of the web's time for a
kiosk's ticket on the box (issue 15), which a health check, without a cookie, never pays. Here what
a header's genuine session cookie held is kept (the headers of the sessions in use, at most
``REMEMBERED``, none longer than ``LONGEST``); a cookie that fails is never kept. Every request
still checks the cookie's age against the session's lifetime, as Flask does, and gets a session of
its own: a copy of the kept values when they are all immutable, else the payload decoded again.

The cookie is ``Secure`` whenever the page came over HTTPS (or the setting says so).
"""
import functools
import time

from flask import request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from werkzeug.http import parse_cookie

from .current import current_request

REMEMBERED = 512
LONGEST = 2048  # a request's Cookie header longer than this is read without keeping it
_IMMUTABLE = (str, int, float, bool, type(None))


@functools.lru_cache(maxsize=REMEMBERED)
def _session_cookie(serializer, name, header):
    """(when it was signed, its data when every value is immutable else None, its signed payload)
    of the session cookie ``name`` in a request's Cookie ``header``, signed by ``serializer``; None
    without one. Raises ``BadSignature`` for a cookie that is not genuine (not kept)."""
    cookie = parse_cookie(header).get(name)
    if not cookie:
        return None
    data, signed_at = serializer.loads(cookie, return_timestamp=True)  # no age: it is checked on every use
    shared = data if isinstance(data, dict) and all(type(v) in _IMMUTABLE for v in data.values()) else None
    return int(signed_at.timestamp()), shared, cookie.rsplit(".", 2)[0].encode()  # payload.timestamp.signature


class SessionCookies(SecureCookieSessionInterface):
    def __init__(self):
        self._serializers = {}  # by the keys: the same serializer, so that ``_session_cookie`` finds its headers

    def get_cookie_secure(self, app):
        return bool(app.config["SESSION_COOKIE_SECURE"] or (request and current_request().is_secure))

    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        serializer = self._serializers.get(keys)
        if serializer is None:
            if len(self._serializers) > 8:  # keys changed again and again (tests): start over
                self._serializers.clear()
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
        return serializer

    def open_session(self, app, request):
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        header = request.environ.get("HTTP_COOKIE", "")
        read = _session_cookie if len(header) <= LONGEST else _session_cookie.__wrapped__
        try:
            found = read(serializer, self.get_cookie_name(app), header)
        except BadSignature:
            return self.session_class()
        if found is None:
            return self.session_class()
        signed_at, data, payload = found
        age = int(time.time()) - signed_at  # as itsdangerous counts it: expired past the lifetime, or from the future
        if not 0 <= age <= int(app.permanent_session_lifetime.total_seconds()):
            return self.session_class()
        # a session of its own for each request: a copy of immutable values, else decoded again
        return self.session_class(data if data is not None else serializer.load_payload(payload))
