"""Web plumbing shared by the box and the hub: one error handler, secret key, assets."""
import logging
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from office.clock import utcnow
from office.errors import MotcuaError

from .logs import configure_logging  # noqa: F401  (the app factories take it from here)

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


def local_now():
    """Office-local wall clock to the second (dossier times are local); a test may set
    ``app.extensions["dossier_clock"]``."""
    clock = current_app.extensions.get("dossier_clock")
    if clock is not None:
        return clock()
    return current_app.extensions["to_local"](utcnow()).replace(microsecond=0)


def wants_json():
    return request.path.startswith(("/api/", "/sync/")) or request.is_json


def render_error(error):
    if wants_json():
        return jsonify(error.to_dict()), error.status
    return render_template("error.html", error=error), error.status


def install_error_handlers(app):
    @app.errorhandler(MotcuaError)
    def handle_motcua_error(error):
        if error.status >= 500:
            log.error("%s %s: %s", request.method, request.path, error.message)
        return render_error(error)

    @app.errorhandler(HTTPException)
    def handle_http_error(exc):
        message = HTTP_MESSAGES.get(exc.code, exc.name)
        return render_error(MotcuaError(message, status=exc.code))

    @app.errorhandler(Exception)
    def handle_unexpected(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(MotcuaError(HTTP_MESSAGES[500], status=500))


def refuse_cross_site():
    """Writes come from this site's own pages only: browsers resend Basic credentials and
    cookies to any site's form, and name the form's page in ``Origin`` (or ``Referer``)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        raise MotcuaError("Yêu cầu đến từ trang khác, đã bị từ chối.", status=403)


def json_body():
    """The request's JSON object, or a clear 400."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise MotcuaError("Nội dung gửi lên phải là một đối tượng JSON hợp lệ.", status=400)
    return data


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

    app.register_blueprint(Blueprint("assets", __name__, static_folder="static", static_url_path="/assets"))
