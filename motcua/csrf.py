"""Flask-WTF's CSRF check, with each genuine signed token's verification done once.

Box and hub let a token live as long as its session (``WTF_CSRF_TIME_LIMIT = None``: a kiosk or
counter page stays open all day), so whether a signed token is genuine depends on the secret key
and the token's text alone. Flask-WTF verifies it again on every write: a serializer built anew,
its key derived, the HMAC and the JSON of the token, 4 % of a ticket's instructions on the box
(issue 15). Here the payload of a token that verified is kept (the tokens of the sessions in use, at
most ``REMEMBERED``); a token that fails is never kept. Every request still compares the payload
with its own session's token, as Flask-WTF does, and gets Flask-WTF's error when it differs.

A token with a time limit, or a request over HTTPS (where Flask-WTF also checks the referrer),
goes through Flask-WTF's own check unchanged.
"""
import functools
import hmac

from flask import g, session
from flask_wtf import csrf
from itsdangerous import BadData, URLSafeTimedSerializer

from .current import current_flask_app, current_request

REMEMBERED = 512


@functools.lru_cache(maxsize=REMEMBERED)
def _payload(secret_key, token):
    """The payload of a genuine token (raises ``BadData`` for another: not kept)."""
    return URLSafeTimedSerializer(secret_key, salt="wtf-csrf-token").loads(token)


class CSRFProtect(csrf.CSRFProtect):
    def _get_csrf_token(self):
        """The header first (the pages' scripts send it): Flask-WTF parsed a JSON write's body as a
        form to look for the token there before. A form's field is still found when no header is."""
        headers = current_request().headers
        for name in current_flask_app().config["WTF_CSRF_HEADERS"]:
            token = headers.get(name)
            if token:
                return token
        return super()._get_csrf_token()

    def protect(self, apply_exemptions=False):
        app, req = current_flask_app(), current_request()
        config = app.config
        if config["WTF_CSRF_TIME_LIMIT"] is not None or req.is_secure:
            return super().protect(apply_exemptions)
        if req.method not in config["WTF_CSRF_METHODS"]:  # before the exemptions: a read needs neither
            return None
        if apply_exemptions and (not req.endpoint or self._is_exempt()):
            return None
        token, field = self._get_csrf_token(), config["WTF_CSRF_FIELD_NAME"]
        if not token or field not in session:
            return super().protect(apply_exemptions)  # Flask-WTF says which is missing
        try:
            payload = _payload(config.get("WTF_CSRF_SECRET_KEY") or app.secret_key, token)
        except BadData:
            return super().protect(apply_exemptions)  # "invalid", in Flask-WTF's words and log
        if not isinstance(payload, str) or not hmac.compare_digest(session[field], payload):
            return super().protect(apply_exemptions)  # "do not match"
        g.csrf_valid = True
        return None
