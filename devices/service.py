"""The device service: the one process that owns the ticket printer and the GPIO lines.

It prints the pending rows of ``print_job`` (polling about once a second, one printer user
at a time), turns rating-key presses into ratings, and answers a tiny HTTP API on
127.0.0.1 for the web app and the technician console:

- ``GET /status``: the printer (opened, online, paper, last error), the keypad (pins, last
  presses, test mode) and the print jobs waiting or failed;
- ``POST /print/test``: print a sample ticket now and say how it went;
- ``POST /keypad/test``: for a minute, key presses are shown but rate nobody.

When ``device_url`` is set, the huey worker neither prints nor opens the keypad.

Only the box's own processes may call it: every request but ``/health`` carries the token kept
in ``<data_dir>/device_token`` (made once, 0600) in ``X-Motcua-Device-Token``; a ``Host`` other
than 127.0.0.1/localhost at the service's port is refused (a web page's DNS-rebinding trick);
at most ``MAX_THREADS`` requests are served at once, the others get a 503 at once.
"""
import hmac
import json
import logging
import math
import os
import secrets
import signal
import threading
import time
from collections import deque
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

from . import health

log = logging.getLogger("motcua.devices")

POLL_SECONDS = 1.0
JOBS_PER_POLL = 5
PROBE_MAX_AGE = 5.0  # seconds a printer probe answers /status before probing again
KEYPAD_TEST_SECONDS = 60
PRESSES_KEPT = 20
TIMES = ("checked_at", "last_printed_at", "last_error_at")  # of the printer's state, sent as ISO text
SCORE_LABELS = {3: "Rất hài lòng", 2: "Hài lòng", 1: "Chưa hài lòng"}
TOKEN_FILE = "device_token"
TOKEN_HEADER = "X-Motcua-Device-Token"
MAX_BODY = 16 * 1024
MAX_THREADS = 8
REQUEST_TIMEOUT = 10  # seconds a client may take to send its request
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def device_token(data_dir):
    """The device service's local token, made once in ``<data_dir>/device_token`` (0600, O_EXCL: the
    service and the web app starting together agree on one token)."""
    path = Path(data_dir) / TOKEN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
    for _ in range(50):  # the maker may not have written it yet
        token = path.read_text().strip()
        if token:
            return token
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty")


def test_payload(settings, office="", url=""):
    """A sample ticket for the technician's test print."""
    now = datetime.now(ZoneInfo(settings.get("timezone") or "Asia/Ho_Chi_Minh"))
    return {
        "number": "IN THỬ",
        "office": office or "Hộp một cửa",
        "service": "Kiểm tra máy in – không phải số thứ tự thật",
        "priority_label": None,
        "issued_at": f"{now:%H:%M %d/%m/%Y}",
        "estimated_wait_min": None,
        "ahead": None,
        "tracking_code": "TEST",
        "qr": url or "http://motcua.local/console",
    }


def _iso(ts):
    return datetime.fromtimestamp(ts, timezone.utc).replace(tzinfo=None).isoformat() + "Z" if ts else None


class DeviceService:
    """Printer and keypad of one box. ``open_printer_fn`` and ``pin_factory`` are the hardware edge."""

    def __init__(self, settings, open_printer_fn=None, clock=time.time):
        self.settings = settings
        self.open_printer = open_printer_fn or self._open_configured
        self.clock = clock
        self.printer_lock = threading.Lock()  # one user of the printer at a time
        self.state_lock = threading.Lock()
        self.printer = {"spec": settings["printer"], "opened": None, "online": None, "paper": None, "error": "",
                        "checked_at": None, "last_printed_at": None, "last_error_at": None}
        self.presses = deque(maxlen=PRESSES_KEPT)
        self.keypad = None
        self.keypad_error = ""
        self.test_until = 0.0
        self.stopping = threading.Event()
        self.token = device_token(settings["data_dir"])

    def _open_configured(self):
        from .printer import open_printer

        s = self.settings
        return open_printer(s["printer"], s["data_dir"], s["printer_timeout"])

    # --- printing -------------------------------------------------------------------------

    def print_due(self, now=None):
        """Print the jobs due now (a bounded number); return {job_id: state}."""
        from edge.printing import due_jobs, process_job
        from office.models import PrintJob

        done = {}
        for job_id in due_jobs(now, limit=JOBS_PER_POLL):
            if self.stopping.is_set():
                break
            with self.printer_lock:
                state = process_job(job_id, self.open_printer, self.settings, now=now)
            done[job_id] = state
            job = PrintJob.get_by_id(job_id)
            self._note_print(job.last_error if state != PrintJob.DONE else None)
        return done

    def print_test(self, office="", url=""):
        """Print a sample ticket now: {"ok", "error"}."""
        from edge.printing import print_once

        with self.printer_lock:
            error = print_once(self.open_printer, test_payload(self.settings, office, url), self.settings,
                               stem=f"test-{int(self.clock())}")
        self._note_print(error)
        return {"ok": error is None, "error": error or ""}

    def _note_print(self, error):
        now = self.clock()
        with self.state_lock:
            if error is None:
                self.printer.update(opened=True, error="", last_printed_at=now, checked_at=now)
            else:
                self.printer.update(opened=False, error=error, last_error_at=now, checked_at=now)

    def check_printer(self, max_age=PROBE_MAX_AGE):
        """The printer's state, probed again when the last look is older than ``max_age`` seconds."""
        now = self.clock()
        checked = self.printer["checked_at"]
        if checked is None or now - checked > max_age:
            timeout = min(float(self.settings["printer_timeout"]), 3.0)
            with self.printer_lock:
                probe = health.probe_printer(self.open_printer, timeout)
            with self.state_lock:
                self.printer.update(probe, checked_at=self.clock())
                if probe["error"]:
                    self.printer["last_error_at"] = self.printer["checked_at"]
        with self.state_lock:
            return dict(self.printer)

    # --- keypad -----------------------------------------------------------------------------

    def start_keypad(self, pin_factory=None):
        """Claim the keypad's GPIO lines (if ``keypad_pins`` is set); a wiring error is reported, not fatal."""
        from .keypad import RatingKeypad, parse_pins

        pins = parse_pins(self.settings["keypad_pins"])
        if not pins:
            return None
        try:
            self.keypad = RatingKeypad(pins, self._on_key, pin_factory=pin_factory)
        except Exception as exc:  # no GPIO, pins busy, wrong pin names: the printer still works
            self.keypad_error = str(exc) or type(exc).__name__
            log.exception("could not open the rating keypad on pins %s", pins)
        return self.keypad

    def start_keypad_test(self, seconds=KEYPAD_TEST_SECONDS):
        self.test_until = self.clock() + seconds
        return self.test_until

    def testing_keypad(self):
        return self.clock() < self.test_until

    def _on_key(self, score):
        press = {"at": self.clock(), "score": score, "label": SCORE_LABELS.get(score, str(score)), "outcome": ""}
        with self.state_lock:
            self.presses.appendleft(press)
        if self.testing_keypad():
            press["outcome"] = "Thử phím: không ghi đánh giá"
            return
        from office.ratings import rate_at_counter

        s = self.settings
        try:
            rating = rate_at_counter(s["keypad_counter"], score, s["rating_window_seconds"], source="keypad")
        except Exception as exc:  # RatingKeypad logs it; the technician sees it too
            press["outcome"] = f"Lỗi: {getattr(exc, 'message', None) or exc}"
            raise
        if rating is None:
            press["outcome"] = "Không có số thứ tự chờ đánh giá"
            log.info("rating key %s pressed at counter %s with nobody to rate", score, s["keypad_counter"])
        else:
            press["outcome"] = f"Đã ghi đánh giá cho số thứ tự {rating.ticket.number}"

    # --- status -----------------------------------------------------------------------------

    def status(self, probe=True):
        from edge.printing import failed_jobs
        from office.models import PrintJob

        printer = self.check_printer() if probe else dict(self.printer)
        with self.state_lock:
            presses = [dict(p, at=_iso(p["at"])) for p in self.presses]
        return {
            "ok": True,
            "printer": dict(printer, **{k: _iso(printer[k]) for k in TIMES}),
            "keypad": {
                "pins": self.settings["keypad_pins"],
                "counter": self.settings["keypad_counter"],
                "active": self.keypad is not None,
                "error": self.keypad_error,
                "testing": self.testing_keypad(),
                "test_until": _iso(self.test_until) if self.testing_keypad() else None,
                "presses": presses,
            },
            "jobs": {
                "pending": PrintJob.select().where(PrintJob.state == PrintJob.PENDING).count(),
                "failed": len(failed_jobs()),
            },
        }

    # --- running ----------------------------------------------------------------------------

    def loop(self, interval=POLL_SECONDS):
        """Print due jobs until ``stop()``; an error is logged and the loop goes on."""
        from office.db import database

        while not self.stopping.is_set():
            try:
                self.print_due()
            except Exception:
                log.exception("printing pending jobs failed")
            finally:
                if not database.is_closed():
                    database.close()  # no connection held between polls (SQLite WAL checkpoints)
            self.stopping.wait(interval)

    def make_server(self, host="127.0.0.1", port=None):
        port = self.settings["device_port"] if port is None else port
        return BoundedServer((host, port), _handler_for(self))

    def stop(self):
        self.stopping.set()
        if self.keypad is not None:
            self.keypad.close()
            self.keypad = None

    def run(self, pin_factory=None):
        """Own the devices and serve the API until SIGINT/SIGTERM."""
        self.start_keypad(pin_factory)
        printer_thread = threading.Thread(target=self.loop, name="print-loop", daemon=True)
        printer_thread.start()
        server = self.make_server()
        log.info("device service on http://127.0.0.1:%s (printer %s, keypad %s)", server.server_address[1],
                 self.settings["printer"], self.settings["keypad_pins"] or "none")

        def shutdown(*_):
            threading.Thread(target=server.shutdown, daemon=True).start()

        previous = signal.signal(signal.SIGTERM, shutdown)
        try:
            server.serve_forever(poll_interval=0.5)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            server.server_close()
            self.stop()
            printer_thread.join(float(self.settings["printer_timeout"]) + 2)


class BoundedServer(ThreadingHTTPServer):
    """A thread per request, at most ``MAX_THREADS`` at once; one more gets a 503 straight away."""

    daemon_threads = True
    max_threads = MAX_THREADS

    def __init__(self, *args, **kwargs):
        self.slots = threading.BoundedSemaphore(self.max_threads)
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        if not self.slots.acquire(blocking=False):
            _refuse_busy(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def _refuse_busy(sock):
    body = json.dumps({"ok": False, "error": "Dịch vụ thiết bị đang bận, vui lòng thử lại.", "status": 503},
                      ensure_ascii=False).encode("utf-8")
    head = (f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode("ascii")
    try:
        sock.settimeout(1)
        sock.sendall(head + body)
    except OSError:
        pass


class BadRequest(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_body(length_header, read):
    """The JSON object of a request: ``{}`` when empty; ``BadRequest`` for an unreadable
    Content-Length, a body over ``MAX_BODY``, bad JSON (NaN and Infinity included) or deep nesting."""
    try:
        length = int((length_header or "0").strip())
    except ValueError:
        raise BadRequest(400, "Độ dài nội dung (Content-Length) không hợp lệ.") from None
    if length < 0:
        raise BadRequest(400, "Độ dài nội dung (Content-Length) không hợp lệ.")
    if length > MAX_BODY:
        raise BadRequest(413, "Dữ liệu gửi lên quá lớn.")
    if not length:
        return {}
    try:
        data = json.loads(read(length).decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise BadRequest(400, "Nội dung gửi lên phải là một đối tượng JSON hợp lệ.") from None
    if not isinstance(data, dict):
        raise BadRequest(400, "Nội dung gửi lên phải là một đối tượng JSON hợp lệ.")
    return data


def _seconds(value):
    """The keypad test's length: a finite number of seconds within [1, 600], else the default."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return KEYPAD_TEST_SECONDS
    return min(max(int(value), 1), 600)


def _text(value, limit):
    """A short text field of a request, valid UTF-8 (lone surrogates dropped)."""
    return str(value).encode("utf-8", "ignore").decode("utf-8")[:limit]


def _handler_for(service):
    class Handler(BaseHTTPRequestHandler):
        server_version = "motcua-devices"
        timeout = REQUEST_TIMEOUT

        def _refusal(self):
            """Why this request may not be served (a Vietnamese message and status), or None."""
            port = self.server.server_address[1]
            host = (self.headers.get("Host") or "").strip().lower()
            if host not in {f"{name}:{port}" for name in LOCAL_HOSTS}:
                return 403, "Chỉ nhận yêu cầu gửi tới 127.0.0.1 của hộp."
            if self.path.split("?")[0] == "/health":
                return None
            token = self.headers.get(TOKEN_HEADER) or ""
            if not hmac.compare_digest(token.encode("utf-8", "ignore"), service.token.encode("utf-8")):
                return 401, "Thiếu hoặc sai mã của dịch vụ thiết bị."
            return None

        def handle_one_request(self):
            try:
                super().handle_one_request()
            except (ValueError, UnicodeError) as exc:  # a request line or header the parser chokes on
                log.info("device API: bad request (%s)", type(exc).__name__)
                self.close_connection = True

        def _answer(self, status, body):
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self):
            return parse_body(self.headers.get("Content-Length"), self.rfile.read)

        def _guard(self, fn):
            from office.db import database

            try:
                self._answer(200, fn())
            except Exception as exc:
                log.exception("device API %s %s", self.command, self.path)
                self._answer(500, {"ok": False, "error": f"Lỗi dịch vụ thiết bị: {exc}", "status": 500})
            finally:
                if not database.is_closed():
                    database.close()

        def do_GET(self):  # noqa: N802
            refusal = self._refusal()
            if refusal:
                return self._answer(refusal[0], {"ok": False, "error": refusal[1], "status": refusal[0]})
            path = self.path.split("?")[0]
            if path == "/health":
                return self._answer(200, {"ok": True})
            if path == "/status":
                return self._guard(service.status)
            self._answer(404, {"ok": False, "error": "Không có đường dẫn này.", "status": 404})

        def do_POST(self):  # noqa: N802
            refusal = self._refusal()
            if refusal:
                self.close_connection = True  # its body is left unread
                return self._answer(refusal[0], {"ok": False, "error": refusal[1], "status": refusal[0]})
            path = self.path.split("?")[0]
            try:
                body = self._body() if path in ("/print/test", "/keypad/test") else {}
            except BadRequest as bad:
                self.close_connection = True
                return self._answer(bad.status, {"ok": False, "error": bad.message, "status": bad.status})
            if path == "/print/test":
                return self._guard(lambda: service.print_test(_text(body.get("office", ""), 200),
                                                              _text(body.get("url", ""), 300)))
            if path == "/keypad/test":
                seconds = _seconds(body.get("seconds", KEYPAD_TEST_SECONDS))
                return self._guard(lambda: {"ok": True, "test_until": _iso(service.start_keypad_test(seconds))})
            self._answer(404, {"ok": False, "error": "Không có đường dẫn này.", "status": 404})

        def log_message(self, fmt, *args):
            log.debug("device API: " + fmt, *args)

    return Handler


class DeviceClient:
    """The web app's side of the device service's API (local HTTP, short timeouts)."""

    def __init__(self, url, timeout=5.0, token=""):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.token = token

    @classmethod
    def for_settings(cls, settings, timeout=5.0):
        """The box's client of its device service: ``device_url``, and the token of the data dir."""
        return cls(settings["device_url"], timeout, device_token(settings["data_dir"]))

    def _call(self, method, path, body=None, timeout=None):
        import requests

        try:
            response = requests.request(method, self.url + path, json=body, timeout=timeout or self.timeout,
                                        headers={TOKEN_HEADER: self.token})
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise DeviceServiceDown(str(exc)) from exc
        if not isinstance(data, dict):
            raise DeviceServiceDown("câu trả lời không hợp lệ")
        return data

    def status(self):
        return self._call("GET", "/status")

    def print_test(self, office="", url="", timeout=None):
        return self._call("POST", "/print/test", {"office": office, "url": url}, timeout=timeout)

    def keypad_test(self, seconds=KEYPAD_TEST_SECONDS):
        return self._call("POST", "/keypad/test", {"seconds": seconds})


class DeviceServiceDown(Exception):
    pass


def run_service(settings):
    """``motcua edge devices``: bind the database, own the devices, serve until stopped."""
    from motcua.logs import configure_logging
    from office.db import bind, open_database
    from office.models import MODELS

    configure_logging(settings["log_level"])
    health.attach_log_file(settings["data_dir"], "devices", settings["timezone"],
                           max_mb=settings["log_file_mb"], count=settings["log_file_count"])
    from provisioning.recover import at_start

    at_start(settings, echo=log.error)  # a damaged database is kept aside and rebuilt before anything opens it
    bind(open_database(settings["database"]), MODELS)
    DeviceService(settings).run()
