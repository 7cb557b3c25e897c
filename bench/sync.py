"""Replication benchmark: one box drains a 30-day offline backlog into a hub over HTTP.

Generates a realistic backlog on a box database (tickets, their events and ratings over 30
office days, through ``office.queue`` with explicit ``now=``), starts ``motcua hub serve``
(SQLite; with ``--postgres`` a second round on PostgreSQL), registers the box, and times
``sync.box.push`` until nothing is pending: batch build -> HTTP -> verify -> merge -> commit.
Compares with the raw ceiling: stdlib ``sqlite3`` (and psycopg2) ``executemany`` upserts of
the same typed rows in one transaction. Prints figures, asserts nothing.
Usage: .venv/bin/python bench/sync.py [--entries 50000] [--batch 2000] [--postgres]
       [--profile] [--backlog DIR] [--keep]
"""
import argparse
import contextlib
import cProfile
import gc
import gzip
import heapq
import io
import itertools
import json
import math
import os
import pstats
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from hashlib import sha256
from pathlib import Path
from zoneinfo import ZoneInfo

# Run as a script, this folder comes first on sys.path, where this file would shadow the
# project's ``sync`` package and bench/queue.py the standard library's ``queue``: take it off.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from central.app import HUB_MODELS
from office import queue, ratings
from office.communes import find_commune
from office.db import bind, database, open_database
from office.models import MODELS, Counter, Officer, Ticket
from office.seed import seed_office
from provisioning.identity import ensure_identity, ensure_key, public_path
from sync import box as sync_box
from sync import protocol
from sync.apply import table_order
from sync.capture import now_ms, replicated_models, this_node
from sync.client import HubClient
from sync.models import ChangeEntry, SyncNode
from sync.policy import APPEND

COMMUNE = "05518"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
OPERATOR_PASSWORD = "bench-operator"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
SESSIONS = ((dtime(7, 30), dtime(11, 30)), (dtime(13, 30), dtime(17, 0)))  # office hours, local
SERVICE_MIX = {"ho-tich": 35, "chung-thuc": 30, "dat-dai": 15, "tu-phap": 10, "ldtbxh": 10}
WEEKDAY_LOAD = (1.25, 1.0, 1.0, 0.9, 0.85)  # Monday is the busiest
ENTRIES_PER_TICKET = 8.7  # first guess; each day re-estimates it from the log
TARGET_RATIO, TARGET_SECONDS = 0.5, 10.0
FUTURE_BOUND_MS = 300 * 1000


# ---- helpers -----------------------------------------------------------------------------

def print_table(title, rows):
    cells = [[_cell(v) for v in r.values()] for r in rows]
    heads = list(rows[0])
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    print(f"\n{title}")
    for line in [heads, *cells]:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))


def _cell(v):
    if isinstance(v, float):
        return "n/a" if math.isnan(v) else f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)


def settle():
    """Collect, then move what this process holds (the backlog, rows read back) out of the
    collector's sight: a real box or hub process does not carry them, and every full
    collection would walk them."""
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def using(db):
    """Point the shared model proxy at ``db`` for a while."""
    previous = database.obj
    database.initialize(db)
    try:
        yield db
    finally:
        if previous is not None:
            database.initialize(previous)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid):
    """(ppid, comm, cpu seconds) of a process, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text.rpartition(")")[2].split()
    return int(fields[1]), comm, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _all_stats():
    return {int(d.name): st for d in Path("/proc").iterdir() if d.name.isdigit() and (st := _stat(d.name))}


def tree_cpu(root_pid):
    """CPU seconds of a process and all its descendants."""
    stats = _all_stats()
    tree, total = [root_pid], 0.0
    for pid in tree:
        tree += [child for child, st in stats.items() if st[0] == pid]
        total += stats[pid][2] if pid in stats else 0.0
    return total


def postgres_cpu():
    """CPU seconds of every PostgreSQL server process on this machine (the server is shared)."""
    return sum(st[2] for st in _all_stats().values() if st[1] == "postgres")


def pg_url(schema=""):
    return PG_URL + (f"?options={urllib.parse.quote('-csearch_path=' + schema)}" if schema else "")


def pg_available():
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return False
    return True


def pg_execute(sql, schema=""):
    import psycopg2

    conn = psycopg2.connect(PG_URL, **({"options": f"-csearch_path={schema}"} if schema else {}))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


# ---- the backlog: 30 office days of a commune office --------------------------------------

def office_days(count, end=None):
    """The last ``count`` weekdays before ``end`` (default today), oldest first."""
    day, days = (end or date.today()) - timedelta(days=1), []
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def _utc(day, clock):
    return datetime.combine(day, clock, LOCAL).astimezone(UTC).replace(tzinfo=None)


class OfficeDay:
    """One day of three counters calling, serving and closing tickets, as a discrete-event run."""

    def __init__(self, policy, rng, day, tickets, officers):
        self.policy, self.rng, self.day, self.officers = policy, rng, day, officers
        self.events, self.order = [], itertools.count()
        self.open, self.idle, self.signed = {}, set(), set()
        self.counters = {c.number: c.id for c in Counter.select()}
        self.codes = list(SERVICE_MIX)
        sessions = [(_utc(day, a), _utc(day, b)) for a, b in SESSIONS]
        self.end = sessions[-1][1]
        minutes = sum((b - a).total_seconds() / 60 for a, b in sessions)
        # busy but servable: tickets left at closing time are cancelled, as in real life
        self.service_s = 60 * min(8.0, max(1.0, 0.55 * len(self.counters) * minutes / max(tickets, 1)))
        for start, stop in sessions:
            for number in self.counters:
                self.at(start, "open", number)
                self.at(stop, "close", number)
            share = round(tickets * (stop - start) / sum((b - a for a, b in sessions), timedelta()))
            for _ in range(share):
                t = start + timedelta(seconds=rng.uniform(0, (stop - start).total_seconds() - 60))
                code = rng.choices(self.codes, weights=list(SERVICE_MIX.values()))[0]
                priority = rng.choice(list(policy.priority_categories)) if rng.random() < 0.08 else None
                self.at(t, "arrive", code, priority)

    def at(self, t, kind, *args):
        heapq.heappush(self.events, (t, next(self.order), kind, args))

    def run(self):
        while self.events:
            t, _, kind, args = heapq.heappop(self.events)
            getattr(self, "_" + kind)(t, *args)
        closing = self.end + timedelta(minutes=5)
        for ticket in queue.waiting_tickets(self.policy, now=self.end):
            queue.cancel(ticket.id, now=closing)
        for number in sorted(self.signed):
            queue.sign_out(self.counters[number])

    def _open(self, t, number):
        self.open[number] = True
        if number not in self.signed:
            queue.sign_in(number, self.officers[number - 1], now=t)
            self.signed.add(number)
        self._next(t, number)

    def _close(self, t, number):
        self.open[number] = False

    def _arrive(self, t, code, priority):
        queue.issue_ticket(self.policy, code, priority=priority, now=t)
        for number in sorted(self.idle):
            self._next(t, number)

    def _next(self, t, number):
        cid, rng = self.counters[number], self.rng
        if not self.open.get(number):
            if queue.current_ticket(cid) is not None:
                queue.no_show(cid, now=t)
            self.idle.discard(number)
            return
        ticket = queue.call_next(self.policy, cid, now=t, absent_current=True)  # closes an absent citizen's ticket
        if ticket is None:
            self.idle.add(number)
            return
        self.idle.discard(number)
        if rng.random() < 0.03:  # nobody comes: recalled once, then the next number
            self.at(t + timedelta(seconds=60), "recall", number)
            self.at(t + timedelta(seconds=150), "next", number)
            return
        transfer = ticket.transfers == 0 and rng.random() < 0.02
        self.at(t + timedelta(seconds=rng.uniform(15, 75)), "serve", number, ticket.id, transfer)

    def _recall(self, t, number):
        queue.recall(self.counters[number], now=t)

    def _serve(self, t, number, ticket_id, transfer):
        queue.start_serving(self.counters[number], now=t)
        took = timedelta(seconds=self.service_s * self.rng.uniform(0.4, 1.6))
        if transfer:
            self.at(t + took / 3, "transfer", number)
        else:
            self.at(t + took, "finish", number, ticket_id)

    def _transfer(self, t, number):
        current = queue.current_ticket(self.counters[number])
        other = self.rng.choice([c for c in self.codes if c != current.service.code])
        queue.transfer(self.counters[number], service_code=other, now=t)
        self.at(t + timedelta(seconds=20), "next", number)

    def _finish(self, t, number, ticket_id):
        queue.finish(self.counters[number], now=t)
        if self.rng.random() < 0.7:
            self.at(t + timedelta(seconds=self.rng.uniform(3, 40)), "rate", ticket_id)
        self.at(t + timedelta(seconds=self.rng.uniform(15, 60)), "next", number)

    def _rate(self, t, ticket_id):
        score = self.rng.choices((3, 2, 1), weights=(60, 30, 10))[0]
        reason = "Chờ lâu, cán bộ giải thích chưa rõ." if score == 1 and self.rng.random() < 0.5 else ""
        ratings.rate(ticket_id, score, reason=reason, source=self.rng.choice(("screen", "keypad")), now=t)


def generate(box_dir, entries, days, seed):
    """A seeded box in ``box_dir`` with >= ``entries`` change-log entries over ``days`` office days."""
    db = open_database(str(box_dir / "edge.db"))
    with using(db):
        bind(db, MODELS)
        ensure_identity(box_dir, COMMUNE)
        seed_office(find_commune(COMMUNE))
        key = ensure_key(box_dir)
        rng = random.Random(seed)
        policy = queue.QueuePolicy()
        officers = list(Officer.select().order_by(Officer.username))
        calendar = office_days(days)
        weights = [WEEKDAY_LOAD[d.weekday()] for d in calendar]
        per_ticket = ENTRIES_PER_TICKET
        start_seq, tickets_made = this_node().last_seq, 0
        for i, day in enumerate(calendar):
            made = this_node().last_seq
            left = max(entries * 1.01 - made, 0)  # a little over: the target is a floor
            tickets = math.ceil(left * weights[i] / sum(weights[i:]) / per_ticket)
            with database.atomic():  # one commit per day: generating is not what is measured
                OfficeDay(policy, rng, day, tickets, officers).run()
            tickets_made += Ticket.select().where(Ticket.day == policy.local_day(_utc(day, dtime(12)))).count()
            per_ticket = max((this_node().last_seq - start_seq) / max(tickets_made, 1), 1.0)
        counts = list(ChangeEntry.select(ChangeEntry.table, ChangeEntry.op, ChangeEntry.id)
                      .tuples().iterator())
    return db, key, calendar, counts


def load_backlog(box_dir):
    """A backlog saved by an earlier run (``--backlog``)."""
    db = open_database(str(box_dir / "edge.db"))
    with using(db):
        bind(db, MODELS)
        days = [r[0] for r in Ticket.select(Ticket.day).distinct().order_by(Ticket.day).tuples()]
        counts = list(ChangeEntry.select(ChangeEntry.table, ChangeEntry.op, ChangeEntry.id).tuples().iterator())
    return db, ensure_key(box_dir), days, counts


def backlog_table(counts):
    by = {}
    for table, op, _ in counts:
        by.setdefault(table, {"insert": 0, "update": 0, "delete": 0})[op] += 1
    rows = [{"table": t, "insert": v["insert"], "update": v["update"], "delete": v["delete"],
             "entries": sum(v.values())} for t, v in sorted(by.items(), key=lambda kv: -sum(kv[1].values()))]
    rows.append({"table": "total", "insert": sum(r["insert"] for r in rows), "update": sum(r["update"] for r in rows),
                 "delete": sum(r["delete"] for r in rows), "entries": sum(r["entries"] for r in rows)})
    return rows


# ---- the hub process -----------------------------------------------------------------------

class Hub:
    """``motcua hub serve`` in its own session, on SQLite or PostgreSQL."""

    def __init__(self, data_dir, database_url=""):
        self.dir, self.port, self.proc = Path(data_dir), _free_port(), None
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = ["--data-dir", str(self.dir), "--operator-password", OPERATOR_PASSWORD, "--log-level", "WARNING"]
        if database_url:
            self.args += ["--database", database_url]
        self.dir.mkdir(parents=True, exist_ok=True)

    def _motcua(self, *args):
        return subprocess.run([sys.executable, "-m", "motcua", "hub", *args, *self.args], cwd=ROOT, check=True,
                              capture_output=True, text=True)

    def start(self, timeout=30):
        with open(self.dir / "hub.log", "ab") as log:  # the child keeps its own copy of the fd
            self.proc = subprocess.Popen([sys.executable, "-m", "motcua", "hub", "serve", "--port", str(self.port),
                                          *self.args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("the hub exited at start: " + (self.dir / "hub.log").read_text()[-2000:])
            try:
                with urllib.request.urlopen(self.url + "/api/v1/health", timeout=1):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no answer on port {self.port} after {timeout} s") from None
                time.sleep(0.2)

    def register(self, box_dir):
        self._motcua("register-box", "--commune", COMMUNE, "--public-key", str(public_path(box_dir)))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # gunicorn: graceful stop of master and worker
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


# ---- the measured pipeline: sync.box.push, timed piece by piece ------------------------------

class Timer:
    """Wraps functions looked up by module global name, adding up calls and seconds per label."""

    def __init__(self):
        self.seconds, self.calls, self._undo = {}, {}, []

    def wrap(self, module, name, label=None):
        original, label = getattr(module, name, None), label or name
        self.seconds.setdefault(label, 0.0)
        if original is None:  # renamed since this was written: its time lands in the rest
            return

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - t0
                self.calls[label] = self.calls.get(label, 0) + 1

        setattr(module, name, timed)
        self._undo.append((module, name, original))

    def restore(self):
        for module, name, original in reversed(self._undo):
            setattr(module, name, original)
        self._undo.clear()


class CountingClient(HubClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bytes_sent, self.latencies, self.statuses, self.bodies = 0, [], {}, []

    def push(self, body, signature):
        self.bytes_sent += len(body)
        self.bodies.append(body)  # sizes after the drain, outside the timings
        t0 = time.perf_counter()
        status, answer = super().push(body, signature)
        self.latencies.append(time.perf_counter() - t0)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        return status, answer


def drain(box_db, box_key, hub, batch, label, db_cpu=None):
    """Push the whole backlog to ``hub`` from seq 0; return the round's figures."""
    with using(box_db):
        SyncNode.update(acked_seq=0, failures=0).execute()  # bookkeeping only: not a replicated table
        node = this_node()
        pending0 = sync_box.pending_count()
        settle()
        client = CountingClient(hub.url, box_key, node.node_id, timeout=120)
        timer = Timer()
        timer.wrap(sync_box, "_unsent_texts", "read rows")
        timer.wrap(sync_box, "pending_count", "pending count")
        timer.wrap(sync_box, "encode_batch_texts", "encode")
        timer.wrap(protocol, "batch_json", "encode: JSON")
        timer.wrap(protocol, "sign", "encode: sign")
        timer.wrap(sync_box, "_observe_hub", "observe hub clock")
        hub_cpu0, box_cpu0, db_cpu0 = tree_cpu(hub.proc.pid), time.process_time(), db_cpu() if db_cpu else 0.0
        t0 = time.perf_counter()
        try:
            confirmed = sync_box.push(client, box_key, batch_size=batch, budget_s=3600)
        finally:
            elapsed = time.perf_counter() - t0
            timer.restore()
        hub_cpu, box_cpu = tree_cpu(hub.proc.pid) - hub_cpu0, time.process_time() - box_cpu0
        db_used = db_cpu() - db_cpu0 if db_cpu else None
        pending = sync_box.pending_count()
    http = sum(client.latencies)
    s = timer.seconds
    s["encode: gzip + rest"] = s["encode"] - s["encode: JSON"] - s["encode: sign"]
    s["HTTP round trip (hub ingest included)"] = http
    # negative if a push overlaps building the next batch with the one in flight
    s["ack update + rest"] = elapsed - http - s["read rows"] - s["pending count"] - s["encode"] - s["observe hub clock"]
    lat = sorted(client.latencies) or [math.nan]
    return {"label": label, "entries": confirmed, "pending before": pending0, "pending after": pending,
            "seconds": elapsed, "batches": len(client.latencies), "bytes": client.bytes_sent,
            "raw": sum(len(gzip.decompress(body)) for body in client.bodies),
            "split": s, "p50": lat[len(lat) // 2], "max": lat[-1], "statuses": client.statuses,
            "hub_cpu": hub_cpu, "box_cpu": box_cpu, "db_cpu": db_used}


def print_round(r):
    n = max(r["batches"], 1)
    print_table(f"Drain into the hub on {r['label']}", [{
        "entries": r["entries"], "batches": r["batches"], "seconds": r["seconds"],
        "entries/s": r["entries"] / r["seconds"], "MB sent (gzip)": r["bytes"] / 1e6, "MB JSON": r["raw"] / 1e6,
        "ms/batch": 1000 * r["seconds"] / n, "HTTP p50 ms": 1000 * r["p50"], "HTTP max ms": 1000 * r["max"],
        "pending after": r["pending after"], "HTTP statuses": " ".join(f"{k}x{v}" for k, v in r["statuses"].items()),
    }])
    order = ["read rows", "pending count", "encode", "encode: JSON", "encode: gzip + rest", "encode: sign",
             "HTTP round trip (hub ingest included)", "observe hub clock", "ack update + rest"]
    print_table("  where the time goes (box = this process)", [
        {"step": k, "side": "hub" if k.startswith("HTTP") else "box", "seconds": r["split"][k],
         "ms/batch": 1000 * r["split"][k] / n, "share": f"{100 * r['split'][k] / r['seconds']:.0f}%"}
        for k in order])
    cpu = [{"process": "box (bench process)", "cpu s": r["box_cpu"], "% of one core": 100 * r["box_cpu"] / r["seconds"]},
           {"process": "hub (gunicorn tree)", "cpu s": r["hub_cpu"], "% of one core": 100 * r["hub_cpu"] / r["seconds"]}]
    if r["db_cpu"] is not None:
        cpu.append({"process": "postgres (all server processes)", "cpu s": r["db_cpu"],
                    "% of one core": 100 * r["db_cpu"] / r["seconds"]})
    print_table("  CPU over the drain", cpu)


# ---- the hub's tables after the drain, and the ceiling ----------------------------------------

def typed_tables():
    """Replicated tables in foreign-key order, with their columns as ``apply`` writes them."""
    models = replicated_models()
    out = []
    for table in table_order():
        model = models[table]
        columns = ["id", "commune"] + [c for c in model._meta.columns if c not in ("id", "commune")]
        out.append((table, columns, model.replication == APPEND))
    return out


def read_sqlite_rows(path, where_commune=True):
    """{table: rows} of the replicated tables in a SQLite file, plus the change log rows."""
    conn = sqlite3.connect(path)
    try:
        rows = {}
        for table, columns, _ in typed_tables():
            cols = ", ".join(f'"{c}"' for c in columns)
            rows[table] = conn.execute(f'SELECT {cols} FROM "{table}" WHERE commune = ? ORDER BY id',
                                       (COMMUNE,)).fetchall()
        log_cols = ["origin", "seq", "hlc", "table", "pk", "op", "scope", "data", "base", "prev", "hash", "created_at"]
        log = conn.execute(f"SELECT {', '.join(chr(34) + c + chr(34) for c in log_cols)} FROM change_entry "
                           "WHERE scope = ? ORDER BY origin, seq", (COMMUNE,)).fetchall()
        return rows, (log_cols, log)
    finally:
        conn.close()


def upsert_sql(table, columns, append, param):
    q = '"{}"'.format
    sql = f'INSERT INTO {q(table)} ({", ".join(map(q, columns))}) VALUES ({", ".join([param] * len(columns))}) '
    if append:
        return sql + "ON CONFLICT (id) DO NOTHING"
    return sql + "ON CONFLICT (id) DO UPDATE SET " + ", ".join(f"{q(c)} = excluded.{q(c)}" for c in columns[1:])


def log_sql(columns, param):
    return (f'INSERT INTO change_entry ({", ".join(chr(34) + c + chr(34) for c in columns)}) '
            f'VALUES ({", ".join([param] * len(columns))})')


def create_schema(db):
    """The hub's tables (the models the hub binds), created by peewee as ``hub serve`` does."""
    with using(db):
        db.connect(reuse_if_open=True)
        db.create_tables(HUB_MODELS, safe=True)
    db.close()


def sqlite_ceiling(path, rows, log, with_log):
    """Seconds to upsert ``rows`` (and the log) with stdlib sqlite3 in one transaction, hub pragmas."""
    create_schema(open_database(str(path)))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode = wal", "foreign_keys = 1", "synchronous = full", "busy_timeout = 15000"):
            conn.execute(f"PRAGMA {pragma}")
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for table, columns, append in typed_tables():
            if rows[table]:
                conn.executemany(upsert_sql(table, columns, append, "?"), rows[table])
        if with_log:
            conn.executemany(log_sql(log[0], "?"), log[1])
        conn.execute("COMMIT")
        return time.perf_counter() - t0
    finally:
        conn.close()


def pg_typed(rows):
    """SQLite keeps booleans as 0/1; PostgreSQL wants them as booleans."""
    from peewee import BooleanField

    models, out = replicated_models(), {}
    for table, columns, _ in typed_tables():
        flags = [isinstance(models[table]._meta.columns[c], BooleanField) for c in columns]
        out[table] = [[bool(v) if f and v is not None else v for v, f in zip(row, flags)] for row in rows[table]]
    return out


def pg_ceiling(schema, rows, log, with_log, method):
    """Seconds to upsert ``rows`` with psycopg2 in one transaction into a fresh schema."""
    import psycopg2
    from psycopg2.extras import execute_values

    rows = pg_typed(rows)

    pg_execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    create_schema(open_database(pg_url(schema)))
    conn = psycopg2.connect(PG_URL, options=f"-csearch_path={schema}")
    try:
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            work = [(upsert_sql(t, c, a, "%s"), rows[t]) for t, c, a in typed_tables() if rows[t]]
            if with_log:
                work.append((log_sql(log[0], "%s"), log[1]))
            for sql, data in work:
                if method == "executemany":
                    cur.executemany(sql, data)
                else:  # one multi-row VALUES statement per 1,000 rows
                    head, _, tail = sql.partition(" VALUES (")
                    tail = tail.partition(") ")[2]
                    execute_values(cur, f"{head} VALUES %s {tail}", data, page_size=1000)
        conn.commit()
        return time.perf_counter() - t0
    finally:
        conn.close()


def compare_rows(box_rows, hub_rows):
    return all(sorted(map(tuple, box_rows[t])) == sorted(map(tuple, hub_rows[t])) for t in box_rows)


def read_pg_rows(schema):
    import psycopg2

    conn = psycopg2.connect(PG_URL, options=f"-csearch_path={schema}")
    try:
        out = {}
        with conn.cursor() as cur:
            for table, columns, _ in typed_tables():
                cols = ", ".join(f'"{c}"' for c in columns)
                cur.execute(f'SELECT {cols} FROM "{table}" WHERE commune = %s ORDER BY id', (COMMUNE,))
                out[table] = cur.fetchall()
            cur.execute("SELECT count(*) FROM change_entry WHERE scope = %s", (COMMUNE,))
            logged = cur.fetchone()[0]
        return out, logged
    finally:
        conn.close()


def same_typed_rows(a, b):
    """Row counts and ids per table agree (values are compared on SQLite, types differ on PostgreSQL)."""
    return all(len(a[t]) == len(b[t]) and {r[0] for r in a[t]} == {r[0] for r in b[t]} for t in a)


# ---- the hub in this process: where an ingest spends its time -------------------------------

def prebuilt_batches(box_db, key, batch):
    """The batches ``push`` sends, built once from the box (acked_seq walked in memory only)."""
    with using(box_db):
        node = this_node()
        seqs = [s for (s,) in ChangeEntry.select(ChangeEntry.seq).where(ChangeEntry.origin == node.node_id)
                .order_by(ChangeEntry.seq).tuples()]
        out = []
        for start in range(0, len(seqs), batch):
            node.acked_seq = seqs[start] - 1
            rows = sync_box._unsent(node, batch)
            body, signature = protocol.encode_batch(node.node_id, rows, key, node.clock,
                                                    extra={"pending": 0, "sent_ms": now_ms()})
            out.append((body, signature, len(rows)))
        return node.node_id, out


def inprocess_hub(db_url_or_path, box_dir):
    from central.fleet import register_box
    from provisioning.identity import ensure_hub_identity

    db = open_database(db_url_or_path)
    with using(db):
        bind(db, HUB_MODELS)
        ensure_hub_identity(box_dir.parent / "inprocess-hub")
        register_box(COMMUNE, public_path(box_dir).read_text())
    return db


def ingest_steps(hub_db, origin, batches):
    """Run every batch through ``central.ingest.ingest``; seconds per step (wrapped, no profiler)."""
    from central import ingest as hub_ingest

    timer = Timer()
    for name, label in (("verify_body", "decode: signature"), ("parse_batch", "decode: gunzip + JSON"),
                        ("check_stamp", "freshness: time"), ("remember_nonce", "freshness: nonce"),
                        ("verify_chain", "verify_chain"),
                        ("_text_checked", "text check (per value)"),
                        ("check_entry", "check_entry (per entry)"), ("_row_scopes", "_row_scopes"),
                        ("_log_entries", "_log_entries (hub change log)"),
                        ("apply_entries", "apply_entries (typed tables)")):
        timer.wrap(hub_ingest, name, label)
    hub_db.commit = _timed_method(hub_db.commit, timer, "commit")
    settle()
    t0 = time.perf_counter()
    try:
        with using(hub_db):
            for body, signature, _ in batches:
                hub_ingest.ingest(origin, body, signature, FUTURE_BOUND_MS)
    finally:
        total = time.perf_counter() - t0
        timer.restore()
        del hub_db.commit
    return total, timer.seconds


def _timed_method(method, timer, label):
    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            timer.seconds[label] = timer.seconds.get(label, 0.0) + time.perf_counter() - t0
    return timed


def print_steps(title, total, steps, entries):
    rows = [{"step": k, "seconds": v, "us/entry": 1e6 * v / entries, "share": f"{100 * v / total:.0f}%"}
            for k, v in steps.items()]
    rest = total - sum(steps.values())
    rows.append({"step": "rest (box row, lookups, bookkeeping)", "seconds": rest, "us/entry": 1e6 * rest / entries,
                 "share": f"{100 * rest / total:.0f}%"})
    rows.append({"step": "total", "seconds": total, "us/entry": 1e6 * total / entries, "share": "100%"})
    print_table(f"{title}: {entries / total:,.0f} entries/s", rows)


def c_floor(box_dir, batches):
    """Seconds of the work in C that every pushed entry needs however lean the Python around it:
    the signature, inflating, parsing, the canonical JSON of each entry's data (all of a batch's in
    one call) and the SHA-256 of each entry's hashed text (made before the clock starts: calling
    sha256 once an entry is the least Python that can do)."""
    from sync.encoding import canonical_text
    from sync.keys import load_public_text

    public = load_public_text(public_path(box_dir).read_text())
    prepared = []
    for body, signature, _ in batches:
        entries = protocol.parse_batch(body).entries
        prepared.append((body, signature, [canonical_text([e[k] for k in ("origin",) + protocol.FIELDS[:-1]]).encode()
                                           for e in entries]))
    settle()
    seconds = {"signature": 0.0, "gunzip": 0.0, "JSON parse": 0.0, "canonical JSON of the data": 0.0, "SHA-256": 0.0}
    for body, signature, texts in prepared:
        t0 = time.perf_counter()
        protocol.verify_body(body, signature, public)
        t1 = time.perf_counter()
        raw = protocol.inflate(body)
        t2 = time.perf_counter()
        rows = json.loads(raw)["entries"]
        t3 = time.perf_counter()
        canonical_text([row[6] for row in rows])
        t4 = time.perf_counter()
        for text in texts:
            sha256(text).hexdigest()
        t5 = time.perf_counter()
        for label, spent in zip(seconds, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            seconds[label] += spent
    return seconds


def print_floor(floor, ceiling, ingest_total, entries):
    """The C floor beside the ceiling: the best ratio a hub with no Python around them could reach,
    and the Python a batch may spend for the 0.5 target."""
    c_work = sum(floor.values())
    rows = [{"work": k, "seconds": v, "us/entry": 1e6 * v / entries} for k, v in floor.items()]
    rows.append({"work": "all of it", "seconds": c_work, "us/entry": 1e6 * c_work / entries})
    print_table("What every entry needs done in C, however lean the Python around it", rows)
    budget = ceiling / TARGET_RATIO - ceiling - c_work
    print(f"the ceiling (with the log) {ceiling:.2f} s + this {c_work:.2f} s: a hub with no Python at all would "
          f"reach {ceiling / (ceiling + c_work):.2f}; the target {TARGET_RATIO} leaves "
          f"{1e6 * max(budget, 0) / entries:.1f} us of everything else an entry (HTTP, checks, commits, rows for "
          f"SQLite), against {1e6 * (ingest_total - c_work - ceiling) / entries:.1f} us in this process now "
          "(its total less the ceiling and this)")


def profile_ingest(hub_db, origin, batches, top):
    from central import ingest as hub_ingest

    profiler = cProfile.Profile()
    settle()
    with using(hub_db):
        profiler.enable()
        for body, signature, _ in batches:
            hub_ingest.ingest(origin, body, signature, FUTURE_BOUND_MS)
        profiler.disable()
    for sort in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(top)
        text = out.getvalue()
        print(f"\ncProfile of ingest, top {top} by {sort} (profiler overhead inflates per-call costs):")
        print(text[text.index("   ncalls"):].rstrip())


# ---- main ------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50000, help="change-log entries to generate (a floor)")
    parser.add_argument("--days", type=int, default=30, help="office days the backlog spans")
    parser.add_argument("--batch", type=int, default=2000, help="entries per pushed batch (sync_batch_size)")
    parser.add_argument("--postgres", action="store_true", help=f"also a round on PostgreSQL ({PG_URL})")
    parser.add_argument("--profile", action="store_true",
                        help="also run ingest in this process: time per step, and a cProfile (SQLite)")
    parser.add_argument("--top", type=int, default=25, help="rows of the cProfile listings")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated office days")
    parser.add_argument("--backlog", metavar="DIR",
                        help="reuse the box saved in DIR by an earlier run instead of generating one (saved there "
                             "if DIR has none yet; --entries, --days and --seed then do not apply)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (and the PostgreSQL schemas)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-sync-"))
    schemas = [f"bench_sync_{os.getpid()}", f"bench_sync_ceiling_{os.getpid()}", f"bench_sync_inproc_{os.getpid()}"]
    if args.postgres and not pg_available():
        print("--postgres: psycopg2 is not importable in this interpreter (pip install psycopg2-binary, or put it "
              "on PYTHONPATH); the PostgreSQL round is skipped")
        args.postgres = False
    print(f"work dir {work}; {args.entries:,} entries over {args.days} office days, batches of {args.batch}; "
          f"{os.cpu_count()} CPUs for box, hub and database")
    hubs, rounds = [], []
    try:
        box_dir = work / "box"
        saved = Path(args.backlog) if args.backlog else None
        t0 = time.perf_counter()
        if saved and (saved / "edge.db").exists():
            shutil.copytree(saved, box_dir)
            box_db, key, calendar, counts = load_backlog(box_dir)
            print(f"\nBacklog: {len(counts):,} entries copied from {saved} (generated by an earlier run), "
                  f"days {calendar[0]} .. {calendar[-1]}")
        else:
            box_db, key, calendar, counts = generate(box_dir, args.entries, args.days, args.seed)
            generated = time.perf_counter() - t0
            print(f"\nBacklog: {len(counts):,} entries generated in {generated:.1f} s ({len(counts) / generated:,.0f} "
                  f"entries/s, one transaction per day; not measured below), days {calendar[0]} .. {calendar[-1]}")
            if saved:
                box_db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                shutil.copytree(box_dir, saved, dirs_exist_ok=True)
                print(f"saved the backlog to {saved} (--backlog {saved} reuses it)")
        print_table("Backlog by table and operation", backlog_table(counts))
        box_rows, _ = read_sqlite_rows(box_dir / "edge.db")
        per_day = {}
        for row in box_rows["ticket"]:
            per_day[row[2]] = per_day.get(row[2], 0) + 1  # columns: id, commune, day...
        print(f"{len(box_rows['ticket']):,} tickets over {len(per_day)} days (from {min(per_day.values())} to "
              f"{max(per_day.values())} a day), {len(box_rows['rating']):,} ratings, "
              f"{len(box_rows['ticket_event']):,} ticket events")
        typed = sum(len(r) for r in box_rows.values())

        # round 1: SQLite hub
        hub = Hub(work / "hub-sqlite")
        hubs.append(hub)
        hub.start()
        hub.register(box_dir)
        rounds.append(drain(box_db, key, hub, args.batch, "SQLite"))
        hub.stop()
        hub_rows, log = read_sqlite_rows(hub.dir / "hub.db")
        rounds[-1]["check"] = compare_rows(box_rows, hub_rows) and len(log[1]) == len(counts)
        print_round(rounds[-1])

        # round 2: PostgreSQL hub, in a schema of its own
        if args.postgres:
            pg_execute(f"DROP SCHEMA IF EXISTS {schemas[0]} CASCADE; CREATE SCHEMA {schemas[0]}")
            hub = Hub(work / "hub-postgres", pg_url(schemas[0]))
            hubs.append(hub)
            hub.start()
            hub.register(box_dir)
            rounds.append(drain(box_db, key, hub, args.batch, "PostgreSQL", db_cpu=postgres_cpu))
            hub.stop()
            pg_rows, logged = read_pg_rows(schemas[0])
            rounds[-1]["check"] = same_typed_rows(box_rows, pg_rows) and logged == len(counts)
            print_round(rounds[-1])

        # the ceilings: the same typed rows, one transaction
        ceilings = {"SQLite": sqlite_ceiling(work / "ceiling.db", hub_rows, log, False)}
        ceiling_log = {"SQLite": sqlite_ceiling(work / "ceiling-log.db", hub_rows, log, True)}
        if args.postgres:
            ceilings["PostgreSQL"] = pg_ceiling(schemas[1], hub_rows, log, False, "executemany")
            ceiling_log["PostgreSQL"] = pg_ceiling(schemas[1], hub_rows, log, True, "executemany")
            values = pg_ceiling(schemas[1], hub_rows, log, False, "values")
            values_log = pg_ceiling(schemas[1], hub_rows, log, True, "values")
        rows = []
        for backend, seconds in ceilings.items():
            rows.append({"ceiling": f"{backend}: typed rows, executemany upsert", "rows": typed, "seconds": seconds,
                         "rows/s": typed / seconds})
            rows.append({"ceiling": f"{backend}: + hub change log ({len(log[1]):,} rows)", "rows": typed + len(log[1]),
                         "seconds": ceiling_log[backend], "rows/s": (typed + len(log[1])) / ceiling_log[backend]})
        if args.postgres:
            rows.append({"ceiling": "PostgreSQL: typed rows, execute_values", "rows": typed, "seconds": values,
                         "rows/s": typed / values})
            rows.append({"ceiling": "PostgreSQL: + hub change log, execute_values", "rows": typed + len(log[1]),
                         "seconds": values_log, "rows/s": (typed + len(log[1])) / values_log})
        print_table(f"Raw ceiling: the {typed:,} typed rows the hub ends up with (its final state), "
                    "one transaction into fresh tables of the same schema", rows)

        targets = []
        for r in rounds:
            # the target's ceiling writes what the hub writes: the typed rows and its change log
            against = [("executemany + log", ceiling_log[r["label"]], True),
                       ("executemany, typed rows only", ceilings[r["label"]], False)]
            if r["label"] == "PostgreSQL":
                against += [("execute_values + log", values_log, True),
                            ("execute_values, typed rows only", values, False)]
            for method, ceiling, with_log in against:
                ratio = ceiling / r["seconds"]  # = (rows / e2e s) / (rows / ceiling s), the same rows both sides
                rows_written = typed + (len(log[1]) if with_log else 0)
                targets.append({
                    "hub": r["label"], "entries/s": r["entries"] / r["seconds"], "typed rows/s": typed / r["seconds"],
                    "ceiling": method, "ceiling s": ceiling, "ceiling rows/s": rows_written / ceiling,
                    "ratio e2e/ceiling": f"{ratio:.3f}",
                    "target >= 0.5": ("yes" if ratio >= TARGET_RATIO else "NO") if with_log else "(not the target)",
                    "drained in": f"{r['seconds']:.2f} s", "< 10 s": "yes" if r["seconds"] < TARGET_SECONDS else "NO",
                    "hub = box": "yes" if r["check"] else "MISMATCH"})
        print_table("Targets (ratio = ceiling seconds / end-to-end seconds for the same rows; the target's "
                    "ceiling also writes the hub's change log, as the hub does)", targets)

        if args.profile:
            origin, batches = prebuilt_batches(box_db, key, args.batch)
            n = sum(b[2] for b in batches)
            hub_db = inprocess_hub(str(work / "inprocess-hub.db"), box_dir)
            total, steps = ingest_steps(hub_db, origin, batches)
            print_steps("Hub ingest in this process, SQLite (no HTTP)", total, steps, n)
            hub_db.close()
            print_floor(c_floor(box_dir, batches), ceiling_log["SQLite"], total, n)
            if args.postgres:
                pg_execute(f"DROP SCHEMA IF EXISTS {schemas[2]} CASCADE; CREATE SCHEMA {schemas[2]}")
                hub_db = inprocess_hub(pg_url(schemas[2]), box_dir)
                total, steps = ingest_steps(hub_db, origin, batches)
                print_steps("Hub ingest in this process, PostgreSQL (no HTTP)", total, steps, n)
                hub_db.close()
            hub_db = inprocess_hub(str(work / "profile-hub.db"), box_dir)
            profile_ingest(hub_db, origin, batches, args.top)
            hub_db.close()
    finally:
        for hub in hubs:
            hub.stop()
        if args.keep:
            print(f"\nkept {work}" + (f" and PostgreSQL schemas {', '.join(schemas)}" if args.postgres else ""))
        else:
            shutil.rmtree(work, ignore_errors=True)
            if args.postgres:
                pg_execute("; ".join(f"DROP SCHEMA IF EXISTS {s} CASCADE" for s in schemas))


if __name__ == "__main__":
    main()
