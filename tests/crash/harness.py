"""Kill a box's writer with SIGKILL at random moments, then check what survived.

Used by ``tests/crash/test_sigkill.py`` (a few hundred kills) and ``bench/crash.py`` (a
thousand and more). One round: start one or two ``issuer.py`` children on the same database
file (two kiosks queueing on the write lock), let each run a random while, SIGKILL it, read
what it acknowledged. Most issuers are forked from a zygote that imported the code once (a
fresh interpreter costs ~70 ms, the kill rounds would be mostly start-up); some start as new
interpreters. Neither the parent nor the zygote holds a connection, so an issuer that opens
the file after a kill recovers the WAL the killed one left behind.

A SIGKILL loses no page the kernel already has, so this checks atomicity and recovery of
a crashed process (a torn transaction, a half-written log entry, a gap in numbering), not
the durability of ``synchronous=FULL`` through a power cut.
"""
import collections
import json
import math
import os
import select
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ISSUER = Path(__file__).with_name("issuer.py")
NODE_ID = "box-crash000000000"
COMMUNE = "05518"


def prepare(path):
    """A fresh box database: tables, node identity, demo office. No connection left open."""
    from office.communes import find_commune
    from office.db import bind, database, open_database
    from office.models import MODELS
    from office.seed import seed_office
    from sync.capture import init_node

    db = bind(open_database(str(path)), MODELS)
    try:
        init_node(NODE_ID, COMMUNE)
        seed_office(find_commune(COMMUNE))
    finally:
        db.close()
        database.initialize(None)


@dataclass
class Acks:
    """What the children told their clients, summed over all rounds."""

    tickets: dict = field(default_factory=dict)  # id -> (day, prefix, seq, number)
    ratings: dict = field(default_factory=dict)  # id -> ticket id
    events: collections.Counter = field(default_factory=collections.Counter)  # (ticket id, action) -> n

    def take(self, line):
        kind, *rest = line.split(" ")
        if kind == "T":
            pk, day, prefix, seq, number = rest
            self.tickets[pk] = (day, prefix, int(seq), number)
        elif kind == "R":
            self.ratings[rest[0]] = rest[1]
        elif kind == "E":
            self.events[tuple(rest)] += 1
        elif kind != "ready":
            raise AssertionError(f"unexpected line from the issuer: {line!r}")


@dataclass
class Stats:
    rounds: int = 0
    kills: int = 0
    early_kills: int = 0  # before the child said "ready" (during start-up, bind, sign-in)
    concurrent_rounds: int = 0
    fresh_rounds: int = 0  # issuers started as new interpreters rather than forked
    elapsed: float = 0.0


class ChildFailed(AssertionError):
    pass


def _delay(rng):
    """How long a child runs: log-uniform 2 ms - 200 ms, so short runs are common."""
    return math.exp(rng.uniform(math.log(0.002), math.log(0.2)))


class _Lines:
    """Lines read from a non-blocking pipe; a partial line waits for the rest."""

    def __init__(self, pipe):
        self.pipe, self.buf = pipe, b""
        os.set_blocking(pipe.fileno(), False)

    def read(self):
        """The complete lines available now, or None at end of file."""
        try:
            chunk = os.read(self.pipe.fileno(), 65536)
        except BlockingIOError:
            return []
        if not chunk:
            return None
        *lines, self.buf = (self.buf + chunk).split(b"\n")
        return [line.decode() for line in lines]


class FreshProcesses:
    """Each issuer is a new ``python issuer.py``: a real start-up, the slow way (~70 ms)."""

    startup = 0.08

    def __init__(self, db_path, stderr):
        self.db_path, self.stderr, self.procs, self.readers = db_path, stderr, {}, {}

    def spawn(self, seed):
        proc = subprocess.Popen([sys.executable, str(ISSUER), str(self.db_path), str(seed)],
                                stdout=subprocess.PIPE, stderr=self.stderr)
        self.procs[proc.pid] = proc
        self.readers[proc.stdout.fileno()] = (proc, _Lines(proc.stdout))
        return proc.pid

    def fds(self):
        return list(self.readers)

    def backlog_events(self):
        return []

    def events(self, fd):
        """("line", pid, text) and ("exit", pid, code) events from one readable pipe."""
        proc, reader = self.readers[fd]
        lines = reader.read()
        if lines is None:
            del self.readers[fd]
            if reader.buf:
                raise ChildFailed(f"partial line from an issuer: {reader.buf!r}")
            proc.stdout.close()
            del self.procs[proc.pid]
            return [("exit", proc.pid, proc.wait())]
        return [("line",) + tuple(line.split(" ", 1)) for line in lines]

    def close(self):
        for proc in self.procs.values():
            proc.kill()
            proc.wait()
            proc.stdout.close()
        self.procs, self.readers = {}, {}


class ForkServer:
    """Issuers forked by one ``issuer.py --zygote``: the imports are paid once (~5 ms a child)."""

    startup = 0.01

    def __init__(self, db_path, stderr):
        self.proc = subprocess.Popen([sys.executable, str(ISSUER), str(db_path), "--zygote"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
        self.reader, self.backlog = _Lines(self.proc.stdout), []

    def spawn(self, seed):
        self.proc.stdin.write(f"spawn {seed}\n".encode())
        self.proc.stdin.flush()
        deadline, pid = time.monotonic() + 30, None
        while pid is None and time.monotonic() < deadline:
            select.select([self.proc.stdout], [], [], 0.1)
            for event in self._read():  # keep what came with "spawned": the child may be quick
                if event[0] == "spawned" and pid is None:
                    pid = event[1]
                else:
                    self.backlog.append(event)
        if pid is None:
            raise ChildFailed("the zygote did not fork within 30 s")
        return pid

    def fds(self):
        return [self.proc.stdout.fileno()]

    def events(self, fd):
        return self._read()

    def backlog_events(self):
        out, self.backlog = self.backlog, []
        return out

    def _read(self):
        lines = self.reader.read()
        if lines is None:
            raise ChildFailed(f"the zygote died with code {self.proc.wait()}")
        events = []
        for line in lines:
            head, rest = line.split(" ", 1)
            if head == "spawned":
                events.append(("spawned", int(rest)))
            elif head == "exit":
                pid, code = rest.split(" ")
                events.append(("exit", int(pid), int(code)))
            else:
                events.append(("line", head, rest))
        return events

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


def run_round(rng, fleet, acks, stats, concurrent=0.25, early=0.1):
    """One round: spawn one (or two) issuers, SIGKILL each at a random moment, collect acks."""
    n = 2 if rng.random() < concurrent else 1
    children = {}
    for _ in range(n):
        now = time.monotonic()
        pid = fleet.spawn(rng.randrange(2**31))
        children[str(pid)] = {
            "pid": pid, "killed": False, "exit": None, "ready": False, "deadline": now + 30,
            # an early kill lands during start-up (imports, bind, sign-in); the others a while after "ready"
            "kill_at": now + rng.uniform(0.0, fleet.startup) if rng.random() < early else None,
            "run": _delay(rng)}
    stats.rounds += 1
    stats.fresh_rounds += isinstance(fleet, FreshProcesses)
    stats.concurrent_rounds += n > 1
    sel = selectors.DefaultSelector()
    try:
        while any(c["exit"] is None for c in children.values()):
            now = time.monotonic()
            for c in children.values():
                if c["killed"] or c["exit"] is not None:
                    continue
                if c["kill_at"] is not None and now >= c["kill_at"]:
                    os.kill(c["pid"], signal.SIGKILL)
                    c["killed"] = True
                    stats.kills += 1
                    stats.early_kills += not c["ready"]
                elif now > c["deadline"]:
                    os.kill(c["pid"], signal.SIGUSR1)  # its Python stack, into the issuers' stderr
                    time.sleep(0.5)
                    raise ChildFailed(f"issuer {c['pid']} never said ready, or hung, for 30 s "
                                      f"(ready: {c['ready']})")
            waits = [c["kill_at"] - now for c in children.values()
                     if not c["killed"] and c["exit"] is None and c["kill_at"] is not None]
            timeout = max(0.0, min(waits)) if waits else 0.05
            events = fleet.backlog_events()  # lines read ahead while waiting for a fork
            if not events:
                fds = fleet.fds()
                for fd in fds:
                    sel.register(fd, selectors.EVENT_READ)
                ready = [key.fd for key, _ in sel.select(timeout)]
                for fd in fds:
                    sel.unregister(fd)
                events = [e for fd in ready for e in fleet.events(fd)]
            for event in events:
                if event[0] == "exit":
                    c = children.get(str(event[1]))
                    if c is None:
                        raise ChildFailed(f"exit of an unknown issuer {event[1]}")
                    c["exit"] = event[2]
                    if not c["killed"] or c["exit"] != -signal.SIGKILL:
                        raise ChildFailed(f"an issuer ended with code {c['exit']}, not by our SIGKILL")
                    continue
                _, pid, text = event
                c = children.get(pid)
                if c is None:
                    raise ChildFailed(f"a line from an unknown issuer {pid}: {text!r}")
                acks.take(text)
                if text == "ready" and not c["ready"]:
                    c["ready"] = True
                    if c["kill_at"] is None:
                        c["kill_at"] = time.monotonic() + c["run"]
    finally:
        sel.close()
        for c in children.values():
            if c["exit"] is None and not c["killed"]:
                try:
                    os.kill(c["pid"], signal.SIGKILL)
                except ProcessLookupError:
                    pass


def run(db_path, kills, rng, stderr, concurrent=0.25, fresh_share=0.1, progress=None):
    """Rounds until at least ``kills`` SIGKILLs were sent; return (acks, stats).

    Most rounds fork their issuers from a zygote; ``fresh_share`` of them start a new
    interpreter instead (the path a real restart takes, imports included).
    """
    acks, stats = Acks(), Stats()
    started = time.monotonic()
    forks, fresh = ForkServer(db_path, stderr), FreshProcesses(db_path, stderr)
    try:
        while stats.kills < kills:
            fleet = fresh if rng.random() < fresh_share else forks
            run_round(rng, fleet, acks, stats, concurrent=concurrent)
            if progress and stats.rounds % 100 == 0:
                progress(stats, acks)
    finally:
        forks.close()
        fresh.close()
    stats.elapsed = time.monotonic() - started
    return acks, stats


# ---- the checks -----------------------------------------------------------------------------

def decode(text):
    """data/base of a change_entry row: canonical JSON text, "" for none."""
    return json.loads(text) if text else {}


def _json(value):
    """A value as the change log holds it: canonical JSON, read back."""
    from sync.encoding import canonical

    return json.loads(canonical(value))


def row_picture(model):
    """{pk: {column: value}} of a replicated table, each value as ``capture`` would log it."""
    fields = [f for f in model._meta.sorted_fields if not f.primary_key]
    picture = {}
    for row in model.select().order_by(model.id):
        picture[row.id] = {f.column_name: _json(f.db_value(row.__data__.get(f.name))) for f in fields}
    return picture


def log_picture(entries, picture=None):
    """Replay change-log entries (dicts with table, pk, op, data) into {table: {pk: {column: value}}}
    (onto ``picture``, a replay so far, if given)."""
    picture = {} if picture is None else picture
    for e in entries:
        rows = picture.setdefault(e["table"], {})
        if e["op"] == "insert":
            if e["pk"] in rows:
                raise AssertionError(f"{e['table']} {e['pk']}: inserted twice (seq {e.get('seq')})")
            rows[e["pk"]] = dict(e["data"])
        elif e["op"] == "update":
            if e["pk"] not in rows:
                raise AssertionError(f"{e['table']} {e['pk']}: updated before its insert (seq {e.get('seq')})")
            rows[e["pk"]].update(e["data"])
        elif e["op"] == "delete":
            rows.pop(e["pk"], None)
        else:
            raise AssertionError(f"unknown op {e['op']!r}")
    return picture


def compare_pictures(replayed, models):
    """Differences between the replayed log and the typed tables, as readable lines."""
    out = []
    for table, model in sorted(models.items()):
        rows, log = row_picture(model), replayed.get(table, {})
        for pk in sorted(set(rows) | set(log)):
            if pk not in log:
                out.append(f"{table} {pk}: row without any change-log entry")
            elif pk not in rows:
                out.append(f"{table} {pk}: in the change log but not in the table")
            elif rows[pk] != log[pk]:
                diff = {c: (log[pk].get(c, "<absent>"), v) for c, v in rows[pk].items() if log[pk].get(c, "<absent>") != v}
                extra = sorted(set(log[pk]) - set(rows[pk]))
                out.append(f"{table} {pk}: log != row on {diff} {extra or ''}")
    return out


def check_chain(node_id):
    """The node's own log: seq 1..N (from the anchor of pruned entries, if any: seq
    ``pruned_seq + 1`` naming ``pruned_hash``), each prev the previous hash, each hash
    recomputed; and the node row pointing at the last entry. Returns (entries, problems)."""
    from sync.capture import entry_hash
    from sync.models import ChangeEntry, SyncNode

    problems = []
    node = SyncNode.get(SyncNode.node_id == node_id)
    entries = []
    prev_hash, prev_hlc = node.pruned_hash, -1
    query = ChangeEntry.select().where(ChangeEntry.origin == node_id).order_by(ChangeEntry.seq)
    for expected_seq, row in enumerate(query, start=node.pruned_seq + 1):
        entry = {"origin": row.origin, "seq": row.seq, "hlc": row.hlc, "table": row.table, "pk": row.pk,
                 "op": row.op, "scope": row.scope, "data": decode(row.data), "base": decode(row.base),
                 "prev": row.prev}
        if row.seq != expected_seq:
            problems.append(f"change log: seq {row.seq} where {expected_seq} was due")
            expected_seq = row.seq
        if row.prev != prev_hash:
            problems.append(f"change log: seq {row.seq} prev {row.prev[:12]} != hash of the entry before {prev_hash[:12]}")
        if entry_hash(entry) != row.hash:
            problems.append(f"change log: seq {row.seq} hash does not match its content")
        if row.hlc <= prev_hlc:
            problems.append(f"change log: seq {row.seq} hlc {row.hlc} not after {prev_hlc}")
        prev_hash, prev_hlc = row.hash, row.hlc
        entries.append(entry)
    if len(entries) != ChangeEntry.select().count():
        problems.append("change log: entries of another origin on a lone box")
    if (node.last_seq, node.last_hash) != (node.pruned_seq + len(entries), prev_hash):
        problems.append(f"sync_node points at seq {node.last_seq} {node.last_hash[:12]}, "
                        f"the log ends at {node.pruned_seq + len(entries)} {prev_hash[:12]}")
    if node.clock < prev_hlc:
        problems.append(f"sync_node clock {node.clock} behind the last entry's hlc {prev_hlc}")
    return entries, problems


def verify(db_path, acks, node_id=NODE_ID, synced=False):
    """Every check after the kills; returns a list of violations (empty: all good).

    ``synced``: the box exchanged with a hub, so tables the hub writes hold rows of no entry of
    the box's own log (holidays pulled): the replay is compared on the other tables only."""
    from office.db import database, open_database
    from office.models import Rating, Ticket, TicketEvent, TicketSequence
    from office.queue import format_number
    from sync.capture import replicated_models

    db = open_database(str(db_path))
    database.initialize(db)
    problems, held, entries, rated = [], {}, [], {}
    try:
        db.connect()
        result = [r[0] for r in db.execute_sql("PRAGMA integrity_check").fetchall()]
        if result != ["ok"]:
            problems.append(f"integrity_check: {result[:5]}")
        fk = db.execute_sql("PRAGMA foreign_key_check").fetchall()
        if fk:
            problems.append(f"foreign_key_check: {fk[:5]}")

        held = {t.id: (t.day, t.prefix, t.seq, t.number) for t in Ticket.select()}
        for pk, want in acks.tickets.items():
            if pk not in held:
                problems.append(f"acknowledged ticket {want[3]} ({pk}) is missing")
            elif held[pk] != want:
                problems.append(f"acknowledged ticket {pk} was {want}, is {held[pk]}")
        rated = {r.id: r.ticket_id for r in Rating.select()}
        for pk, ticket in acks.ratings.items():
            if rated.get(pk) != ticket:
                problems.append(f"acknowledged rating {pk} of ticket {ticket} is missing")
        events = collections.Counter(TicketEvent.select(TicketEvent.ticket, TicketEvent.action).tuples())
        for key, n in acks.events.items():
            if events[key] < n:
                problems.append(f"acknowledged event {key} x{n}, {events[key]} held")

        by_prefix = collections.defaultdict(list)
        for day, prefix, seq, number in held.values():
            by_prefix[day, prefix].append(seq)
            if number != format_number(prefix, seq):
                problems.append(f"ticket {day} {prefix} {seq} numbered {number}")
        sequences = {(s.day, s.prefix): s.last for s in TicketSequence.select()}
        for key, seqs in sorted(by_prefix.items()):
            seqs.sort()
            if seqs != list(range(1, len(seqs) + 1)):
                dupes = sorted(s for s, n in collections.Counter(seqs).items() if n > 1)
                gaps = sorted(set(range(1, max(seqs) + 1)) - set(seqs))
                problems.append(f"numbers of {key}: gaps {gaps[:10]} duplicates {dupes[:10]}")
            if sequences.get(key) != len(seqs):
                problems.append(f"ticket_sequence {key} at {sequences.get(key)}, {len(seqs)} tickets held")
        for key in set(sequences) - set(by_prefix):
            problems.append(f"ticket_sequence {key} at {sequences[key]} without tickets")

        entries, chain_problems = check_chain(node_id)
        problems += chain_problems
        try:
            replayed = log_picture(entries)
        except AssertionError as exc:
            problems.append(f"change log replay: {exc}")
        else:
            models = replicated_models()
            if synced:
                from sync.policy import HUB

                models = {t: m for t, m in models.items() if m.replication != HUB}
            problems += compare_pictures(replayed, models)
    finally:
        db.close()
        database.initialize(None)
    return problems, {"tickets": len(held), "entries": len(entries), "ratings": len(rated)}
