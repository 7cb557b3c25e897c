"""Blob replication benchmark: 1,000 files of 200 KB-2 MB written at a hub for one commune travel to
its box through the chaos suite's fault proxy (drops, delays, duplicates, reorders, cut answers).

Starts ``motcua hub serve`` (SQLite) on 127.0.0.1, writes the Attachment rows and their bytes at the
hub (random sizes, seeded), makes and registers a box, pulls the rows (directly), then runs the box
worker's ``blobs.travel.transfer`` rounds against the proxy until every file is whole or the time
budget is spent. Checks every file at the box against its sha256. Baselines in the same run: the same
link without faults for 20 s (into an empty store), and reading and hashing the files from the hub's
disk (the ceiling of this machine's disk and sha256).
Prints figures beside targets, asserts nothing.
Usage: .venv/bin/python bench/blobs.py [--files 1000] [--rate 0.2] [--seed 14] [--budget 900] [--keep]
"""
import argparse
import hashlib
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this folder comes first on sys.path (bench/sync.py would shadow the ``sync``
# package): take it off.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from blobs import DiskStore, open_store  # noqa: E402
from blobs.travel import transfer  # noqa: E402
from office.attachments import Attachment  # noqa: E402
from sync.capture import this_node  # noqa: E402
from tests.blobs.support import HubRows, client_via  # noqa: E402
from tests.chaos.proxy import FaultProxy  # noqa: E402
from tests.sync.conftest import Box, HubProcess  # noqa: E402

MB = 1024 * 1024
TARGET_MBPS = 5.0  # a commune's link is slower than this; the box must never be the bottleneck


def write_at_hub(hub, files, seed, min_kb, max_kb):
    rng = random.Random(seed)
    total = 0
    with HubRows(hub) as rows:
        for n in range(files):
            size = rng.randint(min_kb * 1024, max_kb * 1024)
            rows.attach("05518", rng.randbytes(size), owner=f"online-{n // 3}", name=f"giay-to-{n}.pdf")
            total += size
    return total


def baseline(hub, rows, limit=100):
    """MB/s of reading and hashing files from the hub's store (this machine's ceiling)."""
    store = DiskStore(os.path.join(hub.dir, "blobs"))
    started, done = time.monotonic(), 0
    for sha, size in rows[:limit]:
        with store.open(sha) as f:
            hashlib.sha256(f.read()).hexdigest()
        done += size
    return done / MB / (time.monotonic() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--min-kb", type=int, default=200)
    parser.add_argument("--max-kb", type=int, default=2048)
    parser.add_argument("--rate", type=float, default=0.2, help="share of requests the proxy spoils")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--budget", type=float, default=900, help="seconds the transfer may take at most")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    logging.getLogger("motcua.sync.client").setLevel(logging.ERROR)  # each spoilt request is counted below

    root = Path(tempfile.mkdtemp(prefix="motcua-bench-blobs-"))
    hub = proxy = box = None
    try:
        hub = HubProcess(root / "hub").start()
        t0 = time.monotonic()
        total = write_at_hub(hub, args.files, args.seed, args.min_kb, args.max_kb)
        print(f"hub: {args.files} files, {total / MB:.1f} MB written in {time.monotonic() - t0:.1f} s")
        box = Box(root / "box", "05518", hub)
        hub.register(box)
        t0 = time.monotonic()
        while True:
            result = box.sync()
            if not result["ok"] or not result["received"]:
                break
        with box:
            rows = list(Attachment.select(Attachment.sha256, Attachment.size).tuples())
        print(f"box: {len(rows)} rows pulled in {time.monotonic() - t0:.1f} s")
        ceiling = baseline(hub, rows)

        proxy = FaultProxy(hub.port, seed=args.seed, rate=args.rate, hold_s=0.5).start()
        client = client_via(box, proxy.url)
        store = open_store(box.settings)
        started, rounds, fetched, failed, errors, retried = time.monotonic(), 0, 0, 0, 0, 0
        with box:
            node_id = this_node().node_id
            while time.monotonic() - started < args.budget:
                rounds += 1
                left = args.budget - (time.monotonic() - started)
                result = transfer(client, store, node_id, budget_s=min(60, left))
                fetched += result["fetched"]
                failed += result["failed"]
                errors += bool(result["error"])
                retried += result["retried"]
                if result["waiting"] == 0 and not result["error"]:
                    break
                if result["error"]:
                    time.sleep(0.2)  # the worker's next run, shortened
        elapsed = time.monotonic() - started
        proxy.heal()
        # in-run baseline: the same proxy without faults, into an empty store, for 20 s
        clean_store = DiskStore(root / "clean-link")
        clean_started = time.monotonic()
        with box:
            clean = transfer(client, clean_store, node_id, budget_s=20)
        clean_mbps = clean["fetched_bytes"] / MB / (time.monotonic() - clean_started)

        whole = bad = missing = 0
        for sha, size in rows:
            if not store.has(sha):
                missing += 1
                continue
            with store.open(sha) as f:
                data = f.read()
            if hashlib.sha256(data).hexdigest() == sha and len(data) == size:
                whole += 1
            else:
                bad += 1
        moved = sum(size for sha, size in rows if store.has(sha))
        print()
        print(f"transfer through the fault proxy (rate {args.rate}, seed {args.seed}): {rounds} rounds, "
              f"{elapsed:.1f} s, {errors} rounds ended by a link down, {retried} files retried from their partial, {failed} files not taken in a round (request refused or bytes not matching), taken later")
        print("proxy faults: " + ", ".join(f"{k} {v}" for k, v in sorted(proxy.counts.items())))
        print(f"{'figure':<44}{'measured':>14}{'target':>14}")
        print(f"{'throughput (MB/s)':<44}{moved / MB / elapsed:>14.1f}{'>= ' + str(TARGET_MBPS):>14}")
        print(f"{'files per second':<44}{fetched / elapsed:>14.1f}{'':>14}")
        print(f"{'baseline: the same link without faults (MB/s)':<44}{clean_mbps:>14.1f}{'':>14}")
        print(f"{'baseline: read + sha256 at the hub (MB/s)':<44}{ceiling:>14.1f}{'':>14}")
        print(f"{'files whole at the box (sha256 checked)':<44}{whole:>14}{len(rows):>14}")
        print(f"{'files corrupt at the box':<44}{bad:>14}{0:>14}")
        print(f"{'files missing at the box':<44}{missing:>14}{0:>14}")
        print(f"{'partial files left at the box':<44}{len(os.listdir(store.partials)):>14}{0:>14}")
        print("OK" if whole == len(rows) and not bad else "NOT ALL WHOLE")
    finally:
        if proxy:
            proxy.close()
        if box:
            box.db.close()
        if hub:
            hub.close()
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
