"""The hub's operators sign in with HTTP Basic auth (user ``admin``)."""
import functools
import hmac
import secrets

from flask import Response, current_app, request

from motcua.web import setting_or_secret_file, wants_json
from office.errors import MotcuaError


def operator_password(settings):
    return setting_or_secret_file(settings, "operator_password", lambda: secrets.token_urlsafe(12))


def operator_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        auth = request.authorization
        expected = current_app.extensions["hub"].password
        if auth is None or auth.username != "admin" or not hmac.compare_digest(auth.password or "", expected):
            if wants_json():
                raise MotcuaError("Cần đăng nhập quản trị (admin).", status=401)
            return Response("Cần đăng nhập quản trị.", 401, {"WWW-Authenticate": 'Basic realm="motcua"'})
        return view(*args, **kwargs)

    return wrapped
