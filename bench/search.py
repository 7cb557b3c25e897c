"""Kiosk search latency over a catalog of 5,000 procedures (p50, p99), and index build time.

    .venv/bin/python bench/search.py [--procedures 5000] [--queries 2000]

Baseline in the same run: a plain substring scan over the folded names (what a naive search
costs). Target: p99 < 20 ms on the box.
"""
import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from office.catalog_sample import sample  # noqa: E402
from office.search import SearchIndex, fold  # noqa: E402

QUERIES = ("dang ky khai sinh", "khai sinh", "dăng ký khai sinh", "chung thuc ban sao", "ket hon",
           "1.001193", "2.0012", "khai snh", "dat dai lan dau", "tro cap nguoi cao tuoi", "xac nhan hon nhan",
           "hoa giai", "truong hop 17", "gia dinh van hoa")


def percentile(values, q):
    values = sorted(values)
    return values[min(int(len(values) * q), len(values) - 1)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--procedures", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    rows = sample(args.procedures)
    started = time.perf_counter()
    index = SearchIndex([(r["code"], r["code"], r["name"], r["field"]) for r in rows])
    build_ms = (time.perf_counter() - started) * 1000
    rng = random.Random(1)
    queries = [rng.choice(QUERIES) for _ in range(args.queries)]
    folded_names = [fold(r["name"]) for r in rows]

    def timed(fn):
        out = []
        for q in queries:
            t = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - t) * 1000)
        return out

    search = timed(index.search)
    naive = timed(lambda q: [n for n in folded_names if fold(q) in n])
    print(f"catalog: {args.procedures} procedures; index built in {build_ms:.1f} ms; {args.queries} queries\n")
    print(f"{'method':<28}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'mean ms':>9}")
    for name, values in (("motcua search", search), ("substring scan (baseline)", naive)):
        print(f"{name:<28}{percentile(values, .5):>9.2f}{percentile(values, .99):>9.2f}{max(values):>9.2f}"
              f"{statistics.mean(values):>9.2f}")
    p99 = percentile(search, .99)
    print(f"\ntarget p99 < 20 ms: {p99:.2f} ms -> {'met' if p99 < 20 else 'NOT met'}; "
          f"ratio to the baseline's p99: {p99 / percentile(naive, .99):.1f}x")


if __name__ == "__main__":
    main()
