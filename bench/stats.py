"""Statistics benchmark: the hub's statistics pages over 1,000,000 dossiers of 100 communes.

Generates dossiers (two years of receipts), the queue tickets half of them came from and the
ratings of 70 % of those, with raw ``executemany`` (SQLite, a temp file) and ``COPY``
(PostgreSQL, a schema ``bench_stats_<pid>`` in db ``test``, dropped after), never through the
change log. Then times the queries of each main statistics page (``office.stats``,
``office.stats_queue``) on both; installs the hub's queue rollup (``office.stats_rollup``), rolls up,
times the queue pages again and checks their figures equal the live ones (the baseline); times an
Excel export of 100,000 overdue dossiers with the streaming writer and, as the baseline, with
openpyxl (time, and peak Python memory under tracemalloc); and the rollup triggers' cost on
inserting tickets. Prints figures beside targets, asserts nothing.
Usage: .venv/bin/python bench/stats.py [--dossiers 1000000] [--communes 100] [--no-postgres] [--keep]
"""
import argparse
import io
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]  # bench/sync.py and bench/queue.py would shadow the project's and stdlib's modules
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from central.app import HUB_MODELS  # noqa: E402
from office import export, stats, stats_queue  # noqa: E402
from office.calendar import WorkCalendar, timeliness  # noqa: E402
from office.communes import all_communes  # noqa: E402
from office.db import bind, database, open_database  # noqa: E402
from office.stats_period import Filters, Period  # noqa: E402

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 11, 23, 10, 0)  # office-local "now" of the statistics
FIRST_DAY = date(2024, 12, 1)
FIELDS = ("Hộ tịch", "Chứng thực", "Đất đai", "Tư pháp", "Lao động – Thương binh và Xã hội", "Xây dựng",
          "Nông nghiệp", "Văn hóa")
SERVICES = ("ho-tich", "chung-thuc", "dat-dai", "tu-phap", "ldtbxh")
TARGET_SECONDS = 1.0
QUEUE_TARGET_SECONDS = 0.5  # a year of queue statistics over 100 communes
EXPORT_TARGET_SECONDS = 8.0  # 100,000 overdue dossiers to Excel
QUEUE_PAGES = ("queue per service, year", "queue per officer, year", "queue per service, month",
               "queue per counter, month, 1 commune")


def working_days(first, last, calendar):
    day, days = first, []
    while day <= last:
        if calendar.is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def generate(count, communes, seed=7):
    """Rows (tuples in column order) of every table, built once, written to both databases."""
    rng = random.Random(seed)
    calendar = WorkCalendar()
    days = working_days(FIRST_DAY, NOW.date(), calendar)
    procedures = [(f"p{i}", "*", f"1.{i:06d}", f"Thủ tục số {i}", FIELDS[i % len(FIELDS)], 3 + i % 8)
                  for i in range(60)]
    offices, services, counters, officers = [], [], [], []
    for n, code in enumerate(communes):
        offices.append((f"of{n}", code, f"UBND xã số {n}", f"000.19.{code}"))
        services += [(f"s{n}-{k}", code, name, name, chr(65 + k)) for k, name in enumerate(SERVICES)]
        counters += [(f"c{n}-{k}", code, k + 1) for k in range(3)]
        officers += [(f"o{n}-{k}", code, f"canbo{k}", f"Cán bộ {k} xã {n}") for k in range(5)]
    dossiers, tickets, ratings = [], [], []
    seqs = {}
    for i in range(count):
        n = rng.randrange(len(communes))
        commune = communes[n]
        day = rng.choice(days)
        received = datetime.combine(day, datetime.min.time()) + timedelta(minutes=rng.randrange(7 * 60, 17 * 60))
        pid, _, pcode, pname, _, limit = procedures[rng.randrange(len(procedures))]
        due = calendar.add_working_days(calendar.closing(calendar.effective_receipt_day(received)), limit)
        roll = rng.random()
        status, finished, returned, kind = 4, None, None, ""
        age = (NOW - received).days
        if roll < 0.03:
            status = rng.choice((3, 7, 8))
        elif roll < (0.97 if age > 30 else 0.6):
            finished = received + timedelta(hours=rng.uniform(2, 24 * (limit + 4)))  # ~12 % late
            if finished > NOW:
                finished = None
            else:
                status, kind = rng.choice((9, 10, 10)), timeliness(due, finished)
                returned = finished + timedelta(hours=2) if status == 10 else None
        if finished is None and status == 4:
            status = rng.choice((2, 4, 4, 5))
        handler = f"Cán bộ {rng.randrange(5)} xã {n}"
        ticket_id = None
        if i % 2 == 0:  # half came through the queue
            ticket_id = f"t{i:07d}"
            local_day = received.date().isoformat()
            key = (commune, local_day)
            seqs[key] = seq = seqs.get(key, 0) + 1
            issued = received - timedelta(hours=7, minutes=rng.uniform(5, 60))  # UTC
            called = issued + timedelta(seconds=rng.expovariate(1 / 900))
            state = rng.choices(("done", "no_show", "cancelled"), (93, 4, 3))[0]
            serving = ended = None
            if state == "cancelled":
                called = None
            elif state == "done":
                serving = called + timedelta(seconds=rng.uniform(10, 90))
                ended = serving + timedelta(seconds=rng.expovariate(1 / 420))
            counter = f"c{n}-{rng.randrange(3)}" if called else None
            officer = f"o{n}-{rng.randrange(5)}" if called else None
            tickets.append((ticket_id, commune, local_day, "A", seq, f"A-{seq:03d}", f"s{n}-{rng.randrange(5)}", state,
                            f"tr{i:07d}", counter, officer, issued, issued, called, serving, ended))
            if state == "done" and rng.random() < 0.7:
                score = rng.choices((3, 2, 1), (60, 33, 7))[0]
                ratings.append((f"r{i:07d}", commune, ticket_id, officer, counter, score, ended))
        dossiers.append((f"d{i:07d}", commune, f"000.19.{commune}-{i:07d}", pcode, pname, "Nguyễn Văn An", ticket_id,
                         status, "Thẩm định hồ sơ", handler, f"000.19.{commune}", received, due, finished, returned,
                         kind))
    # rows reach the hub in time order (boxes push their log in order): keep that locality
    dossiers.sort(key=lambda d: d[11])
    tickets.sort(key=lambda t: t[11])
    ratings.sort(key=lambda r: r[6])
    return {
        "office": (("id", "commune", "name", "agency_code"), offices),
        "procedure": (("id", "commune", "code", "name", "field", "days"), procedures),
        "service": (("id", "commune", "code", "name", "prefix"), services),
        "counter": (("id", "commune", "number"), counters),
        "officer": (("id", "commune", "username", "full_name"), officers),
        "ticket": (("id", "commune", "day", "prefix", "seq", "number", "service_id", "state", "tracking_code",
                    "counter_id", "officer_id", "issued_at", "queued_at", "called_at", "serving_at", "ended_at"),
                   tickets),
        "rating": (("id", "commune", "ticket_id", "officer_id", "counter_id", "score", "created_at"), ratings),
        "dossier": (("id", "commune", "code", "procedure_code", "procedure_name", "applicant_name", "ticket", "status",
                     "stage", "handler", "agency", "received_at", "due_at", "finished_at", "returned_at",
                     "timeliness"), dossiers),
    }


def defaults(table, columns):
    """The columns a row does not give, with the model's defaults (peewee's, not the database's)."""
    model = next(m for m in HUB_MODELS if m._meta.table_name == table)
    extra = {}
    for field in model._meta.sorted_fields:
        if field.column_name in columns or field.null:
            continue
        value = field.default() if callable(field.default) else field.default
        extra[field.column_name] = field.db_value(value if value is not None else "x")
    return extra


def load_sqlite(path, tables):
    bind(open_database(str(path)), HUB_MODELS).close()  # the schema, with its indexes
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    names = ", ".join(f"'{t}'" for t in tables)
    indexes = conn.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                           f"AND tbl_name IN ({names})").fetchall()
    with conn:  # rows first, indexes after: one sort per index instead of a million inserts into each
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for table, (columns, rows) in tables.items():
            extra = defaults(table, columns)
            names = ", ".join(f'"{c}"' for c in (*columns, *extra))
            marks = ", ".join("?" for _ in (*columns, *extra))
            conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                             (tuple(_sqlite(v) for v in row) + tuple(extra.values()) for row in rows))
        for _, sql in indexes:
            conn.execute(sql)
    conn.close()


def _sqlite(value):
    return str(value) if isinstance(value, datetime) else value  # peewee keeps datetimes as ISO text


def load_postgres(url, schema, tables):
    import psycopg2

    bind(open_database(url), HUB_MODELS).close()
    conn = psycopg2.connect(PG_URL, options=f"-csearch_path={schema}")
    with conn, conn.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = ANY(%s) "
                    "AND indexname NOT IN (SELECT conname FROM pg_constraint)", (schema, list(tables)))
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        for table, (columns, rows) in tables.items():
            extra = defaults(table, columns)
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(_copy(v) for v in (*row, *extra.values())) + "\n")
            buffer.seek(0)
            names = ", ".join(f'"{c}"' for c in (*columns, *extra))
            cur.copy_expert(f'COPY "{table}" ({names}) FROM STDIN', buffer)
        for _, sql in indexes:
            cur.execute(sql)
        cur.execute("ANALYZE")
    conn.close()


def _copy(value):
    if value is None:
        return r"\N"
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def pages(communes):
    """The queries of each main statistics page: (name, function)."""
    month, year = Period.month(2026, 10), Period.year(2025)
    one = Filters(commune=communes[0])
    return (
        ("summary by commune, month", lambda: stats.summary(month, Filters(), "commune", NOW)),
        ("summary by commune, year", lambda: stats.summary(year, Filters(), "commune", NOW)),
        ("summary by field, year, 1 commune", lambda: stats.summary(year, one, "field", NOW)),
        ("summary by month, year", lambda: stats.summary(year, Filters(), "month", NOW)),
        ("overdue list, month (page: 300)", lambda: list(stats.overdue(month, Filters(), NOW, limit=300).rows)),
        ("overdue list, year (page: 300)", lambda: list(stats.overdue(year, Filters(), NOW, limit=300).rows)),
        ("lateness per handler, year", lambda: stats.lateness_by_handler(year, Filters(), NOW)),
        ("satisfaction per officer, month", lambda: stats_queue.satisfaction(month, Filters(), "officer")),
        ("satisfaction per officer, year", lambda: stats_queue.satisfaction(year, Filters(), "officer")),
        ("queue per service, month", lambda: stats_queue.queue_stats(month, Filters(), "service")),
        ("queue per service, year", lambda: stats_queue.queue_stats(year, Filters(), "service")),
        ("queue per officer, year", lambda: stats_queue.queue_stats(year, Filters(), "officer")),
        ("queue per counter, month, 1 commune", lambda: stats_queue.queue_stats(month, one, "counter")),
        ("766 index, year", lambda: stats.index766(year, Filters(), NOW)),
    )


def time_pages(communes, runs, only=None):
    """{page: (best, median wall seconds, median CPU seconds, result)}."""
    results = {}
    for name, run in pages(communes):
        if only is not None and name not in only:
            continue
        times, cpu = [], []
        for _ in range(runs):
            start, used = time.perf_counter(), time.process_time()
            result = run()
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - used)
        results[name] = (min(times), statistics.median(times), statistics.median(cpu), result)
        print(f"  {name:<38}{min(times):8.3f} s (CPU {statistics.median(cpu):.3f} s)", flush=True)
    return results


def figures(table):
    return table.rows, table.total


def roll_up_queue(db, communes, runs, live):
    """Install the rollup on the loaded hub (every day stale), roll it up, time the queue pages again
    and compare their figures with the live ones (``live``: results of ``time_pages``)."""
    from office import stats_rollup

    start = time.perf_counter()
    stats_rollup.install(db)
    installed = time.perf_counter() - start
    stale = time_pages(communes, 1, only=("queue per service, year",))
    start, used = time.perf_counter(), time.process_time()
    days, months = stats_rollup.roll_up(NOW.date().isoformat())
    seconds, cpu = time.perf_counter() - start, time.process_time() - used
    print(f"  rollup installed in {installed:.2f} s; a year read before any rollup (every day from the tickets): "
          f"{stale['queue per service, year'][0]:.3f} s; rolled up {days:,} commune-days and {months:,} "
          f"commune-months in {seconds:.1f} s (CPU {cpu:.1f} s)", flush=True)
    rolled = time_pages(communes, runs, only=QUEUE_PAGES)
    same = all(figures(rolled[name][3]) == figures(live[name][3]) for name in rolled)
    print(f"  rolled-up figures equal the live ones on every queue page: {same}", flush=True)
    return rolled, same, (days, months, seconds)


def time_export(rows, out_dir):
    everything = Period.between(FIRST_DAY, NOW.date())

    def build():
        table = stats.overdue(everything, Filters(), NOW, limit=rows)
        return export.table_workbook(table, "Trung tâm điều hành một cửa", NOW), table

    start, used = time.perf_counter(), time.process_time()
    book, _ = build()
    with export.save(book) as out:
        size = out.seek(0, os.SEEK_END)
    seconds, cpu = time.perf_counter() - start, time.process_time() - used
    tracemalloc.start()
    book, _ = build()
    with export.save(book):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # the baseline: the same rows through openpyxl's write-only workbook (what export.py did before)
    writers = _bench_module("export")
    start, used = time.perf_counter(), time.process_time()
    writers.write_openpyxl(stats.overdue(everything, Filters(), NOW, limit=rows).rows, out_dir / "openpyxl.xlsx")
    base_seconds, base_cpu = time.perf_counter() - start, time.process_time() - used
    (out_dir / "openpyxl.xlsx").unlink()
    return seconds, cpu, size, peak, base_seconds, base_cpu


def _bench_module(name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def trigger_cost(tables, count=50_000):
    """Tickets/s inserted with ``executemany`` into a fresh SQLite hub without and with the rollup's
    triggers (what a push of tickets pays for them)."""
    from office import stats_rollup

    columns, rows = tables["ticket"]
    rows = rows[:count]
    extra = defaults("ticket", columns)
    names = ", ".join(f'"{c}"' for c in (*columns, *extra))
    marks = ", ".join("?" for _ in (*columns, *extra))
    results = []
    for with_triggers in (False, True):
        work = Path(tempfile.mkdtemp(prefix="bench-stats-triggers-"))
        db = bind(open_database(str(work / "hub.db")), HUB_MODELS)
        if with_triggers:
            stats_rollup.install(db)
        db.close()
        database.initialize(None)
        conn = sqlite3.connect(work / "hub.db")
        conn.execute("PRAGMA foreign_keys = OFF")
        start = time.perf_counter()
        with conn:
            conn.executemany(f'INSERT INTO "ticket" ({names}) VALUES ({marks})',
                             (tuple(_sqlite(v) for v in row) + tuple(extra.values()) for row in rows))
        results.append(len(rows) / (time.perf_counter() - start))
        conn.close()
        for child in work.iterdir():
            child.unlink()
        work.rmdir()
    return results


def explain_sqlite():
    query = stats.dossier_filter(stats.Dossier.select(stats.Dossier.commune), Period.month(2026, 10), Filters())
    sql, params = query.sql()
    return [row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--communes", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    communes = sorted(all_communes())[:args.communes]
    start = time.perf_counter()
    tables = generate(args.dossiers, communes)
    print(f"generated {args.dossiers:,} dossiers, {len(tables['ticket'][1]):,} tickets, "
          f"{len(tables['rating'][1]):,} ratings over {args.communes} communes in {time.perf_counter() - start:.1f} s",
          flush=True)
    late = sum(1 for d in tables["dossier"][1] if d[-1] == "late")
    print(f"finished late: {late:,}; open: {sum(1 for d in tables['dossier'][1] if d[7] in (1, 2, 4, 5, 6)):,}")
    work = Path(tempfile.mkdtemp(prefix="bench-stats-"))
    results, exports, rolled = {}, {}, {}
    rounds = ([] if args.no_sqlite else [("sqlite", work / "hub.db")]) + ([] if args.no_postgres else [("postgresql", None)])
    for kind, path in rounds:
        schema = None
        start = time.perf_counter()
        if kind == "sqlite":
            load_sqlite(path, tables)
            url = str(path)
        else:
            from tests.sync.conftest import postgres_schema

            schema, url = postgres_schema()
            load_postgres(url, schema, tables)
        print(f"\n{kind}: loaded in {time.perf_counter() - start:.1f} s", flush=True)
        handle = bind(open_database(url), HUB_MODELS)
        try:
            if kind == "sqlite":
                print("  plan of a month's summary: " + "; ".join(explain_sqlite()))
            print("  pages, every figure from the rows (no queue rollup):", flush=True)
            results[kind] = time_pages(communes, args.runs)
            print("  queue pages with the rollup:", flush=True)
            rolled[kind] = roll_up_queue(handle, communes, args.runs, results[kind])
            if not args.no_export:
                exports[kind] = time_export(args.export_rows, work)
        finally:
            handle.close()
            database.initialize(None)
            if schema and not args.keep:
                from tests.sync.conftest import drop_schema

                drop_schema(schema)
    kinds = list(results)
    print(f"\nStatistics pages without the queue rollup: best / median of {args.runs} runs, seconds "
          f"(target < {TARGET_SECONDS:.0f} s each)")
    print(f"{'page':<38}" + "".join(f"{k + ' best':>18}{k + ' median':>20}" for k in kinds)
          + ("   pg/sqlite" if len(kinds) == 2 else ""))
    for name in results[kinds[0]]:
        line = f"{name:<38}" + "".join(f"{results[k][name][0]:>18.3f}{results[k][name][1]:>20.3f}" for k in kinds)
        if len(kinds) == 2:
            line += f"{results['postgresql'][name][1] / results['sqlite'][name][1]:>12.2f}"
        print(line)
    for kind in kinds:
        worst = max(r[1] for name, r in results[kind].items() if name not in QUEUE_PAGES)
        print(f"{kind}: slowest page other than the queue's, median {worst:.3f} s -> target "
              f"{'met' if worst < TARGET_SECONDS else 'NOT met'}")
    print(f"\nQueue pages, median of {args.runs} runs, seconds: live (baseline, from the tickets) vs rolled up "
          f"(target < {QUEUE_TARGET_SECONDS} s for a year over {args.communes} communes)")
    for kind in kinds:
        pages_rolled, same, (days, months, seconds) = rolled[kind]
        for name in QUEUE_PAGES:
            live, now = results[kind][name], pages_rolled[name]
            target = ""
            if name.endswith(", year"):
                target = f"  target {'met' if now[1] < QUEUE_TARGET_SECONDS else 'NOT met'}"
            print(f"  {kind:<11}{name:<38} live {live[1]:7.3f} (CPU {live[2]:.3f})   rolled up {now[1]:7.3f} "
                  f"(CPU {now[2]:.3f})   {live[1] / now[1]:5.1f}×{target}")
        print(f"  {kind:<11}same figures: {same}; rolling up {days:,} commune-days and {months:,} commune-months "
              f"took {seconds:.1f} s")
    if exports:
        print(f"\nExcel export of {args.export_rows:,} overdue dossiers, query included (target < "
              f"{EXPORT_TARGET_SECONDS:.0f} s); baseline: openpyxl write-only on the same rows")
    for kind, (seconds, cpu, size, peak, base_seconds, base_cpu) in exports.items():
        print(f"  {kind}: {seconds:.1f} s (CPU {cpu:.1f} s, {args.export_rows / seconds:,.0f} rows/s), "
              f"{size / 1e6:.1f} MB file, peak Python memory {peak / 1e6:.1f} MB -> target "
              f"{'met' if seconds < EXPORT_TARGET_SECONDS else 'NOT met'}; openpyxl {base_seconds:.1f} s "
              f"(CPU {base_cpu:.1f} s), {base_seconds / seconds:.1f}× slower")
    if not args.no_sqlite:
        plain, triggered = trigger_cost(tables)
        print(f"\nInserting tickets into a SQLite hub (executemany, one transaction): {plain:,.0f}/s without the "
              f"rollup's triggers, {triggered:,.0f}/s with them ({100 * (plain / triggered - 1):.0f} % more time)")
    if args.keep:
        print(f"\nkept {work}")
    else:
        for child in work.iterdir():
            child.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
