"""Storage growth benchmark: a year of a busy commune office on a box, without and with upkeep.

Runs the sync benchmark's office-day generator (tickets, calls, services, transfers, ratings
through ``office.queue`` with explicit ``now=``) over ``--days`` office days into two fresh
boxes. Each evening the hub is taken to have confirmed the day's change log. The first box
keeps everything (the old behaviour); the second runs the worker's hourly upkeep once a
day (``edge.upkeep.storage_upkeep``: confirmed change-log entries older than
``--keep-days`` go, print previews beyond ``print_previews_keep``). Both boxes write one
task into the huey task store and one log line per ticket, as the box does for each print.
Print previews (printer ``preview`` only) are counted for the first box from the size of
one real preview, and written and pruned on the second.

Prints the data directory in MB, by part, for both; asserts nothing.
Usage: .venv/bin/python bench/growth.py [--days 250] [--tickets 180] [--keep-days 90]
       [--only without|with] [--keep]
"""
import argparse
import importlib.util
import logging
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]  # bench/sync.py and bench/queue.py would shadow the project's packages
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from huey import SqliteHuey  # noqa: E402

from devices.health import DATA_PARTS, read_data_sizes  # noqa: E402
from devices.printer import PreviewPrinter, write_ticket  # noqa: E402
from edge.upkeep import storage_upkeep  # noqa: E402
from motcua.logs import rotating_file_handler  # noqa: E402
from office import queue  # noqa: E402
from office.communes import find_commune  # noqa: E402
from office.db import bind, database, open_database  # noqa: E402
from office.models import MODELS, Officer, Ticket  # noqa: E402
from office.seed import seed_office  # noqa: E402
from provisioning.identity import ensure_identity  # noqa: E402
from sync.models import ChangeEntry, SyncNode  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_sync", ROOT / "bench" / "sync.py")
bench_sync = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_sync)

MB = 1024 * 1024
PREVIEWS_KEEP = 200


def preview_bytes():
    """The size of one real preview (``.bin`` + ``.png``) of a typical ticket."""
    payload = {"office": "UBND phường Sông Công", "number": "A123", "service": "Hộ tịch",
               "estimated_wait_min": 25, "ahead": 7, "issued_at": "08:15 05/12/2026",
               "tracking_code": "ABCD2345", "qr": "https://motcua.example.vn/t/05518/ABCDEFGHJKLMNPQR"}
    with tempfile.TemporaryDirectory() as directory:
        write_ticket(PreviewPrinter(directory), payload, 576, stem="A123")
        return sum(p.stat().st_size for p in Path(directory).iterdir())


def run_box(box_dir, days, tickets, keep_days, seed, preview_size, label):
    """Generate ``days`` office days into a new box in ``box_dir``; return its figures."""
    box_dir.mkdir(parents=True)
    settings = {"data_dir": str(box_dir), "log_keep_days": keep_days, "print_previews_keep": PREVIEWS_KEEP}
    db = open_database(str(box_dir / "edge.db"))
    huey = SqliteHuey("motcua-edge", filename=str(box_dir / "edge-huey.db"), results=False)

    @huey.task(name="print_job")
    def print_job(job_id):
        return None

    (box_dir / "logs").mkdir()
    log_handler = rotating_file_handler(box_dir / "logs" / "worker.log")
    log_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("bench.growth")
    logger.propagate, logger.level = False, logging.INFO
    logger.addHandler(log_handler)
    prints = box_dir / "prints"
    prints.mkdir()
    filler = b"\0" * preview_size
    started, made, pruned = time.perf_counter(), 0, 0
    with bench_sync.using(db):
        bind(db, MODELS)
        ensure_identity(box_dir, bench_sync.COMMUNE)
        seed_office(find_commune(bench_sync.COMMUNE))
        rng = random.Random(seed)
        policy = queue.QueuePolicy()
        officers = list(Officer.select().order_by(Officer.username))
        for i, day in enumerate(bench_sync.office_days(days)):
            first_seq = SyncNode.get().last_seq
            with database.atomic():
                bench_sync.OfficeDay(policy, rng, day, tickets, officers).run()
                # The log stamps its entries with the wall clock; they belong to the generated day.
                ChangeEntry.update(created_at=bench_sync._utc(day, dtime(17))).where(
                    ChangeEntry.seq > first_seq).execute()
            local_day = policy.local_day(bench_sync._utc(day, dtime(12)))
            issued = [t.number for t in Ticket.select(Ticket.number).where(Ticket.day == local_day)]
            for n, number in enumerate(issued):
                print_job(n)
                task = huey.dequeue()
                if task is not None:
                    huey.execute(task)
                logger.info("print job %s: printed ticket %s", n, number)
                if keep_days:  # the pruned box: its previews are written, then kept within bounds
                    (prints / f"{day:%Y%m%d}-{number}.png").write_bytes(filler)
            made += len(issued)
            SyncNode.update(acked_seq=SyncNode.last_seq).execute()  # the hub confirmed the day by evening
            if keep_days:
                night = bench_sync._utc(day, dtime(23))
                pruned += storage_upkeep(settings, now=night)["log_entries"]
            if (i + 1) % 25 == 0:
                now_sizes = read_data_sizes(box_dir, str(box_dir / "edge.db"))
                if not keep_days:
                    now_sizes["prints"] = made * preview_size
                print(f"  {label}: day {i + 1}/{days}, {made:,} tickets, {ChangeEntry.select().count():,} "
                      f"log entries kept, database {now_sizes['database'] / MB:.1f} MB, data dir "
                      f"{sum(now_sizes.values()) / MB:.1f} MB, {time.perf_counter() - started:.0f} s", flush=True)
        entries_kept = ChangeEntry.select().count()
        last_seq = SyncNode.get().last_seq
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    huey.storage.close() if hasattr(huey.storage, "close") else None
    logger.removeHandler(log_handler)
    log_handler.close()
    sizes = read_data_sizes(box_dir, str(box_dir / "edge.db"))
    if not keep_days:
        sizes["prints"] = made * preview_size  # counted, not written
    return {"label": label, "days": days, "tickets": made, "entries": last_seq, "entries_kept": entries_kept,
            "pruned": pruned, "sizes": sizes, "tables": table_sizes(box_dir / "edge.db"),
            "seconds": time.perf_counter() - started}


def table_sizes(path):
    """Bytes per table and index of a SQLite file (``dbstat``), largest first."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
        free = conn.execute("PRAGMA freelist_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    return rows, free


def report(runs):
    print(f"\nData directory after {runs[0]['days']} office days, MB")
    heads = ["box", "tickets", "log entries", "kept on box"] + [label for _, label in DATA_PARTS] + ["total"]
    print(" | ".join(heads))
    for r in runs:
        s = r["sizes"]
        cells = [r["label"], f"{r['tickets']:,}", f"{r['entries']:,}", f"{r['entries_kept']:,}"]
        cells += [f"{s[key] / MB:.1f}" for key, _ in DATA_PARTS] + [f"{sum(s.values()) / MB:.1f}"]
        print(" | ".join(cells))
    for r in runs:
        rows, free = r["tables"]
        change = sum(size for name, size in rows if "change_entry" in name)
        print(f"\n{r['label']}: database {r['sizes']['database'] / MB:.1f} MB, of which change log "
              f"(table + indexes) {change / MB:.1f} MB, free pages {free / MB:.1f} MB; generated in "
              f"{r['seconds']:.0f} s")
        for name, size in rows[:6]:
            print(f"  {name:40s} {size / MB:8.1f} MB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=250, help="office days (a year: about 250)")
    parser.add_argument("--tickets", type=int, default=180, help="tickets per office day (a busy commune)")
    parser.add_argument("--keep-days", type=int, default=90, help="log_keep_days of the box with upkeep")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("without", "with"), help="run one of the two boxes only (two such "
                        "runs can go in parallel on two cores)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-growth-"))
    print(f"work dir {work}; {args.days} office days of {args.tickets} tickets; upkeep keeps "
          f"{args.keep_days} days of confirmed change log and {PREVIEWS_KEEP} previews")
    try:
        size = preview_bytes()
        runs = []
        if args.only != "with":
            runs.append(run_box(work / "before", args.days, args.tickets, 0, args.seed, size, "without upkeep"))
        if args.only != "without":
            runs.append(run_box(work / "after", args.days, args.tickets, args.keep_days, args.seed, size,
                                "with upkeep"))
        report(runs)
    finally:
        if args.keep:
            print(f"\nkept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
