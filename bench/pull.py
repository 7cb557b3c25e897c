"""Pull benchmark: what a box's pull costs the hub when the log holds every commune's entries.

A hub database (SQLite, and PostgreSQL with ``--postgres``) gets a change log as a province's
reconnect leaves it: ``--communes`` communes push ``--entries`` entries each, interleaved, after a
box's cursor, plus a few hub-authored entries for that box's commune and for everyone. Then the
entries one box receives are found two ways, on the same data: the query before issue 15's pull
index (by id alone, the condition on the scope checked row by row; run before the index exists)
and ``central.outbound.pulled_entries`` (each scope's part through the index on (scope, id)).
Two pulls: the first after the outage (the cursor before the whole backlog) and a routine one a
minute later (the cursor before the last ``--minute`` entries). Prints milliseconds (median of
``--runs``) and the ratio. Asserts only that both ways return the same entries.
Usage: .venv/bin/python bench/pull.py [--communes 100] [--entries 2000] [--postgres]
"""
import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]  # bench/sync.py would shadow the project's sync package
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from central.app import HUB_MODELS  # noqa: E402
from central.models import BoxNode  # noqa: E402
from central.outbound import PULLED, ROUTING_SCHEMA, pulled_entries  # noqa: E402
from office.communes import all_communes  # noqa: E402
from office.db import bind, database, open_database  # noqa: E402
from office.dossiers import Dossier, DossierEvent  # noqa: E402
from sync.models import ChangeEntry  # noqa: E402
from sync.policy import GLOBAL_SCOPE, HUB_NODE  # noqa: E402
from sync.protocol import SCHEMA  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_sync", Path(__file__).with_name("sync.py"))
bench_sync = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_sync)  # its table printer and PostgreSQL helpers

INDEX = "change_entry_scope_id"
NOW = datetime(2026, 12, 7, 2, 0)
LIMIT = 2000  # a box's sync_batch_size


def old_pull(box, cursor, end, limit, schema=SCHEMA):
    """The entries a pull selected before the index: by id, the scope checked on every row."""
    in_scope = ChangeEntry.scope.in_([box.commune, GLOBAL_SCOPE])
    if schema >= ROUTING_SCHEMA:
        routed = Dossier.select(Dossier.id).where(Dossier.decided_by == box.commune)
        events = DossierEvent.select(DossierEvent.id).where(DossierEvent.dossier.in_(routed))
        in_scope = in_scope | ((ChangeEntry.table == "dossier") & ChangeEntry.pk.in_(routed)) | (
            (ChangeEntry.table == "dossier_event") & ChangeEntry.pk.in_(events))
    query = ChangeEntry.select(*PULLED).where(ChangeEntry.id > cursor, ChangeEntry.id <= end,
                                              ChangeEntry.origin != box.node_id, in_scope)
    return [list(row) for row in query.order_by(ChangeEntry.id).limit(limit).tuples()]


def fill(codes, per_commune, own):
    """The log after a reconnect: every commune's entries interleaved, the hub's for ``own`` among them."""
    columns = 'origin, seq, hlc, "table", pk, op, scope, data, base, prev, hash, created_at'
    sql = f"INSERT INTO change_entry ({columns}) VALUES ({', '.join([database.param] * 12)})"
    data = '{"day":"2026-12-04","number":"A-001","state":"done"}'
    rows, hub_seq = [], 0
    for i in range(per_commune):
        for code in codes:
            rows.append((f"box-{code}", i + 1, i, "ticket", f"t-{code}-{i}", "insert", code, data, "", "", "h", NOW))
        if i % 50 == 0:  # the hub's own writes now and then: the catalog for everyone, a booking for ``own``
            for scope in (GLOBAL_SCOPE, own):
                hub_seq += 1
                rows.append((HUB_NODE, hub_seq, i, "procedure", f"p{hub_seq}", "insert", scope, "{}", "", "", "h", NOW))
    cursor = database.connection().cursor()
    for start in range(0, len(rows), 20000):
        cursor.executemany(sql, rows[start:start + 20000])
    cursor.close()
    return len(rows)


def timed(fn, runs):
    times, found = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        found = fn()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times), found


def measure(label, db, args):
    bind(db, HUB_MODELS)
    codes = sorted(all_communes())[:args.communes]
    own = codes[len(codes) // 2]
    with database.atomic():
        box = BoxNode.create(node_id=f"box-{own}", commune=own, public_key="-", registered_at=NOW)
        t0 = time.perf_counter()
        total = fill(codes, args.entries, own)
    filled = time.perf_counter() - t0
    end = ChangeEntry.select(ChangeEntry.id).order_by(ChangeEntry.id.desc()).first().id
    pulls = (("first pull after the outage", 0), (f"a minute later (last {args.minute:,} entries)", end - args.minute))
    database.execute_sql(f'DROP INDEX "{INDEX}"')  # the schema before: the old query on it
    before = {name: timed(lambda c=c: old_pull(box, c, end, LIMIT), args.runs) for name, c in pulls}
    database.execute_sql(f'CREATE INDEX "{INDEX}" ON "change_entry" ("scope", "id")')
    if "postgres" in label.lower():
        database.execute_sql("ANALYZE change_entry")
    after = {name: timed(lambda c=c: pulled_entries(box, c, end, LIMIT), args.runs) for name, c in pulls}
    rows = []
    for name, _ in pulls:
        (old_ms, old_found), (new_ms, new_found) = before[name], after[name]
        assert [r[0] for r in old_found] == [r[0] for r in new_found], name
        rows.append({"hub": label, "pull": name, "entries in the log": total, "found": len(new_found),
                     "before ms": old_ms, "after ms": new_ms, "before / after": old_ms / new_ms})
    db.close()
    print(f"{label}: {total:,} entries written in {filled:.1f} s")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=100, help="communes whose entries the log holds")
    parser.add_argument("--entries", type=int, default=2000, help="entries each commune pushed after the cursor")
    parser.add_argument("--minute", type=int, default=6000, help="entries of the whole hub in a minute")
    parser.add_argument("--runs", type=int, default=5, help="runs of each pull (the median is printed)")
    parser.add_argument("--postgres", action="store_true", help="also a PostgreSQL hub (a schema of its own)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="motcua-bench-pull-") as tmp:
        rows += measure("SQLite", open_database(str(Path(tmp) / "hub.db")), args)
    if args.postgres:
        schema = f"bench_pull_{os.getpid()}"
        bench_sync.pg_execute(f"CREATE SCHEMA {schema}")
        try:
            rows += measure("PostgreSQL", open_database(bench_sync.pg_url(schema)), args)
        finally:
            bench_sync.pg_execute(f"DROP SCHEMA {schema} CASCADE")
    bench_sync.print_table("A box's pull: the entries it receives found before the index and through it", rows)


if __name__ == "__main__":
    main()
