"""End-to-end fixtures: a real box (web server + worker processes) and a real Chromium.

The box runs exactly as in production (``python -m motcua edge ...``) on 127.0.0.1 and a
free port; its output goes to a log file whose tail is printed when a test fails.
Chromium is the system one (/usr/bin/chromium); it is never downloaded by Playwright.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
COMMUNE = "05518"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
START_TIMEOUT = 30  # seconds for the box to answer /api/v1/health
ROOT = Path(__file__).resolve().parents[2]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Box:
    """One commune box: ``edge init``, then ``edge serve`` and (optionally) ``edge worker``."""

    def __init__(self, data_dir, log_path, extra=(), worker=True):
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.options = ["--data-dir", str(self.data_dir), "--commune-code", COMMUNE,
                        "--port", str(self.port), *map(str, extra)]
        self.worker = worker
        self.procs = []

    @property
    def db_path(self):
        return self.data_dir / "edge.db"

    def _command(self, *args):
        return [sys.executable, "-m", "motcua", "edge", *args, *self.options]

    def start(self):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(self.log_path, "ab") as log:
            subprocess.run(self._command("init", "--demo-data"), check=True, cwd=ROOT, env=env,
                           stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, timeout=60)
            kinds = ["serve", "worker"] if self.worker else ["serve"]
            for kind in kinds:
                # The child keeps its own copy of the log descriptor; ours is closed on leaving.
                self.procs.append(subprocess.Popen(
                    self._command(kind, "--printer", "preview"), cwd=ROOT, env=env,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        self._wait_healthy()
        return self

    def _wait_healthy(self):
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            dead = [p.args[4] for p in self.procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"box process(es) {dead} exited while starting\n{self.log_tail()}")
            try:
                if self.get_json("/api/v1/health", timeout=1).get("ok"):
                    return
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"box at {self.url} did not answer within {START_TIMEOUT} s\n{self.log_tail()}")
            time.sleep(0.2)

    def get_json(self, path, timeout=5):
        with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        for p in self.procs:
            try:
                p.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)  # its own session: gunicorn's worker goes too
                except ProcessLookupError:
                    pass
                p.wait()
        self.procs = []

    def log_tail(self, lines=60):
        try:
            text = self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return "(no box log)"
        return f"--- last lines of {self.log_path} ---\n" + "\n".join(text.splitlines()[-lines:])


def linked_box(hub, base, commune, worker=True):
    """A box of ``commune`` that knows ``hub`` (its key pinned, registered there), started and synced once."""
    from tests.sync.conftest import motcua

    b = Box(base / "data", base / "box.log", extra=("--hub-url", hub.url), worker=worker)
    subprocess.run([sys.executable, "-m", "motcua", "edge", "init", "--demo-data", "--hub-key", hub.key, *b.options],
                   cwd=ROOT, check=True, capture_output=True, timeout=60)  # pins the hub's key; start() finds it done
    motcua("hub", "register-box", "--commune", commune, "--public-key", b.data_dir / "keys" / "box.pub", *hub.args)
    b.start()
    sync_box(b)
    return b


def sync_box(box):
    """``motcua edge sync``: push and pull now."""
    done = subprocess.run([sys.executable, "-m", "motcua", "edge", "sync", *box.options], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def page_headers(context, url):
    """What the box's own pages send with a write, for a test's direct request in ``context``:
    the box's Origin and the session's CSRF token (read from a page, as the pages' scripts do)."""
    html = context.request.get(url + "/kiosk").text()
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)[1]
    return {"Origin": url, "X-CSRFToken": token}


def _start_box(tmp_path_factory, name, **kwargs):
    base = tmp_path_factory.mktemp(name)
    return Box(base / "data", base / "box.log", **kwargs).start()


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    """A fresh box with the demo office (services A–E, counters 1–3, canbo1–3), printer ``preview``."""
    b = _start_box(tmp_path_factory, "box")
    yield b
    b.stop()


@pytest.fixture
def quick_reset_box(tmp_path_factory):
    """A box whose kiosk returns to its start screen after 2 s without a touch (no worker)."""
    b = _start_box(tmp_path_factory, "box-reset", extra=("--kiosk-reset-seconds", "2"), worker=False)
    yield b
    b.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for name in ("box", "quick_reset_box"):
            b = item.funcargs.get(name) if hasattr(item, "funcargs") else None
            if isinstance(b, Box):
                report.sections.append((f"box log ({name})", b.log_tail()))
    return report


@pytest.fixture(scope="session")
def shots():
    """``shots(page, "name")`` saves tests/e2e/screenshots/name.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name, full_page=False):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    return take


class PageProblems:
    """Console errors, uncaught exceptions and dialogs of every watched page."""

    def __init__(self):
        self.errors = []
        self.dialogs = []

    def watch(self, page, name):
        def on_console(msg):
            # The browser's own request for /favicon.ico (the box has none) is no page's fault.
            if msg.location.get("url", "").endswith("/favicon.ico"):
                return
            if msg.type == "error" and "NotAllowedError" not in msg.text:
                self.errors.append((f"[{name}] console: {msg.text} ({msg.location.get('url')})",
                                    msg.text, msg.location.get("url", "")))

        def on_pageerror(exc):
            if "NotAllowedError" not in str(exc):
                self.errors.append((f"[{name}] uncaught: {exc}", str(exc), ""))

        def on_dialog(dialog):
            self.dialogs.append(f"[{name}] {dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("console", on_console)
        page.on("pageerror", on_pageerror)
        page.on("dialog", on_dialog)
        return page

    def check(self, expected_http=()):
        """No dialog, no error; ``expected_http``: URL paths whose 4xx the test caused on purpose
        (the browser logs "Failed to load resource" for them)."""
        assert not self.dialogs, "pages opened dialogs:\n" + "\n".join(self.dialogs)

        def expected(text, url):
            path = urlsplit(url).path
            return text.startswith("Failed to load resource") and any(path.startswith(p) for p in expected_http)

        errors = [line for line, text, url in self.errors if not expected(text, url)]
        assert not errors, "pages logged errors:\n" + "\n".join(errors)


@pytest.fixture
def problems():
    return PageProblems()


def pair_rating_screen(page, url, counter, username, password="motcua123"):
    """The officer seated at ``counter`` pairs the rating tablet ``page``: their username and
    password on its unpaired rating page."""
    from playwright.sync_api import expect

    page.goto(f"{url}/rate/{counter}")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name=f"Ghép màn hình với Quầy số {counter}").click()
    expect(page.locator("#rate section[data-step=idle]")).to_be_visible()
