"""The hub's operators sign in with HTTP Basic auth (user ``admin``)."""
import functools
import hmac
import secrets
from pathlib import Path

from flask import Response, current_app, request

from motcua.web import wants_json
from office.errors import MotcuaError


def operator_password(settings):
    if settings["operator_password"]:
        return settings["operator_password"]
    path = Path(settings["data_dir"]) / "operator_password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


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
