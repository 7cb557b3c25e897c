"""Fleet benchmark: a province's boxes come back after a three-day outage and push at once.

N simulated boxes, each with its own key, commune and SQLite database holding a three-day
backlog written by the real office code (tickets, events, ratings, dossiers and their notices),
are registered at a hub run the scale-out way (gunicorn with several web workers on a PostgreSQL
database of its own, ``motcua hub worker`` processes on Redis). Then every box runs the real
``sync.box.push`` at the same moment (one thread each, the real batch size), while a citizen's
tracking page and an operator's statistics page are asked every ~200 ms. Prints the drain time,
entries/s, the probes' p99 beside an idle baseline, peak PostgreSQL connections and errors by
kind; checks that the hub holds every entry. Prints figures, asserts nothing.

Usage: .venv/bin/python bench/fleet.py [--boxes 10,100,300] [--tickets 20-120] [--push-limit 4]
"""
import argparse
import concurrent.futures
import contextlib
import importlib.util
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from types import SimpleNamespace

# Run as a script, this folder comes first on sys.path, where bench/sync.py would shadow the
# project's ``sync`` package and bench/queue.py the standard library's ``queue``: take it off.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from peewee import SqliteDatabase  # noqa: E402

from office import dossiers, queue  # noqa: E402
from office.calendar import WorkCalendar  # noqa: E402
from office.catalog_sample import sample  # noqa: E402
from office.communes import all_communes, find_commune  # noqa: E402
from office.db import bind, database, open_database  # noqa: E402
from office.models import MODELS, Officer  # noqa: E402
from office.seed import agency_code, seed_office  # noqa: E402
from provisioning.identity import ensure_identity, ensure_key, public_path  # noqa: E402
from sync import box as sync_box  # noqa: E402
from sync.capture import this_node  # noqa: E402
from sync.client import HubBusy, HubRefused, HubUnreachable  # noqa: E402
from sync.models import SyncNode  # noqa: E402
from sync.protocol import encode_batch  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_sync", Path(__file__).with_name("sync.py"))
bench_sync = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_sync)  # the office-day simulation and small helpers of bench/sync.py

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
OPERATOR = ("fleet-ops", "fleet-bench-password-1")
PROBE_EVERY_S = 0.2
CACHE_VERSION = 2  # bump when the backlog's shape changes


# ---- backlogs: one SQLite box per commune, written by the real office code ---------------------

def communes(n):
    """``n`` communes spread over provinces (a province's worth first, then the next)."""
    return sorted(all_communes())[:n]


def backlog_key(args):
    return f"v{CACHE_VERSION}-d{args.days}-t{args.tickets}-o{args.dossiers}-s{args.seed}"


def make_box(task):
    """Generate one box (run in a worker process): the office as the hub last saw it, then
    ``days`` office days of queue and desk work. Returns (commune, prefix seq, last seq)."""
    box_dir, commune_code, days, tickets, dossiers_per_day, seed = task
    box_dir = Path(box_dir)
    done = box_dir / "backlog.json"
    if done.exists():
        return json.loads(done.read_text())
    shutil.rmtree(box_dir, ignore_errors=True)
    box_dir.mkdir(parents=True)
    db = open_database(str(box_dir / "edge.db"))
    with bench_sync.using(db):
        bind(db, MODELS)
        ensure_identity(box_dir, commune_code)
        commune = find_commune(commune_code)
        seed_office(commune)
        rng = random.Random(f"{seed}-{commune_code}")
        calendar, agency = WorkCalendar(), agency_code(commune)
        procedures = [SimpleNamespace(code=row["code"], name=row["name"], hours=0, days=row["ways"][0]["days"])
                      for row in sample(20)]
        officers = list(Officer.select().order_by(Officer.username))
        office_days = bench_sync.office_days(days + 5)
        # what the hub already held before the outage: the office, and a dossier received a week ago
        before = datetime.combine(office_days[0], dtime(9, 0))  # office-local time
        tracked = dossiers.receive(calendar, procedures[0], {"name": "Nguyễn Văn Tra Cứu"}, agency,
                                   officer=officers[0].username, now=before)
        prefix = this_node().last_seq
        policy = queue.QueuePolicy()
        low, high = (int(x) for x in tickets.split("-"))
        for day in office_days[-days:]:
            with database.atomic():  # one commit per day: generating is not what is measured
                bench_sync.OfficeDay(policy, rng, day, rng.randint(low, high), officers).run()
                _desk_day(rng, calendar, procedures, agency, officers, day, dossiers_per_day)
        result = {"commune": commune_code, "prefix": prefix, "last": this_node().last_seq,
                  "tracking": [tracked.code, tracked.tracking_secret]}
    db.close()
    done.write_text(json.dumps(result))
    return result


def _desk_day(rng, calendar, procedures, agency, officers, day, count):
    """A day at the dossier desk: receipts (half with a phone: a notice to the citizen), some
    sent on to a stage, some finished, a few asked for papers; times in office-local hours."""
    for i in range(count):
        now = datetime.combine(day, dtime(8, 0)) + timedelta(minutes=20 * i)  # office-local time
        officer = rng.choice(officers).username
        phone = f"09{rng.randrange(10**8):08d}" if rng.random() < 0.5 else ""
        dossier = dossiers.receive(calendar, rng.choice(procedures), {"name": f"Công dân {i + 1}", "phone": phone},
                                   agency, officer=officer, now=now, components=[{"name": "Tờ khai", "copies": 1}])
        roll = rng.random()
        if roll < 0.1:
            dossiers.request_supplement(dossier, "Thiếu bản sao giấy khai sinh", actor=officer,
                                        now=now + timedelta(hours=2))
        elif roll < 0.6:
            dossiers.transfer(dossier, "Thẩm định hồ sơ", handler=officer, actor=officer, now=now + timedelta(hours=1))
            if roll < 0.35:
                dossiers.finish(dossier, actor=officer, now=now + timedelta(hours=3), note="Đã ký")


def prepare_backlogs(args, n):
    """{commune: backlog info} of ``n`` boxes, generated once into the cache dir (two processes)."""
    cache = Path(args.cache) / backlog_key(args)
    tasks = [(str(cache / code), code, args.days, args.tickets, args.dossiers, args.seed) for code in communes(n)]
    missing = [t for t in tasks if not (Path(t[0]) / "backlog.json").exists()]
    t0 = time.perf_counter()
    if missing:
        print(f"generating {len(missing)} box backlogs into {cache} ...", flush=True)
        with concurrent.futures.ProcessPoolExecutor(args.gen_processes,
                                                    mp_context=multiprocessing.get_context("spawn")) as pool:
            list(pool.map(make_box, missing, chunksize=4))
    infos = {t[1]: make_box(t) for t in tasks}
    if missing:
        print(f"  generated in {time.perf_counter() - t0:.0f} s", flush=True)
    return cache, infos


# ---- the hub: PostgreSQL database of its own, gunicorn web workers, Redis huey workers ----------

class FleetHub:
    def __init__(self, root, args, label):
        self.dir = Path(root) / "hub"
        self.dir.mkdir(parents=True)
        self.dbname = f"fleet_bench_{os.getpid()}_{label}"
        self.db_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + self.dbname
        self.port = bench_sync._free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs = []
        self.args = ["--data-dir", str(self.dir), "--database", self.db_url, "--operator-password", "fleet-admin-1",
                     "--log-level", "WARNING", "--redis-url", REDIS_URL, "--redis-queue", f"fleet-{self.dbname}",
                     "--trusted-proxies", "1", "--web-workers", str(args.web_workers),
                     "--web-threads", str(args.web_threads), "--citizen-channels", "log"]
        if args.push_limit is not None:
            self.args += ["--push-concurrency", str(args.push_limit)]
        if args.push_retry is not None:
            self.args += ["--push-retry-seconds", str(args.push_retry)]
        self.workers = args.hub_workers

    def start(self):
        pg_admin(f'CREATE DATABASE "{self.dbname}"')
        log = open(self.dir / "hub.log", "ab")
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "motcua", "hub", "serve", "--port", str(self.port), *self.args], cwd=ROOT,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + 60
        while True:
            if self.procs[0].poll() is not None:
                raise RuntimeError("the hub exited at start: " + (self.dir / "hub.log").read_text()[-2000:])
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the hub did not answer in 60 s")
            time.sleep(0.2)
        for _ in range(self.workers):
            self.procs.append(subprocess.Popen([sys.executable, "-m", "motcua", "hub", "worker", *self.args], cwd=ROOT,
                                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        log.close()
        return self

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs = []

    def drop(self):
        pg_admin(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')

    def cpu(self):
        return sum(bench_sync.tree_cpu(p.pid) for p in self.procs)


def pg_admin(sql):
    import psycopg2

    conn = psycopg2.connect(PG_ADMIN)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def register_fleet(hub, boxes):
    """Register every box's key and an operator account, through the hub's own functions."""
    from central.accounts import create_account
    from central.app import HUB_MODELS
    from central.fleet import register_box

    db = open_database(hub.db_url)
    with bench_sync.using(db):
        bind(db, HUB_MODELS)
        for box in boxes:
            register_box(box.commune, public_path(box.dir).read_text())
        create_account(OPERATOR[0], "operator", password=OPERATOR[1], must_change=False)
    db.close()


# ---- the boxes: each thread its own box database behind the one model proxy -----------------

class PerThreadDatabase:
    """What ``office.db.database`` points at during the storm: each thread's own box database,
    so the real ``sync.box`` code runs for many boxes at once in one process. A thread with no box
    yet (the one binding the proxy: peewee asks the database for its binary type) sees an unopened
    SQLite database."""

    def __init__(self):
        self.local = threading.local()
        self.unbound = SqliteDatabase(None)

    def use(self, db):
        self.local.db = db

    def __getattr__(self, name):
        return getattr(getattr(self.local, "db", self.unbound), name)


class SimBox:
    def __init__(self, root, cached, info, hub_url):
        self.dir = Path(root) / info["commune"]
        shutil.copytree(cached, self.dir)  # a fresh copy each run: the push moves acked_seq
        self.commune, self.prefix, self.last = info["commune"], info["prefix"], info["last"]
        self.tracking = info["tracking"]
        self.settings = {"hub_url": hub_url, "data_dir": str(self.dir)}  # sync_timeout: the box's default, 20 s
        self.key = ensure_key(self.dir)
        self.db = None
        self.stats = {"attempts": 0, "busy": 0, "errors": {}, "done_at": None, "entries": self.last - self.prefix,
                      "last_ack": None}

    def open(self, router):
        self.db = open_database(str(self.dir / "edge.db"))
        router.use(self.db)

    def push_prefix(self, router):
        """What the hub had before the outage: the entries up to ``prefix``, in one batch."""
        self.open(router)
        client = sync_box.client_for(self.settings, self.key)
        node = this_node()
        rows = sync_box._unsent(node, self.prefix)
        for _ in range(100):
            body, signature = encode_batch(node.node_id, rows, self.key, node.clock, at_ms=client.hub_now_ms())
            try:
                status, answer = client.push(body, signature)
                break
            except HubBusy as exc:
                time.sleep(exc.retry_after / 4)  # not measured: no need to wait the whole time
        if status != 200:
            raise RuntimeError(f"pre-outage push of {self.commune} refused: {status} {answer}")
        SyncNode.update(acked_seq=int(answer["acked_seq"])).execute()
        self.db.close()

    def drain(self, router, started, deadline, batch, period=60.0):
        """The box's worker after the network came back, run as ``edge.tasks.sync_periodic``
        runs it: a push every ``period`` seconds with a budget of one period (inside it the box
        waits out a busy hub's Retry-After and sends again), skipped while ``sync.box.due`` says
        to back off after a failure (a busy hub is not one)."""
        self.open(router)
        client = sync_box.client_for(self.settings, self.key)
        client.push = self._counting(client.push)
        failures, failed_at, rng = 0, None, random.Random(self.commune)
        tick = started
        try:
            while tick < deadline:
                time.sleep(max(tick - time.monotonic(), 0))
                tick += period
                if failures and time.monotonic() < failed_at + min(10 * 2 ** min(failures, 10), 900) * rng.uniform(0.5, 1):
                    continue  # sync.box.due(): still backing off
                self.stats["attempts"] += 1
                try:
                    sync_box.push(client, self.key, batch_size=batch,
                                  budget_s=min(period, max(deadline - time.monotonic(), 0.1)))
                except HubBusy as exc:
                    self._error(exc)  # the next run, without a longer backoff
                except (HubUnreachable, HubRefused, sync_box.SyncFailed) as exc:
                    self._error(exc)
                    failures, failed_at = failures + 1, time.monotonic()
                else:
                    failures = 0
                if sync_box.pending_count() == 0:
                    self.stats["done_at"] = time.monotonic() - started
                    break
        finally:
            self.db.close()

    def _error(self, exc):
        kind = type(exc).__name__ + (f" {exc.status}" if isinstance(exc, HubRefused) else
                                     f": {getattr(exc, 'message', None) or exc}")
        self.stats["errors"][kind] = self.stats["errors"].get(kind, 0) + 1

    def _counting(self, push):
        def counted(body, signature):
            try:
                answer = push(body, signature)
                self.stats["last_ack"] = time.monotonic()
                return answer
            except HubBusy:
                self.stats["busy"] += 1  # sync.box.push waits Retry-After and sends again
                raise
        return counted


# ---- probes: a citizen's tracking page and an operator's statistics page ----------------------

def browser_session():
    """A keep-alive session that, like a browser, sends a GET once more when the server had just
    closed the idle connection it was sent on (not counted as an error; a second failure is)."""
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=Retry(total=1, connect=1, read=1, status=0, redirect=0)))
    return session


class Probe(threading.Thread):
    def __init__(self, name, session, url, headers=None):
        super().__init__(daemon=True)
        self.name_, self.session, self.url, self.headers = name, session, url, headers
        self.samples, self.errors, self.phase = {}, {}, "warm-up"
        self.stop_event = threading.Event()

    def run(self):
        n = 0
        while not self.stop_event.is_set():
            n += 1
            headers = self.headers(n) if callable(self.headers) else self.headers
            t0 = time.perf_counter()
            try:
                response = self.session.get(self.url, headers=headers, timeout=30)
                kind = None if response.status_code == 200 else f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                kind = type(exc).__name__
            took = time.perf_counter() - t0
            self.samples.setdefault(self.phase, []).append(took)
            if kind:
                bucket = self.errors.setdefault(self.phase, {})
                bucket[kind] = bucket.get(kind, 0) + 1
            self.stop_event.wait(max(PROBE_EVERY_S - took, 0))


def citizen_probe(hub, box):
    code, secret = box.tracking
    url = f"{hub.url}/tracking?code={code}&secret={secret}"
    # every look-up from another phone: the hub counts 30 a minute per address (X-Forwarded-For)
    return Probe("tracking", browser_session(), url,
                 headers=lambda n: {"X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"})


def operator_probe(hub):
    session = browser_session()
    page = session.get(hub.url + "/signin", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = session.post(hub.url + "/signin", data={"name": OPERATOR[0], "password": OPERATOR[1],
                                                     "csrf_token": token},
                          headers={"Origin": hub.url}, allow_redirects=False, timeout=30)
    if answer.status_code != 303:
        raise RuntimeError(f"operator sign-in failed: {answer.status_code}")
    return Probe("stats", session, hub.url + "/stats")


class PgConnections(threading.Thread):
    """Samples the hub database's connections (pg_stat_activity) every 200 ms."""

    def __init__(self, dbname):
        super().__init__(daemon=True)
        self.dbname, self.peak, self.peak_active, self.stop_event = dbname, 0, 0, threading.Event()

    def run(self):
        import psycopg2

        conn = psycopg2.connect(PG_ADMIN)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not self.stop_event.is_set():
                    cur.execute("SELECT count(*), count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity "
                                "WHERE datname = %s", (self.dbname,))
                    total, active = cur.fetchone()
                    self.peak, self.peak_active = max(self.peak, total), max(self.peak_active, active)
                    self.stop_event.wait(0.2)
        finally:
            conn.close()


# ---- one round -------------------------------------------------------------------------------

def pct(values, p):
    if not values:
        return math.nan
    values = sorted(values)
    return values[min(len(values) - 1, math.ceil(p / 100 * len(values)) - 1)]


def run_round(args, n):
    cache, infos = prepare_backlogs(args, n)
    root = Path(tempfile.mkdtemp(prefix=f"motcua-fleet-{n}-"))
    hub = FleetHub(root, args, n)
    router, previous = PerThreadDatabase(), database.obj
    result = {"boxes": n}
    try:
        hub.start()
        boxes = [SimBox(root / "boxes", cache / code, info, hub.url) for code, info in infos.items()]
        register_fleet(hub, boxes)
        database.initialize(router)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:  # before the outage: not measured
            list(pool.map(lambda b: b.push_prefix(router), boxes))
        probes = [citizen_probe(hub, boxes[0]), operator_probe(hub)]
        pg = PgConnections(hub.dbname)
        for thread in (*probes, pg):
            thread.start()
        time.sleep(2)  # every web worker has answered a few times
        for probe in probes:
            probe.phase = "idle"
        time.sleep(args.baseline)  # the idle hub, for the in-run baseline
        pg_idle_peak, pg.peak, pg.peak_active = pg.peak, 0, 0
        for probe in probes:
            probe.phase = "storm"
        cpu0 = hub.cpu()
        started = time.monotonic()
        deadline = started + args.time_limit
        threads = [threading.Thread(target=b.drain, args=(router, started, deadline, args.batch), daemon=True)
                   for b in boxes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(deadline - time.monotonic(), 0) + 90)
        drained = time.monotonic() - started
        for probe in probes:
            probe.phase = "after"
        hub_cpu = hub.cpu() - cpu0
        time.sleep(min(args.baseline, 2))
        for thread in (*probes, pg):
            thread.stop_event.set()
        for thread in (*probes, pg):
            thread.join(35)
        result.update(summarise(boxes, probes, pg, pg_idle_peak, drained, hub_cpu))
        acks = [b.stats["last_ack"] for b in boxes if b.stats["last_ack"] is not None]
        result["last ack s"] = max(acks) - started if acks else math.nan
        result["check"] = check_hub(hub, boxes)
        result["confirmed/s"] = (result["check"]["hub entries"] - sum(b.prefix for b in boxes)) / result["last ack s"]
    finally:
        database.initialize(previous)
        hub.stop()
        if args.keep:
            print(f"kept {root} and database {hub.dbname}")
        else:
            with contextlib.suppress(Exception):
                hub.drop()
            shutil.rmtree(root, ignore_errors=True)
    return result


def summarise(boxes, probes, pg, pg_idle_peak, drained, hub_cpu):
    done = [b.stats["done_at"] for b in boxes if b.stats["done_at"] is not None]
    entries = sum(b.stats["entries"] for b in boxes)
    errors = {}
    for b in boxes:
        for kind, count in b.stats["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    out = {"entries": entries, "drained boxes": len(done), "drain s": max(done) if len(done) == len(boxes) else math.nan,
           "box p50 s": pct(done, 50), "wall s": drained, "busy answers": sum(b.stats["busy"] for b in boxes),
           "box errors": errors, "pg peak": pg.peak, "pg peak active": pg.peak_active, "pg idle peak": pg_idle_peak,
           "hub cpu s": hub_cpu}
    out["entries/s"] = entries / out["drain s"] if done and len(done) == len(boxes) else math.nan
    for probe in probes:
        for phase in ("idle", "storm"):
            samples = probe.samples.get(phase, [])
            out[f"{probe.name_} {phase} p50 ms"] = 1000 * pct(samples, 50)
            out[f"{probe.name_} {phase} p99 ms"] = 1000 * pct(samples, 99)
            out[f"{probe.name_} {phase} max ms"] = 1000 * max(samples, default=math.nan)
            out[f"{probe.name_} {phase} n"] = len(samples)
            out[f"{probe.name_} {phase} errors"] = probe.errors.get(phase, {})
    return out


def check_hub(hub, boxes):
    """Every entry of every box is in the hub's change log, once, and nothing is held."""
    rows = dict((origin, (count, top)) for origin, count, top in pg_query(
        hub, "SELECT origin, count(*), max(seq) FROM change_entry GROUP BY origin"))
    held = pg_query(hub, "SELECT count(*) FROM held_entry")[0][0]
    missing = 0
    for b in boxes:
        count, top = rows.get(_node_id(b), (0, 0))
        missing += b.last - count
    return {"missing entries": missing, "held": held, "hub entries": sum(c for c, _ in rows.values())}


def _node_id(box):
    from sync.keys import node_id

    return node_id(box.key)


def pg_query(hub, sql):
    import psycopg2

    conn = psycopg2.connect(hub.db_url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


def report(results, args):
    limit = "the hub default (2)" if args.push_limit is None else args.push_limit or "none"
    retry = "the hub default (10)" if args.push_retry is None else args.push_retry
    print(f"\nFleet storm: {args.days} office days of backlog per box ({args.tickets} tickets/day, "
          f"{args.dossiers} dossiers/day), batches of {args.batch}, hub: {args.web_workers} web workers x "
          f"{args.web_threads} threads, {args.hub_workers} Redis workers, push limit {limit}, retry after {retry} s")
    rows = []
    for r in results:
        rows.append({"boxes": r["boxes"], "entries": r["entries"], "drain s": r["drain s"], "entries/s": r["entries/s"],
                     "last ack s": r["last ack s"], "acked/s": r["confirmed/s"],
                     "box p50 s": r["box p50 s"], "503 busy": r["busy answers"],
                     "track idle p99": r["tracking idle p99 ms"], "track storm p50": r["tracking storm p50 ms"],
                     "track storm p99": r["tracking storm p99 ms"], "stats idle p99": r["stats idle p99 ms"],
                     "stats storm p50": r["stats storm p50 ms"], "stats storm p99": r["stats storm p99 ms"],
                     "pg conns peak": r["pg peak"], "pg active peak": r["pg peak active"], "hub cpu s": r["hub cpu s"],
                     "missing": r["check"]["missing entries"], "held": r["check"]["held"]})
    bench_sync.print_table("Drain and probes (ms)", rows)
    for r in results:
        print(f"\n{r['boxes']} boxes: drained {r['drained boxes']}/{r['boxes']} (round stopped after {r['wall s']:.0f} s); "
              f"box errors {r['box errors'] or 'none'}; "
              f"probe errors during the storm: tracking {r['tracking storm errors'] or 'none'}, "
              f"stats {r['stats storm errors'] or 'none'}; probes during the storm: "
              f"{r['tracking storm n']} + {r['stats storm n']}; pg connections idle {r['pg idle peak']}")
    print("\nTargets: probe p99 during the storm < 1,000 ms; no probe error; no entry missing.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boxes", default="10", help="comma-separated fleet sizes, e.g. 10,100,300")
    parser.add_argument("--days", type=int, default=3, help="office days of backlog per box")
    parser.add_argument("--tickets", default="20-120", help="tickets per office day, drawn per box and day")
    parser.add_argument("--dossiers", type=int, default=8, help="dossiers received per office day")
    parser.add_argument("--batch", type=int, default=2000, help="entries per pushed batch (sync_batch_size)")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--web-threads", type=int, default=8)
    parser.add_argument("--hub-workers", type=int, default=2, help="`motcua hub worker` processes on Redis")
    parser.add_argument("--push-limit", type=int, default=None,
                        help="the hub's push_concurrency setting (default: the hub's default)")
    parser.add_argument("--push-retry", type=int, default=None,
                        help="the hub's push_retry_seconds setting (default: the hub's default)")
    parser.add_argument("--baseline", type=float, default=5.0, help="seconds of probes on the idle hub first")
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds a round may drain at most")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "motcua-fleet-cache"),
                        help="where generated backlogs are kept for later runs")
    parser.add_argument("--gen-processes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs and the hub databases")
    parser.add_argument("--generate-only", action="store_true", help="only fill the backlog cache")
    args = parser.parse_args()
    if args.generate_only:
        for n in (int(x) for x in args.boxes.split(",")):
            prepare_backlogs(args, n)
        return
    results = []
    for n in (int(x) for x in args.boxes.split(",")):
        print(f"\n== {n} boxes ==", flush=True)
        results.append(run_round(args, n))
        report(results[-1:], args)
    if len(results) > 1:
        report(results, args)


if __name__ == "__main__":
    main()
