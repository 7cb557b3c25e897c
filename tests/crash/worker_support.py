"""Workers as their own processes, killed with SIGKILL, and a proxy that holds push answers.

The workers run with a short period (``MOTCUA_WORKER_PERIOD_SECONDS``) and log huey's
"Executing <task>" / "<task> executed in" lines, which tell a test when a job runs.
"""
import http.client
import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.processes import kill_group, wait_for  # noqa: F401  (the tests take wait_for from here)

PERIOD_S = 2


class HoldingProxy:
    """Forwards to the hub; while ``holding``, answers a push only ``hold_s`` seconds after
    the hub did. ``pushes`` counts the pushes seen, ``push_seen`` is set at each."""

    def __init__(self, upstream_port, hold_s=10.0):
        self.upstream_port, self.hold_s = upstream_port, hold_s
        self.holding = False
        self.pushes = 0
        self.push_seen = threading.Event()
        self._release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                proxy._forward(self)

            def do_POST(self):
                proxy._forward(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def hold(self, on=True):
        self.holding = on
        if on:
            self._release.clear()
        else:
            self._release.set()

    def _forward(self, handler):
        upstream = None
        try:
            length = int(handler.headers.get("Content-Length") or 0)
            body = handler.rfile.read(length) if length else None
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "connection")}
            upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
            upstream.request(handler.command, handler.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            if handler.path.startswith("/sync/v1/push"):
                self.pushes += 1
                self.push_seen.set()
                if self.holding:
                    self._release.wait(self.hold_s)
            handler.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.wfile.write(data)
        except Exception:  # the box was killed mid-answer: nobody to answer
            pass
        finally:
            if upstream is not None:
                upstream.close()

    def close(self):
        self.hold(False)
        self.server.shutdown()
        self.server.server_close()


class Worker:
    """``motcua <edge|hub> worker`` with a short period; SIGKILL-able and restartable."""

    def __init__(self, kind, data_dir, args=(), env=None, period_s=PERIOD_S):
        self.kind, self.dir = kind, str(data_dir)
        self.args = [str(a) for a in args]
        self.env = {**os.environ, "MOTCUA_WORKER_PERIOD_SECONDS": str(period_s), **(env or {})}
        self.log_path = os.path.join(self.dir, f"{kind}-worker.out")
        self.proc = None
        self.starts = []  # offset in the log file at each start

    def start(self):
        self.starts.append(os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "motcua", self.kind, "worker", "--data-dir", self.dir,
                                          "--log-level", "INFO", *self.args],
                                         stdout=log, stderr=log, start_new_session=True, env=self.env)
        return self

    def kill(self, sig=signal.SIGKILL):
        kill_group(self.proc, sig)
        self.proc = None

    def output(self, since_start=-1):
        """The log since the ``since_start``-th start (the last one by default)."""
        with open(self.log_path, "rb") as log:
            log.seek(self.starts[since_start] if self.starts else 0)
            return log.read().decode("utf-8", "replace")

    def executed(self, task):
        """How many runs of ``task`` finished since the last start."""
        return sum(1 for line in self.output().splitlines() if f".{task}: " in line and " executed in " in line)

    def started(self, task):
        """How many runs of ``task`` began since the last start."""
        return sum(1 for line in self.output().splitlines() if "Executing " in line and f".{task}: " in line)

    def close(self):
        self.kill(signal.SIGTERM)
