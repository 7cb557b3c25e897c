"""Provisioning benchmark: how long a box takes from a USB bundle to serving, enrolled and restored.

1. Blank box: a bundle made by the hub (``motcua provision bundle``) lies on a "USB stick" (a
   folder named by ``usb_mount_dirs``). From "bundle found" (``motcua edge provision --scan``
   starts) to "enrolled" (the command returns, the hub holds the box's key) and to "box serving"
   (``edge serve`` + ``edge worker`` started, ``/api/v1/health`` answers).
2. Replacement box: the commune's old box holds a busy month (the sync bench's generator,
   ``bench/sync.py``), all of it at the hub. A new blank box gets the commune's bundle: from
   "replacement box plugged in" to "commune restored" (the provision command enrolled it and
   loaded the hub's snapshot) and to serving.
Baseline, in the same run: the same box's services restarted once provisioned (what a reboot
costs), so the figures above read as "a restart plus this much". Prints figures, asserts nothing.
Usage: .venv/bin/python bench/provision.py [--entries 30000] [--days 30] [--postgres] [--keep]
"""
import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]  # this folder would shadow the project's ``sync`` package
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.sync import (COMMUNE, PG_URL, Hub, _free_port, generate, load_backlog, pg_available, pg_execute,  # noqa: E402
                        print_table)
from sync import box as sync_box  # noqa: E402
from sync.client import HubClient  # noqa: E402
from sync.capture import this_node  # noqa: E402
from bench.sync import using  # noqa: E402


def motcua(*args, check=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    done = subprocess.run([sys.executable, "-m", "motcua", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, env=env)
    if check and done.returncode:
        raise RuntimeError(f"motcua {' '.join(map(str, args))}: {done.stdout}{done.stderr}")
    return done


class Services:
    """``edge serve`` + ``edge worker`` of a provisioned data dir, in one process group."""

    def __init__(self, data_dir):
        self.dir, self.port, self.procs = Path(data_dir), _free_port(), []

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
        log = open(self.dir / "services.out", "ab")
        leader = None
        for kind in (["serve", "--port", str(self.port)], ["worker"]):
            proc = subprocess.Popen([sys.executable, "-m", "motcua", "edge", *kind, "--data-dir", str(self.dir),
                                     "--printer", "dummy", "--log-level", "WARNING"], cwd=ROOT, env=env,
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    process_group=0 if leader is None else leader)
            leader = leader or proc.pid
            self.procs.append(proc)
        log.close()
        return self

    def wait_serving(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError("a box process exited: " + (self.dir / "services.out").read_text()[-2000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the box did not serve within {timeout} s")

    def stop(self):
        if not self.procs:
            return
        try:
            os.killpg(self.procs[0].pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.procs[0].pid, signal.SIGKILL)
                proc.wait()
        self.procs = []


def provision_run(hub, work, name, label):
    """Bundle on a stick -> enrolled (-> restored) -> serving; then the restart baseline."""
    usb, data = work / f"usb-{name}", work / name
    usb.mkdir()
    motcua("provision", "bundle", "--commune", COMMUNE, "--out", usb / "bundle.motcua",
           "--public-hub-urls", hub.url, *hub.args)
    t0 = time.perf_counter()  # the USB watcher found the bundle
    out = motcua("edge", "provision", "--scan", "--usb-mount-dirs", usb, "--data-dir", data, "--log-level", "WARNING")
    t_enrolled = time.perf_counter() - t0
    state = json.loads((data / "provision.json").read_text())
    services = Services(data).start()
    try:
        services.wait_serving()
        t_serving = time.perf_counter() - t0
    finally:
        services.stop()
    t1 = time.perf_counter()  # baseline: the same box started again
    services = Services(data).start()
    try:
        services.wait_serving()
        t_restart = time.perf_counter() - t1
    finally:
        services.stop()
    with sqlite3.connect(data / "edge.db") as conn:
        tickets = conn.execute("SELECT count(*) FROM ticket").fetchone()[0]
    conn.close()
    return {"box": label, "enrolled": state.get("status") == "done" and bool(state.get("enrolled_at")),
            "tickets held": tickets, "to enrolled/restored s": t_enrolled, "to serving s": t_serving,
            "baseline restart s": t_restart, "over baseline s": t_serving - t_restart,
            "db MB": (data / "edge.db").stat().st_size / 2**20, "output": out.stdout.strip().splitlines()[:1]}


def busy_month(hub, work, entries, days, seed):
    """The old box: a month of work generated, registered, pushed to the hub (not timed)."""
    month, old = work / "month", work / f"old-box-{hub.port}"
    if not (month / "edge.db").exists():  # generated once, copied for each hub
        t0 = time.perf_counter()
        db, key, calendar, counts = generate(month, entries, days, seed)
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        print(f"busy month: {len(counts):,} change-log entries over {len(calendar)} office days generated in "
              f"{time.perf_counter() - t0:.1f} s (not measured)")
    shutil.copytree(month, old)
    db, key, _, counts = load_backlog(old)
    hub.register(old)
    with using(db):
        client = HubClient(hub.url, key, this_node().node_id, timeout=120)
        sent, t0 = 0, time.perf_counter()
        while sync_box.pending_count():
            sent += sync_box.push(client, key, 2000, budget_s=600)
        print(f"pushed {sent:,} entries to the hub in {time.perf_counter() - t0:.1f} s")
    db.close()
    return len(counts)


def one_hub(label, work, database_url, args):
    """Both runs against a hub of ``label``: each on a hub of its own (a blank box enrolled
    first would make the commune's office and services the busy month's box collides with)."""
    rows = []
    for run, url in (("blank", database_url), ("replacement", database_url and database_url + "_r")):
        if url and url != database_url:
            pg_execute(f"CREATE SCHEMA {url.rsplit('%3D', 1)[1]}")
        hub = Hub(work / f"hub-{label}-{run}", url)
        hub.start()
        try:
            if run == "blank":
                rows.append(provision_run(hub, work, f"blank-{label}", f"blank box, {label} hub"))
            else:
                busy_month(hub, work, args.entries, args.days, args.seed)
                rows.append(provision_run(hub, work, f"replacement-{label}", f"replacement, busy month, {label} hub"))
        finally:
            hub.stop()
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=30000, help="change-log entries of the busy month (a floor)")
    parser.add_argument("--days", type=int, default=22, help="office days of the busy month")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", action="store_true", help=f"also a round with a PostgreSQL hub ({PG_URL})")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-provision-"))
    print(f"work dir {work}; {os.cpu_count()} CPUs shared by hub, box and this script")
    rows, schema = [], None
    try:
        rows += one_hub("SQLite", work, "", args)
        if args.postgres and pg_available():
            schema = f"bench_provision_{os.getpid()}"
            pg_execute(f"CREATE SCHEMA {schema}")
            rows += one_hub("PostgreSQL", work, f"{PG_URL}?options=-csearch_path%3D{schema}", args)
        for row in rows:
            row.pop("output")
        print_table("Provisioning (seconds from the bundle found / the box plugged in)", rows)
    finally:
        if schema:
            for name in (schema, schema + "_r"):
                pg_execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
