"""The device service: the one process that owns the ticket printer and the GPIO lines.

It prints the pending rows of ``print_job`` (polling about once a second, one printer user
at a time), turns rating-key presses into ratings, and answers a tiny HTTP API on
127.0.0.1 for the web app and the technician console:

- ``GET /status``: the printer (opened, online, paper, last error), the keypad (pins, last
  presses, test mode) and the print jobs waiting or failed;
- ``POST /print/test``: print a sample ticket now and say how it went;
- ``POST /keypad/test``: for a minute, key presses are shown but rate nobody.

When ``device_url`` is set, the huey worker neither prints nor opens the keypad.
"""
import json
import logging
import signal
import threading
import time
from collections import deque
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


def test_payload(settings, office="", url=""):
    """A sample ticket for the technician's test print."""
    now = datetime.now(ZoneInfo(settings.get("timezone") or "Asia/Ho_Chi_Minh"))
    return {
        "number": "IN THỬ",
        "office": office or "Hộp một cửa",
        "service": "Kiểm tra máy in – không phải vé thật",
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
            press["outcome"] = "Không có vé chờ đánh giá"
            log.info("rating key %s pressed at counter %s with nobody to rate", score, s["keypad_counter"])
        else:
            press["outcome"] = f"Đã ghi đánh giá cho vé {rating.ticket.number}"

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
        server = ThreadingHTTPServer((host, port), _handler_for(self))
        server.daemon_threads = True
        return server

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


def _handler_for(service):
    class Handler(BaseHTTPRequestHandler):
        server_version = "motcua-devices"

        def _answer(self, status, body):
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self):
            length = min(int(self.headers.get("Content-Length") or 0), 16 * 1024)
            if not length:
                return {}
            try:
                data = json.loads(self.rfile.read(length))
            except ValueError:
                return {}
            return data if isinstance(data, dict) else {}

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
            path = self.path.split("?")[0]
            if path == "/health":
                return self._answer(200, {"ok": True})
            if path == "/status":
                return self._guard(service.status)
            self._answer(404, {"ok": False, "error": "Không có đường dẫn này.", "status": 404})

        def do_POST(self):  # noqa: N802
            path = self.path.split("?")[0]
            if path == "/print/test":
                body = self._body()
                return self._guard(lambda: service.print_test(str(body.get("office", ""))[:200],
                                                              str(body.get("url", ""))[:300]))
            if path == "/keypad/test":
                body = self._body()
                seconds = body.get("seconds", KEYPAD_TEST_SECONDS)
                seconds = min(max(int(seconds), 1), 600) if isinstance(seconds, (int, float)) else KEYPAD_TEST_SECONDS
                return self._guard(lambda: {"ok": True, "test_until": _iso(service.start_keypad_test(seconds))})
            self._answer(404, {"ok": False, "error": "Không có đường dẫn này.", "status": 404})

        def log_message(self, fmt, *args):
            log.debug("device API: " + fmt, *args)

    return Handler


class DeviceClient:
    """The web app's side of the device service's API (local HTTP, short timeouts)."""

    def __init__(self, url, timeout=5.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method, path, body=None, timeout=None):
        import requests

        try:
            response = requests.request(method, self.url + path, json=body, timeout=timeout or self.timeout)
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
    health.attach_log_file(settings["data_dir"], "devices", settings["timezone"])
    bind(open_database(settings["database"]), MODELS)
    DeviceService(settings).run()
