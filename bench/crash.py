"""SIGKILL a box's ticket writer N times at random moments, then check what survived.

The same harness as ``tests/crash/test_sigkill.py`` (see ``tests/crash/harness.py``), with
more kills. Prints figures; exits 1 if any check failed (a lost acknowledged ticket, a gap
or duplicate in the numbering, a broken change-log chain, rows that disagree with the log,
a damaged database).
Usage: .venv/bin/python bench/crash.py [--kills 1000] [--seed S] [--concurrent 0.25]
       [--fresh 0.1] [--check-every 0] [--keep]
"""
import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]
sys.path.insert(0, str(ROOT))

from tests.crash import harness


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--concurrent", type=float, default=0.25, help="share of rounds with two issuers")
    parser.add_argument("--fresh", type=float, default=0.1, help="share of rounds that start new interpreters")
    parser.add_argument("--check-every", type=int, default=0, help="also run the checks every N kills")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (the database)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="motcua-crash-"))
    path = work / "box.db"
    print(f"seed {seed}  kills {args.kills}  database {path}", flush=True)
    harness.prepare(path)

    def progress(part, acks):  # figures of the current part, plus the parts before it
        print(f"  {stats.kills + part.kills:6d} kills  {len(total.tickets) + len(acks.tickets):7d} tickets "
              f"acknowledged  {time.monotonic() - started:6.1f} s", flush=True)

    problems, checks, check_time = [], 0, 0.0
    started = time.monotonic()
    total = harness.Acks()
    stats = harness.Stats()
    step = args.check_every or args.kills
    try:
        with open(work / "issuer.err", "ab") as stderr:
            while stats.kills < args.kills and not problems:
                acks, part = harness.run(path, min(step, args.kills - stats.kills), rng, stderr,
                                         concurrent=args.concurrent, fresh_share=args.fresh, progress=progress)
                total.tickets.update(acks.tickets)
                total.ratings.update(acks.ratings)
                total.events.update(acks.events)
                for name in ("rounds", "kills", "early_kills", "concurrent_rounds", "fresh_rounds", "elapsed"):
                    setattr(stats, name, getattr(stats, name) + getattr(part, name))
                t = time.monotonic()
                problems, held = harness.verify(path, total)
                check_time += time.monotonic() - t
                checks += 1
    except harness.ChildFailed as exc:
        problems = [f"issuer failed: {exc}", (work / "issuer.err").read_text()[-3000:]]
        held = {}
    elapsed = time.monotonic() - started
    print()
    print(f"seed               {seed}")
    print(f"kills              {stats.kills}  ({stats.early_kills} before the issuer was ready)")
    print(f"rounds             {stats.rounds}  ({stats.concurrent_rounds} with two issuers, "
          f"{stats.fresh_rounds} with new interpreters)")
    print(f"tickets            {len(total.tickets)} acknowledged, {held.get('tickets')} held")
    print(f"ratings            {len(total.ratings)} acknowledged, {held.get('ratings')} held")
    print(f"events             {sum(total.events.values())} acknowledged")
    print(f"change-log entries {held.get('entries')}")
    print(f"elapsed            {elapsed:.1f} s  ({stats.elapsed:.1f} s killing, {check_time:.1f} s in {checks} checks, "
          f"{stats.kills / max(stats.elapsed, 1e-9):.1f} kills/s)")
    print(f"violations         {len(problems)}")
    for line in problems[:40]:
        print("  " + line)
    if args.keep or problems:
        print(f"kept {work}")
    else:
        shutil.rmtree(work)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
