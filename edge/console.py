"""The technician console at /console: health of the box, test print, keypad test,
support bundle, service restarts. Plain server-rendered pages, readable on a phone.

Signing in takes the technician password (its hash is ``technician_password_hash``, set
when the box is provisioned; empty: the console stays locked). Failed sign-ins are
limited per client address; a session ends after ``console_session_minutes`` idle, and at
sign-out for good (it is kept on the server: a copy of the cookie opens nothing after).
"""
import functools
import hashlib
import io
import json
import logging
import platform
import re
import shlex
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from flask import (Blueprint, current_app, flash, get_flashed_messages, jsonify, redirect, render_template, request,
                   send_file, session, url_for)
from werkzeug.security import check_password_hash

from devices import health
from devices.service import DeviceClient, DeviceServiceDown, test_payload
from motcua.ratelimit import client_address
from motcua.settings import parse_pairs
from office import rating_screens, sessions
from office.clock import utcnow
from office.limits import Window
from office.models import PrintJob

from .box import current_box
from .printing import failed_jobs, print_once, reprint

log = logging.getLogger("motcua.console")

bp = Blueprint("console", __name__, url_prefix="/console")

MAX_FAILURES = 5  # failed sign-ins per client address ...
FAILURE_WINDOW = 600  # ... within this many seconds, then 429 until the oldest expires
RESTART_TIMEOUT = 30  # seconds a restart command may take
HUB_TIMEOUT = 3.0
LOG_BUNDLE_BYTES = 512 * 1024  # of each log file in the support bundle
SECRET_SETTINGS = {"secret_key", "technician_password_hash", "operator_password"}
SECRET_NAME = re.compile(r"password|secret|token|(^|_)key$", re.I)
SESSION_KEYS = ("tech_at", "tech_key", "tech_session")
README = ("Gói hỗ trợ của hộp một cửa: kết quả kiểm tra (health.json), trạng thái đồng bộ (sync.json),\n"
          "thiết bị (device.json), lệnh in lỗi, cấu hình (settings.json, đã bỏ mọi khoá và mật khẩu),\n"
          "nhật ký gần đây (logs/).\n")


# --- sign-in limits and session -----------------------------------------------------------

class ConsoleState:
    """The clock (tests replace it) and the sign-in failures, counted in the database: every
    web process of the box sees the same failures."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self.limiter = Window("technician-signin", MAX_FAILURES, FAILURE_WINDOW)


@bp.record_once
def _init_state(setup):
    setup.app.extensions.setdefault("console", ConsoleState())


def _state():
    return current_app.extensions["console"]


def _settings():
    return current_box().settings


def _fingerprint(password_hash):
    """Changes when the password changes: sessions of the old password end."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _page(template, status=200, **context):
    box = current_box()
    return render_template(template, office=box.office, settings=box.settings, **context), status


def _locked():
    return _page("console_login.html", status=403, locked=True)


def _end_session():
    sessions.end(session.get("tech_session"))
    for key in SESSION_KEYS:
        session.pop(key, None)


def technician_signed_in():
    """Whether this browser holds a live technician session (as ``technician_required`` checks)."""
    password_hash = _settings()["technician_password_hash"]
    seen = session.get("tech_at")
    return bool(password_hash and seen is not None and session.get("tech_key") == _fingerprint(password_hash)
                and sessions.find(session.get("tech_session"), sessions.TECHNICIAN) is not None
                and _state().clock() - seen <= _settings()["console_session_minutes"] * 60)


def technician_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        password_hash = _settings()["technician_password_hash"]
        if not password_hash:
            return _locked()
        now = _state().clock()
        seen = session.get("tech_at")
        if (seen is None or session.get("tech_key") != _fingerprint(password_hash)
                or sessions.find(session.get("tech_session"), sessions.TECHNICIAN) is None):
            _end_session()
            return redirect(url_for("console.login"))
        if now - seen > _settings()["console_session_minutes"] * 60:
            _end_session()
            return redirect(url_for("console.login", expired=1))
        session["tech_at"] = now
        return view(*args, **kwargs)

    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login():
    password_hash = _settings()["technician_password_hash"]
    if not password_hash:
        return _locked()
    if request.method == "GET":
        if (session.get("tech_key") == _fingerprint(password_hash) and session.get("tech_at") is not None
                and sessions.find(session.get("tech_session"), sessions.TECHNICIAN) is not None):
            return redirect(url_for("console.dashboard"))
        notice = ("Phiên làm việc đã hết hạn sau " f"{_settings()['console_session_minutes']} phút không thao tác. "
                  "Vui lòng đăng nhập lại.") if request.args.get("expired") else ""
        if request.args.get("out"):
            notice = "Đã đăng xuất."
        return _page("console_login.html", notice=notice)
    state, address = _state(), client_address()
    now = state.clock()
    wait = state.limiter.retry_after(address, now)
    if wait:
        return _too_many(wait)
    if not check_password_hash(password_hash, request.form.get("password", "")):
        state.limiter.record(address, now)
        log.warning("console: wrong technician password from %s", address)
        wait = state.limiter.retry_after(address, now)
        if wait:
            return _too_many(wait)
        return _page("console_login.html", status=401, error="Mật khẩu kỹ thuật không đúng.")
    state.limiter.clear(address)
    _end_session()
    session["tech_key"] = _fingerprint(password_hash)
    session["tech_at"] = now
    session["tech_session"] = sessions.start(sessions.TECHNICIAN)
    log.info("console: technician signed in from %s", address)
    return redirect(url_for("console.dashboard"))


def _too_many(seconds):
    minutes = max(1, -(-seconds // 60))
    message = (f"Nhập sai mật khẩu quá {MAX_FAILURES} lần. Vì an toàn, vui lòng thử lại sau khoảng {minutes} phút.")
    body, status = _page("console_login.html", status=429, error=message)
    return body, status, {"Retry-After": str(int(seconds))}


@bp.post("/logout")
def logout():
    _end_session()
    return redirect(url_for("console.login", out=1))


# --- health ---------------------------------------------------------------------------------

def _hub_url(sync_state, settings):
    """The hub the sync uses (``sync.box.hub_url``, via the status); the setting alone on a
    box that was never initialised."""
    return sync_state["hub_url"] if sync_state else settings["hub_url"]


def _sync_state(settings):
    from sync import box as sync_box

    try:
        return sync_box.status(settings), ""
    except Exception as exc:  # a box that was never initialised has no node
        return None, str(exc)


def _device_status(settings):
    if not settings["device_url"]:
        return None, ""
    try:
        return DeviceClient.for_settings(settings, timeout=HUB_TIMEOUT + 2).status(), ""
    except DeviceServiceDown as exc:
        return None, health.short_error(exc)


def _open_printer(settings):
    from devices.printer import open_printer

    return open_printer(settings["printer"], settings["data_dir"], settings["printer_timeout"])


def _database_path(settings):
    url = settings["database"]
    return url[len("sqlite:///"):] if url.startswith("sqlite:///") else url


def _print_job_counts(now):
    pending = PrintJob.select().where(PrintJob.state == PrintJob.PENDING)
    oldest = pending.order_by(PrintJob.created_at).first()
    failed = PrintJob.select().where(PrintJob.state == PrintJob.FAILED).count()
    return failed, pending.count(), (now - oldest.created_at).total_seconds() if oldest else 0


def _system_checks(settings, now, sync_state):
    """The machine: disk, memory, temperature, uptime, clock, database, network."""
    results = [
        health.disk(health.read_disk(settings["data_dir"]), settings["data_dir"], settings["disk_warn_mb"],
                    settings["disk_problem_mb"]),
        health.memory(health.read_text("/proc/meminfo")),
        health.temperature(health.read_temperatures()),
        health.uptime(health.read_text("/proc/uptime")),
        health.clock(now, (sync_state or {}).get("hub_offset_ms"), tz=settings["timezone"]),
    ]
    results.append(_data_size(settings))
    results.append(_blob_check(settings))
    recovery = _recovery_check(settings, now)
    if recovery is not None:
        results.append(recovery)
    try:
        results.append(health.database(health.read_quick_check(_database_path(settings))))
    except Exception as exc:  # a file SQLite cannot even open is the worst answer
        results.append(health.database(error=str(exc)))
    try:
        results.append(health.network(health.read_network()))
    except Exception:
        log.warning("could not read the network interfaces", exc_info=True)
        results.append(health.network({"interfaces": {}, "gateway": None}))
    return results


def _recovery_check(settings, now):
    """The newest rebuild of a damaged database (``provisioning.recover``), for ``SHOWN_DAYS``."""
    from provisioning.recover import SHOWN_DAYS, latest_report

    stamp, report = latest_report(settings["data_dir"])
    if report is None:
        return None
    when = datetime.strptime(stamp[:16], "%Y%m%dT%H%M%SZ")
    if (now - when).days >= SHOWN_DAYS and report["status"] == "restored":
        return None
    value = (f"Lúc {_local(when, settings).strftime('%H:%M %d/%m/%Y')} cơ sở dữ liệu bị hỏng ({report['problem']}); "
             f"tệp hỏng được giữ tại {report['damaged_file']}. ")
    lost = len(report.get("lost") or []) + (report.get("unreadable") or 0)
    if report["status"] != "restored":
        return health.result("recovery", "Thẻ nhớ hỏng, đang dựng lại", health.PROBLEM,
                             value + f"Chưa tải được dữ liệu của xã từ trung tâm ({report.get('error') or 'chưa rõ'}).",
                             "Nối mạng cho hộp: hộp tự tải dữ liệu khi vào được trung tâm. Nếu trung tâm từ chối "
                             "khoá của hộp (thẻ mất cả khoá), cài lại hộp bằng gói cài đặt mới của trung tâm. Thay "
                             "thẻ nhớ sớm (thẻ đã hỏng một lần dễ hỏng lại).")
    if lost:
        return health.result("recovery", "Thẻ nhớ hỏng, đã dựng lại", health.WARNING,
                             value + f"Đã tải lại dữ liệu từ trung tâm; {lost} mục trung tâm chưa nhận bị mất "
                             "(danh sách bên dưới).",
                             "Báo cán bộ một cửa các mục bị mất (vé, đánh giá...) để nhập lại nếu cần. Thay thẻ "
                             "nhớ sớm; gửi tệp hỏng cho kỹ thuật trung tâm nếu cần.")
    return health.result("recovery", "Thẻ nhớ hỏng, đã dựng lại", health.WARNING,
                         value + "Đã tải lại toàn bộ dữ liệu từ trung tâm, không mất mục nào.",
                         "Thay thẻ nhớ sớm (thẻ đã hỏng một lần dễ hỏng lại).")


def _data_size(settings):
    """What the box's data takes, by part, and how much of the change log it still holds."""
    from sync.retention import kept_entries

    try:
        entries = kept_entries()
    except Exception:  # a box that was never initialised has no node
        entries = None
    sizes = health.read_data_sizes(settings["data_dir"], _database_path(settings))
    return health.data_size(sizes, entries, settings["log_keep_days"])


def _blob_check(settings):
    """The box's files against ``blob_box_limit_mb``, and how many still wait to come down."""
    from blobs import open_store
    from blobs.travel import missing_here

    from .tasks import box_blob_limit

    store = open_store(settings)
    try:
        waiting = len(missing_here(store))
    except Exception:  # a box that was never initialised has no tables yet
        waiting = 0
    return health.blobs(store.total_size(), box_blob_limit(settings), waiting)


def _probe_hub(settings, hub_url):
    """The hub's health, asked the way the box syncs: trusting only its pinned certificate."""
    from sync.client import session_for

    with session_for(settings["data_dir"]) as session:
        return health.probe_hub(hub_url, HUB_TIMEOUT, session=session)


def _sync_check(sync_state, sync_error, now, hub_url):
    if sync_state is None:
        return health.result("sync", "Đồng bộ với trung tâm", health.PROBLEM, f"Hộp chưa có danh tính ({sync_error})",
                             "Khởi tạo hoặc cấp phát hộp (motcua edge init / gói cấp phát).")
    return health.sync(sync_state, now, hub_url)


def gather(settings):
    """Every health check of this box (problems first is the page's job), with what the
    console and the support bundle show besides: sync state, device service, printer, logs."""
    now = utcnow()
    sync_state, sync_error = _sync_state(settings)
    hub_url = _hub_url(sync_state, settings)
    direct_printer = not settings["device_url"]
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="health") as pool:  # the slow ones meanwhile
        hub_probe = pool.submit(_probe_hub, settings, hub_url) if hub_url else None
        device = pool.submit(_device_status, settings)
        printer_probe = pool.submit(health.probe_printer, lambda: _open_printer(settings),
                                    min(float(settings["printer_timeout"]), 3.0)) if direct_printer else None
        results = _system_checks(settings, now, sync_state)
        results.append(health.print_jobs(*_print_job_counts(now)))
        logs = health.recent_logs(Path(settings["data_dir"]) / "logs")
        for entry in logs:
            entry["modified_local"] = _local(entry["modified"], settings)
        results.append(health.logs(logs))
        results.append(_sync_check(sync_state, sync_error, now, hub_url))
        results.append(health.hub(hub_url, hub_probe.result() if hub_probe else None))
        device_status, device_error = device.result()
        if direct_printer:
            printer_state = printer_probe.result()
        else:
            printer_state = device_status["printer"] if device_status else None
    results.insert(0, health.printer(settings["printer"], printer_state))
    results.append(health.device_service(settings["device_url"], device_status, device_error))
    return {"checked_at": now, "results": results, "sync": sync_state, "device": device_status,
            "printer": printer_state, "logs": logs}


def _restart_commands(settings):
    return parse_pairs(settings["restart_commands"] or "")


@bp.get("/")
@technician_required
def dashboard():
    settings = _settings()
    report = gather(settings)
    results = health.by_severity(report["results"])
    counts = {status: sum(1 for r in results if r["status"] == status) for status in health.SEVERITY}
    return _page(
        "console.html",
        report=report,
        results=results,
        counts=counts,
        overall=health.worst(results),
        labels=health.STATUS_LABELS,
        checked_local=_local(report["checked_at"], settings),
        restarts=list(_restart_commands(settings)),
        failed=failed_jobs()[-20:],
        keypad=(report["device"] or {}).get("keypad"),
        actions=get_flashed_messages(category_filter=["action"]),
        session_minutes=settings["console_session_minutes"],
        screens=[(screen, _local(screen.paired_at, settings)) for screen in rating_screens.paired_screens()],
        recovery=_recovery_report(settings, results),
    )


@bp.post("/print-jobs/<int:job_id>/reprint")
@technician_required
def reprint_job(job_id):
    """In lại: a failed ticket or slip goes back to the printer, with the technician's own sign-in."""
    job = reprint(job_id)
    current_box().enqueue("print_job", job.id)
    number = job.ticket.number if job.ticket_id else f"lệnh in số {job.id}"
    _flash(True, f"Đã gửi lại {number} tới máy in")
    log.info("console: reprint of print job %s", job.id)
    return redirect(url_for("console.dashboard"))


def _recovery_report(settings, results):
    """The newest recovery report while its check is shown (what it lists: entries lost)."""
    from provisioning.recover import latest_report

    if not any(r["key"] == "recovery" for r in results):
        return None
    return latest_report(settings["data_dir"])[1]


@bp.post("/rating-screens/<int:number>/unpair")
@technician_required
def unpair_rating_screen(number):
    if rating_screens.unpair(number):
        log.info("console: rating screen of counter %s unpaired", number)
        _flash(True, f"Đã bỏ ghép màn hình đánh giá của quầy {number}")
    return redirect(url_for("console.dashboard") + "#rating-screens")


def _local(moment, settings):
    """A UTC moment (naive or aware) in the office's time zone."""
    from zoneinfo import ZoneInfo

    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo(settings["timezone"]))


@bp.get("/health.json")
@technician_required
def health_json():
    report = gather(_settings())
    return jsonify(checked_at=report["checked_at"].isoformat() + "Z", status=health.worst(report["results"]),
                   results=report["results"])


# --- actions ---------------------------------------------------------------------------------

def _flash(ok, title, detail="", remedy="", output=""):
    """The outcome of an action, shown once on the next page (kept small: it rides in the cookie)."""
    flash({"ok": bool(ok), "title": title, "detail": detail[:300], "remedy": remedy[:300], "output": output[-600:]},
          "action")


@bp.post("/print-test")
@technician_required
def print_test():
    settings, box = _settings(), current_box()
    office = box.office.name if box.office else ""
    url = f"{box.public_url()}/console"
    remedy = health.PRINTER_DISCONNECTED
    if settings["device_url"]:
        try:
            client = DeviceClient.for_settings(settings)
            answer = client.print_test(office, url, timeout=settings["printer_timeout"] + 5)
            error = "" if answer.get("ok") else answer.get("error") or "không rõ lỗi"
        except DeviceServiceDown as exc:
            error = f"dịch vụ thiết bị không trả lời ({health.short_error(exc)})"
            remedy = "Khởi động lại dịch vụ thiết bị (nút bên dưới) hoặc khởi động lại hộp, rồi bấm In thử."
    else:
        error = print_once(lambda: _open_printer(settings), test_payload(settings, office, url), settings,
                           stem=f"test-{int(time.time())}") or ""
    if error:
        reason = health.short_error(error.removeprefix("Lỗi máy in: "))
        _flash(False, "In thử thất bại", f"Máy in {settings['printer']}: {reason}.", remedy)
    else:
        _flash(True, "Đã gửi phiếu in thử", "Kiểm tra tờ phiếu “IN THỬ” ở máy in: chữ tiếng Việt rõ, mã QR đọc được.")
    log.info("console: test print: %s", error or "ok")
    return redirect(url_for("console.dashboard") + "#actions")


def run_restart(command, timeout=RESTART_TIMEOUT):
    """Run one configured restart command (no shell): {returncode, output, error}."""
    try:
        args = shlex.split(command)
    except ValueError as exc:
        return {"returncode": None, "output": "", "error": f"Lệnh không hợp lệ: {exc}"}
    if not args:
        return {"returncode": None, "output": "", "error": "Lệnh trống."}
    try:
        done = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        return {"returncode": None, "output": "", "error": f"Không tìm thấy chương trình “{args[0]}”."}
    except subprocess.TimeoutExpired:
        return {"returncode": None, "output": "", "error": f"Lệnh chạy quá {timeout} giây và đã bị dừng."}
    except OSError as exc:
        return {"returncode": None, "output": "", "error": f"Không chạy được lệnh: {exc}"}
    output = (done.stdout + done.stderr).decode("utf-8", errors="replace").strip()
    return {"returncode": done.returncode, "output": output[-2000:], "error": ""}


@bp.post("/restart")
@technician_required
def restart():
    commands = _restart_commands(_settings())
    label = request.form.get("name", "")
    if label not in commands:  # only configured commands ever run
        _flash(False, "Không có lệnh khởi động lại này", label[:100])
        return redirect(url_for("console.dashboard") + "#actions")
    log.warning("console: restart %r: %s", label, commands[label])
    outcome = run_restart(commands[label])
    if outcome["error"]:
        _flash(False, f"Khởi động lại “{label}” thất bại", outcome["error"],
               "Kiểm tra cấu hình restart_commands, hoặc khởi động lại cả hộp (rút điện, chờ 10 giây, cắm lại).")
    elif outcome["returncode"] == 0:
        _flash(True, f"Đã khởi động lại “{label}” (mã thoát 0)", output=outcome["output"])
    else:
        _flash(False, f"Khởi động lại “{label}” thất bại (mã thoát {outcome['returncode']})", output=outcome["output"],
               remedy="Thử lại sau ít phút; nếu vẫn lỗi, khởi động lại cả hộp và tải gói hỗ trợ "
                      "gửi kỹ thuật trung tâm.")
    return redirect(url_for("console.dashboard") + "#actions")


@bp.get("/keypad")
@technician_required
def keypad():
    settings = _settings()
    status, error = _device_status(settings)
    keypad_state = (status or {}).get("keypad")
    for press in (keypad_state or {}).get("presses", []):
        if press.get("at"):
            press["at"] = f"{_local(datetime.fromisoformat(press['at'].rstrip('Z')), settings):%H:%M:%S %d/%m}"
    return _page("console_keypad.html", keypad=keypad_state, device_error=error,
                 actions=get_flashed_messages(category_filter=["action"]))


@bp.post("/keypad/test")
@technician_required
def keypad_test():
    settings = _settings()
    if not settings["device_url"]:
        _flash(False, "Chưa dùng dịch vụ thiết bị",
               "Thử phím cần dịch vụ thiết bị (motcua edge devices) và cấu hình device_url.")
    else:
        try:
            DeviceClient.for_settings(settings).keypad_test()
            _flash(True, "Đang thử bàn phím trong 60 giây",
                   "Bấm lần lượt từng phím: mỗi lần bấm hiện ở bảng dưới, không ghi đánh giá cho ai.")
        except DeviceServiceDown as exc:
            _flash(False, "Dịch vụ thiết bị không trả lời", health.short_error(exc),
                   "Khởi động lại dịch vụ thiết bị hoặc khởi động lại hộp.")
    return redirect(url_for("console.keypad"))


# --- support bundle --------------------------------------------------------------------------

def safe_settings(settings):
    """The settings without any secret (keys, password hashes, passwords in URLs)."""
    safe = {}
    for name, value in sorted(settings.items()):
        if name in SECRET_SETTINGS or SECRET_NAME.search(name):
            continue
        safe[name] = health.redact_url(value) if isinstance(value, str) and "://" in value else value
    return safe


def _scrub(text, secrets):
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "[đã ẩn]")
    return text


def support_bundle(settings, report, now=None):
    """A zip (bytes) for the hub's technicians: health, sync, device state, failed print jobs,
    settings without secrets, recent logs. Never the keys/ directory, nor any password."""
    now = now or utcnow()
    secrets = [str(settings.get(name) or "") for name in SECRET_SETTINGS]
    secrets += [health.url_password(v) for v in settings.values() if isinstance(v, str) and "://" in v]
    key_dir = Path(settings["data_dir"]) / "keys"
    if key_dir.is_dir():
        secrets += [p.read_text(errors="replace").strip() for p in key_dir.glob("*") if p.is_file()]

    def dump(value):
        return _scrub(json.dumps(value, ensure_ascii=False, indent=2, default=str), secrets)

    jobs = [{"id": j.id, "number": j.ticket.number if j.ticket_id else None, "attempts": j.attempts,
             "error": j.last_error, "created_at": j.created_at.isoformat() + "Z"} for j in failed_jobs()]
    system = {
        "created_at": now.isoformat() + "Z",
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "hostname": platform.node(),
        "node_id": (report.get("sync") or {}).get("node_id"),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("README.txt", README)
        bundle.writestr("system.json", dump(system))
        bundle.writestr("health.json", dump(report["results"]))
        bundle.writestr("sync.json", dump(report.get("sync")))
        bundle.writestr("device.json", dump({"printer": report.get("printer"), "device_service": report.get("device")}))
        bundle.writestr("print_jobs_failed.json", dump(jobs))
        bundle.writestr("settings.json", dump(safe_settings(settings)))
        log_dir = Path(settings["data_dir"]) / "logs"
        for path in sorted(log_dir.glob("*.log*")) if log_dir.is_dir() else []:
            if not path.is_file():
                continue
            with path.open("rb") as handle:
                size = handle.seek(0, 2)
                handle.seek(max(size - LOG_BUNDLE_BYTES, 0))
                text = handle.read().decode("utf-8", errors="replace")
            bundle.writestr(f"logs/{path.name}", _scrub(text, secrets))
    return buffer.getvalue()


@bp.get("/support.zip")
@technician_required
def support():
    settings = _settings()
    report = gather(settings)
    data = support_bundle(settings, report)
    commune = (report.get("sync") or {}).get("commune") or settings["commune_code"] or "box"
    name = f"motcua-ho-tro-{commune}-{_local(report['checked_at'], settings):%Y%m%d-%H%M}.zip"
    log.info("console: support bundle downloaded (%s bytes)", len(data))
    return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True, download_name=name,
                     max_age=0)
