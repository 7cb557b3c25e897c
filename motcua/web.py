"""Web plumbing shared by the box and the hub: one error handler, browser policy, secret key, assets."""
import errno
import json
import logging
import math
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import peewee
from flask import current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from office.clock import utcnow
from office.errors import MotcuaError

from .current import current_request
from .logs import configure_logging  # noqa: F401  (the app factories take it from here)
from .session import SessionCookies

log = logging.getLogger("motcua.web")

HTTP_MESSAGES = {
    400: "Yêu cầu không hợp lệ.",
    401: "Bạn cần đăng nhập.",
    403: "Bạn không có quyền làm việc này.",
    404: "Không tìm thấy trang hoặc dữ liệu này.",
    405: "Thao tác này không được hỗ trợ ở đây.",
    413: "Dữ liệu gửi lên quá lớn.",
    429: "Bạn thao tác quá nhanh, vui lòng thử lại sau ít phút.",
    500: "Hệ thống gặp sự cố. Vui lòng thử lại hoặc báo cán bộ kỹ thuật.",
}
CROSS_SITE = "Yêu cầu đến từ trang khác, đã bị từ chối."
STALE_FORM = "Trang này đã cũ hoặc yêu cầu không đến từ trang của hệ thống. Vui lòng tải lại trang rồi thử lại."
BAD_JSON = "Nội dung gửi lên phải là một đối tượng JSON hợp lệ."
BAD_TEXT = "Dữ liệu gửi lên có ký tự không hợp lệ."
BAD_NUMBER = "Số gửi lên không hợp lệ hoặc quá lớn."
BAD_VALUE = "Dữ liệu gửi lên không hợp lệ (số quá lớn, chữ quá dài hoặc sai kiểu)."
# Bad input that reached deep code anyway (a view that parsed it by hand): a 400, never a 500.
# peewee's DataError is the database refusing a value (PostgreSQL: out of range, too long, wrong type).
BAD_INPUT_ERRORS = {RecursionError: BAD_JSON, OverflowError: BAD_NUMBER, UnicodeError: BAD_TEXT,
                    peewee.DataError: BAD_VALUE}
# The storage is full (SQLite: "database or disk is full", PostgreSQL: disk_full, or ENOSPC): nothing was written,
# the transaction rolled back; the person is told plainly and the technician console says why.
DISK_FULL = ("Bộ nhớ của hệ thống đã đầy nên tạm thời không ghi được dữ liệu (không cấp được số thứ tự). "
             "Vui lòng báo cán bộ một cửa hoặc cán bộ kỹ thuật.")
DISK_FULL_CONSOLE = ("Bộ nhớ lưu trữ của hộp đã đầy nên không ghi được dữ liệu (cả phiên đăng nhập). Giải phóng chỗ "
                     "trống: xoá bớt bản in thử (thư mục prints) và nhật ký cũ (thư mục logs) trong thư mục dữ liệu "
                     "của hộp; hộp tự hoạt động lại ngay khi có chỗ trống.")
MAX_JSON_DEPTH = 32
SQLITE_MAX_INT = 2**63 - 1
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def local_now():
    """Office-local wall clock to the second (dossier times are local); a test may set
    ``app.extensions["dossier_clock"]``."""
    clock = current_app.extensions.get("dossier_clock")
    if clock is not None:
        return clock()
    return current_app.extensions["to_local"](utcnow()).replace(microsecond=0)


def local_time(moment, fmt="%H:%M %d/%m/%Y"):
    """Jinja filter ``local_time``: a UTC moment as the office reads it, in its own time zone
    (``timezone``, Asia/Ho_Chi_Minh: UTC+7), e.g. "12:47 05/12/2026". Takes a naive UTC datetime
    (as stored) or ISO text ("2026-12-05T05:47:00Z", as the APIs answer); empty stays empty."""
    if moment in (None, ""):
        return ""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.strip().removesuffix("Z"))
        except ValueError:
            return moment
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return current_app.extensions["to_local"](moment).strftime(fmt)


def wants_json():
    return request.path.startswith(("/api/", "/sync/")) or request.is_json


KIOSK_COOKIE = "motcua_kiosk"  # set by the box's kiosk page for the browser's session


def from_kiosk():
    """Whether the request comes from the citizens' kiosk: its pages (``?kiosk=1``) or its browser.
    Its error pages lead back to ``/kiosk`` only, never to the staff's pages."""
    return request.args.get("kiosk") == "1" or request.cookies.get(KIOSK_COOKIE) == "1"


def render_error(error):
    if wants_json():
        return jsonify(error.to_dict()), error.status
    return render_template("error.html", error=error, kiosk=from_kiosk()), error.status


def install_error_handlers(app):
    @app.errorhandler(MotcuaError)
    def handle_motcua_error(error):
        if error.status >= 500:
            log.error("%s %s: %s", request.method, request.path, error.message)
        return render_error(error)

    @app.errorhandler(HTTPException)
    def handle_http_error(exc):
        if isinstance(exc, CSRFError):  # Flask-WTF: missing, wrong or stale token
            return render_error(MotcuaError(STALE_FORM, status=403))
        message = HTTP_MESSAGES.get(exc.code, exc.name)
        return render_error(MotcuaError(message, status=exc.code))

    @app.errorhandler(Exception)
    def handle_unexpected(exc):
        if is_disk_full(exc):
            log.error("storage full on %s %s", request.method, request.path)
            message = DISK_FULL_CONSOLE if request.path.startswith("/console") else DISK_FULL
            return render_error(MotcuaError(message, status=507, detail={"reason": "disk_full"}))
        for kind, message in BAD_INPUT_ERRORS.items():
            if isinstance(exc, kind):
                log.warning("bad input on %s %s: %s", request.method, request.path, type(exc).__name__)
                return render_error(MotcuaError(message, status=400))
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(MotcuaError(HTTP_MESSAGES[500], status=500))

    install_browser_policy(app)


def is_disk_full(exc):
    """Whether ``exc`` (or what it wraps) says the storage is full."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        if "database or disk is full" in str(exc) or getattr(exc, "pgcode", None) == "53100":  # PostgreSQL: disk_full
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


class BoundedInt(IntegerConverter):
    """``<int:...>`` in a path: only numbers SQLite can hold (a larger one is a 404, not an OverflowError)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", SQLITE_MAX_INT)
        super().__init__(url_map, *args, **kwargs)


def content_security_policy():
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")


def security_headers(response):
    """Every answer: a CSP, no framing by other sites, no sniffing, no referrer to other sites, and
    no caching of anything but the static assets (pages show names, ID numbers, phones)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    endpoint = current_request().endpoint or ""
    if "Cache-Control" not in headers and endpoint != "static" and not endpoint.endswith(".static"):
        headers["Cache-Control"] = "no-store"
    return response


def install_browser_policy(app):
    """What both apps promise a browser: bounded path integers, ``SameSite``/``Secure`` cookies and
    the security headers (called by ``install_error_handlers``, before any blueprint is registered)."""
    app.url_map.converters["int"] = BoundedInt
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.session_interface = SessionCookies()
    app.before_request(refuse_bad_text)
    app.after_request(security_headers)


def refuse_bad_text():
    """No NUL character in a path, a query string or a form (PostgreSQL refuses them in text, and
    no person types one): a 400 before any view runs."""
    req = current_request()
    texts = [req.path, *req.args.keys(), *req.args.values()]
    if req.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        texts += [*req.form.keys(), *req.form.values()]
    if any("\x00" in text for text in texts):
        raise MotcuaError(BAD_TEXT, status=400)


def refuse_cross_site():
    """Writes come from this site's own pages only: browsers resend Basic credentials and
    cookies to any site's form, and name the form's page in ``Origin`` (or ``Referer``).

    A write must not name another site; ``Origin: null`` (sandboxed frames, ``data:`` pages) is
    refused. A write that names no page at all is refused when it carries credentials (a cookie
    or an ``Authorization`` header) and is something another site's page can send: anything but
    JSON, which no page elsewhere can send without the CORS preflight these apps never grant
    (so API clients with Basic credentials keep working). A bearer token is no ambient credential
    (a browser never adds one by itself), and signed machine requests carry none."""
    req = current_request()
    if req.method in SAFE_METHODS:
        return
    headers = req.headers
    origin = headers.get("Origin")
    if origin is None:
        origin = headers.get("Referer")
    if origin is None:
        bearer = headers.get("Authorization", "").startswith("Bearer ")  # no page elsewhere can add one
        if (headers.get("Cookie") or headers.get("Authorization")) and not (req.is_json or bearer):
            raise MotcuaError(CROSS_SITE, status=403)
        return
    if origin == "null" or urlsplit(origin).netloc != req.host:
        raise MotcuaError(CROSS_SITE, status=403)


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


class BadText(ValueError):
    """JSON text holding NUL or a lone surrogate."""


def _depth_ok(value, depth=0):
    """Nested no deeper than ``MAX_JSON_DEPTH``, no lone surrogate in any text, numbers SQLite holds."""
    if depth > MAX_JSON_DEPTH:
        return False
    if isinstance(value, str):
        if not _text_ok(value):
            raise BadText(value[:0])
        return True
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -SQLITE_MAX_INT - 1 <= value <= SQLITE_MAX_INT
    if isinstance(value, float):
        return math.isfinite(value)  # 1e400 parses as infinity
    if isinstance(value, dict):
        return all(_depth_ok(k, depth) and _depth_ok(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_depth_ok(v, depth + 1) for v in value)
    return True


def _text_ok(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def parse_json(raw):
    """Strict JSON from bytes: no NaN/Infinity, no integer beyond 64 bits, at most ``MAX_JSON_DEPTH``
    deep, valid UTF-8 text only;
    anything else is a ``ValueError``."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")  # UnicodeDecodeError is a ValueError
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("nested too deep") from None
    if not _depth_ok(data):
        raise ValueError("nested too deep or bad text")
    return data


def json_body():
    """The request's JSON object, or a clear 400 (bad JSON, NaN/Infinity, too deep, lone surrogates)."""
    req = current_request()
    if not req.is_json:
        raise MotcuaError(BAD_JSON, status=400)
    try:
        data = parse_json(req.get_data(cache=True))
    except BadText:
        raise MotcuaError(BAD_TEXT, status=400) from None
    except ValueError:
        raise MotcuaError(BAD_JSON, status=400) from None
    if not isinstance(data, dict):
        raise MotcuaError(BAD_JSON, status=400)
    return data


def json_text(data, name, default=""):
    """``data[name]`` of a JSON body as text: absent or null gives ``default``, a number its digits;
    a list, an object or true/false is a 400 naming the field."""
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise MotcuaError(f"Trường “{name}” phải là chữ.", status=400)


def json_fields(data, names):
    """The ``names`` present in a JSON body, each a plain value (text, number, true/false, null);
    a list or an object is a 400 naming the field."""
    fields = {k: data[k] for k in names if k in data}
    for name, value in fields.items():
        if isinstance(value, (list, dict)):
            raise MotcuaError(f"Trường “{name}” phải là chữ hoặc số.", status=400)
    return fields


def int_arg(name, default, low=None, high=SQLITE_MAX_INT):
    """``?name=`` as an int within [low, high]; absent or unreadable gives ``default``, out of range is clamped."""
    raw = request.args.get(name)
    try:
        value = int(raw) if raw not in (None, "") else default
    except (TypeError, ValueError):
        return default
    if low is not None:
        value = max(value, low)
    return min(value, high) if high is not None else value


def secret_key(settings):
    return setting_or_secret_file(settings, "secret_key", lambda: secrets.token_hex(32))


def setting_or_secret_file(settings, name, make):
    """The setting ``name`` if set, else the value kept in ``<data_dir>/<name>`` (made once).

    The file is private from its first byte: the value is written to a new temporary file
    created 0600 (``O_EXCL``), then linked to its name, which fails if another process made
    it first (that value is used then). Readers never see a partly written file."""
    if settings[name]:
        return settings[name]
    path = Path(settings["data_dir"]) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(make())
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process made it first: its value holds
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def install_assets(app):
    """Shared CSS and scripts, served by the app itself at /assets (no CDN)."""
    from flask import Blueprint

    from .numbers import vn_number

    app.register_blueprint(Blueprint("assets", __name__, static_folder="static", static_url_path="/assets"))
    app.add_template_filter(vn_number, "num")  # numbers one way everywhere: 1.234 and 3,1
