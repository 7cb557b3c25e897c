"""A whole box as its own processes (web server, worker, device service) in one process group,
so a test can cut its power: one SIGKILL to the group takes them all at once, mid-whatever."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.processes import kill_group, wait_for
from tests.sync.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
START_S = 60  # a loaded test machine takes seconds to import and start three processes


class WholeBox:
    """``motcua edge serve`` + ``worker`` + ``devices`` on one data dir, one process group.

    The group's leader is a small sleeper (the box's "power supply"): the three processes join
    its group, and ``power_cut()`` SIGKILLs the group."""

    def __init__(self, data_dir, options=(), period_s=1, devices=True, env=None):
        self.dir = Path(data_dir)
        self.port, self.device_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.options = ["--data-dir", str(self.dir), *map(str, options)]
        if devices:
            self.options += ["--device-port", str(self.device_port),
                             "--device-url", f"http://127.0.0.1:{self.device_port}"]
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "MOTCUA_WORKER_PERIOD_SECONDS": str(period_s), **(env or {})}
        self.devices = devices
        self.leader, self.procs, self.starts = None, [], 0
        self.log_path = self.dir / "box-processes.out"

    def command(self, *args):
        return [sys.executable, "-m", "motcua", "edge", *args, *self.options]

    def start(self, wait=True):
        self.dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self.leader = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"],
                                       process_group=0, stdin=subprocess.DEVNULL)
        kinds = [["serve", "--port", str(self.port)], ["worker", "--log-level", "INFO"]]
        if self.devices:
            kinds.append(["devices"])
        with open(self.log_path, "ab") as log:
            log.write(f"---- start {self.starts} ----\n".encode())
            log.flush()
            self.procs = [subprocess.Popen(self.command(*kind), cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                           stdout=log, stderr=subprocess.STDOUT, process_group=self.leader.pid)
                          for kind in kinds]
        if wait:
            self.wait_serving()
        return self

    def wait_serving(self):
        def up():
            dead = [p.args[4] for p in self.procs if p.poll() is not None]
            if dead:
                raise AssertionError(f"box process(es) {dead} exited while starting\n{self.tail()}")
            try:
                return requests.get(self.url + "/api/v1/health", timeout=1).ok
            except requests.RequestException:
                return False

        try:
            wait_for(up, START_S, step=0.1, what="the box to serve")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.tail()}") from None

    def power_cut(self):
        """SIGKILL the whole box at once; reap every process."""
        if self.leader is None:
            return
        try:
            os.killpg(self.leader.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for proc in [self.leader, *self.procs]:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:  # cannot happen after SIGKILL, but never hang here
                proc.kill()
                proc.wait()
        self.leader, self.procs = None, []

    def stop(self):
        """A clean stop (SIGTERM to the group, then SIGKILL after a grace)."""
        if self.leader is None:
            return
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs:
            try:
                proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                pass
        kill_group(self.leader)
        self.power_cut()

    def tail(self, chars=4000):
        try:
            return self.log_path.read_text("utf-8", "replace")[-chars:]
        except OSError:
            return "(no output)"
