"""A hub worker as its own process, and a way to run its notify task and wait for it."""
import os
import signal
import subprocess
import sys

from central.tasks import create_hub_huey
from motcua.settings import load_settings

from tests.processes import kill_group, wait_for  # noqa: F401  (the tests take wait_for from here)


def sms_args(gateway, *extra):
    return ["--sms-url", gateway.url, "--sms-api-key", "AK", "--sms-secret-key", "SK", "--sms-brandname", "UBND-XA",
            "--citizen-channels", "sms", *map(str, extra)]


class WorkerProcess:
    """``motcua hub worker`` with the given options; killable, restartable."""

    def __init__(self, data_dir, args):
        self.dir, self.args, self.proc = data_dir, [str(a) for a in args], None
        self.log = open(os.path.join(data_dir, "worker.log"), "ab")

    def start(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "motcua", "hub", "worker", *self.args],
                                     stdout=self.log, stderr=self.log, start_new_session=True)
        return self

    def kill(self, sig=signal.SIGKILL):
        kill_group(self.proc, sig)
        self.proc = None

    def close(self):
        self.kill(signal.SIGTERM)
        self.log.close()


def option(args, name):
    return args[args.index(name) + 1] if name in args else None


class NotifyQueue:
    """The worker's task queue as the hub's web process sees it: enqueue notify, wait for its result."""

    def __init__(self, args):
        args = [str(a) for a in args]
        overrides = {"data_dir": option(args, "--data-dir"), "database": option(args, "--database"),
                     "redis_url": option(args, "--redis-url")}
        self.settings = load_settings("hub", environ={}, overrides=overrides)
        self.huey, self.tasks = create_hub_huey(self.settings)

    def run(self, timeout=60):
        """One full dispatch + send by the worker; its counts."""
        return self.tasks["notify_now"](report=True).get(blocking=True, timeout=timeout)
