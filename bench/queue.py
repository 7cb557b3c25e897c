"""Load benchmark of one commune box: ticket issuing against the trivial health endpoint.

Starts a fresh box (``edge init``, ``edge serve``, ``edge worker`` with the dummy printer)
in a temp dir, drives it with N keep-alive clients from one asyncio loop, then checks the
numbers handed out and reports throughput, latency and memory. Prints figures, asserts nothing.
Usage: .venv/bin/python bench/queue.py [--clients 20] [--seconds 10] [--workers 1] [--threads 8]
"""
import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, where it would shadow the
# standard library's ``queue`` (imported by asyncio, urllib...): take the folder off.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("ho-tich", "chung-thuc", "dat-dai", "tu-phap", "ldtbxh")
TARGET_P99_MS, TARGET_RATIO, TARGET_MB = 50.0, 0.5, 120.0
TICK = os.sysconf("SC_CLK_TCK")


# ---- the box under test -------------------------------------------------------------------

class Box:
    def __init__(self, data_dir, workers, threads):
        self.dir, self.port, self.procs = Path(data_dir), _free_port(), {}
        self.common = ["--data-dir", str(self.dir), "--port", str(self.port), "--commune-code", "05518",
                       "--printer", "dummy", "--log-level", "WARNING"]
        self.web_options = ["--web-workers", str(workers), "--web-threads", str(threads)]

    def start(self, timeout=30):
        subprocess.run(_motcua("edge", "init", *self.common), check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        self.procs["web"] = self._spawn("serve", *self.web_options)
        self.procs["worker"] = self._spawn("worker")
        deadline = time.monotonic() + timeout
        while True:
            if any(p.poll() is not None for p in self.procs.values()):
                raise RuntimeError(f"a box process exited at start; see the logs in {self.dir}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/health", timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no answer on port {self.port} after {timeout} s") from None
                time.sleep(0.2)

    def _spawn(self, command, *extra):
        log = open(self.dir / f"{command}.log", "wb")
        return subprocess.Popen(_motcua("edge", command, *self.common, *extra), cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                env=dict(os.environ, PYTHONUNBUFFERED="1"))

    def trees(self):
        """{'web': [pids of serve and its children], 'worker': [...]} from /proc."""
        return {name: _process_tree(p.pid) for name, p in self.procs.items() if p.poll() is None}

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        for p in self.procs.values():
            try:
                p.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)  # its own session: master and gunicorn workers
                p.wait()


def _motcua(*args):
    return [sys.executable, "-m", "motcua", *args]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid):
    """(ppid, cpu seconds) of a process, or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _process_tree(root):
    parents = {int(d.name): st[0] for d in Path("/proc").iterdir() if d.name.isdigit() and (st := _stat(d.name))}
    tree = [root]
    for pid in tree:
        tree += [child for child, ppid in parents.items() if ppid == pid]
    return tree


def _cpu(trees):
    return {name: sum(st[1] for pid in pids if (st := _stat(pid))) for name, pids in trees.items()}


def _memory_mb(pid):
    """(rss, pss or None, peak rss) in MB of one process."""
    def kb(path, key):
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
    return kb(f"/proc/{pid}/status", "VmRSS") or 0.0, kb(f"/proc/{pid}/smaps_rollup", "Pss"), \
        kb(f"/proc/{pid}/status", "VmHWM") or 0.0


# ---- the load generator -------------------------------------------------------------------

def _request(method, path, body=None):
    head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\n"
    if body is None:
        return (head + "\r\n").encode()
    data = json.dumps(body).encode()
    return (head + f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data


HEALTH = [_request("GET", "/api/v1/health")]
TICKETS = [_request("POST", "/api/v1/tickets", {"service": code}) for code in SERVICES]


async def _client(port, state, requests, ok_status, latencies, errors):
    reader = writer = None
    while state["sent"] < state["limit"] and time.perf_counter() < state["deadline"]:
        raw = requests[state["sent"] % len(requests)]
        state["sent"] += 1
        t0 = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = next((int(line[15:]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
            if b"connection: close" in head.lower():
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            writer = None
            continue
        latencies.append(time.perf_counter() - t0)
        if status != ok_status:
            errors[status] = errors.get(status, 0) + 1
    if writer is not None:
        writer.close()


def run_phase(box, name, requests, ok_status, clients, seconds, limit):
    """Run one phase; return its row of figures (and the count of successful requests)."""
    state = {"sent": 0, "limit": limit or math.inf, "deadline": time.perf_counter() + seconds}
    latencies, errors = [], {}
    trees = box.trees()
    cpu0, own0, t0 = _cpu(trees), time.process_time(), time.perf_counter()

    async def main():
        await asyncio.gather(*(_client(box.port, state, requests, ok_status, latencies, errors)
                               for _ in range(clients)))

    asyncio.run(main())
    elapsed, cpu1 = time.perf_counter() - t0, _cpu(trees)
    failed = sum(errors.values())
    ok = len(latencies) - sum(v for k, v in errors.items() if isinstance(k, int))
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, math.ceil(p * len(latencies)) - 1)] * 1000 if latencies else math.nan

    def cpu(key):
        return f"{100 * (cpu1.get(key, 0) - cpu0.get(key, 0)) / elapsed:.0f}%"

    row = {"phase": name, "clients": clients, "requests": ok + failed, "errors": failed,
           "req/s": ok / elapsed, "p50 ms": pct(0.50), "p90 ms": pct(0.90), "p99 ms": pct(0.99),
           "max ms": pct(1.0), "cpu web": cpu("web"), "cpu worker": cpu("worker"),
           "cpu bench": f"{100 * (time.process_time() - own0) / elapsed:.0f}%"}
    if errors:
        row["phase"] += f" {errors}"
    return row, ok


# ---- checks and report --------------------------------------------------------------------

def print_table(rows, title=None):
    if title:
        print(f"\n{title}")
    cells = [[f"{v:.1f}" if isinstance(v, float) else str(v) for v in r.values()] for r in rows]
    heads = list(rows[0])
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    for line in [heads] + cells:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))


def wait_print_jobs(db, timeout=30):
    """Wait for the worker to take every print job; return the counts per state and the wait."""
    t0 = time.perf_counter()
    with sqlite3.connect(db, timeout=15) as conn:
        while True:
            states = dict(conn.execute("SELECT state, COUNT(*) FROM print_job GROUP BY state"))
            if not states.get("pending") or time.perf_counter() - t0 > timeout:
                return states, time.perf_counter() - t0
            time.sleep(0.2)


def check_tickets(db, posted):
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT t.day, t.prefix, COUNT(*), COUNT(DISTINCT t.seq), MIN(t.seq), MAX(t.seq), s.last "
            "FROM ticket t LEFT JOIN ticket_sequence s ON s.day = t.day AND s.prefix = t.prefix "
            "GROUP BY t.day, t.prefix ORDER BY t.day, t.prefix").fetchall()
    table = [{"day": d, "prefix": p, "tickets": n, "first": lo, "last": hi, "sequence.last": last,
              "no gap": "yes" if n == distinct == hi == last and lo == 1 else "NO"}
             for d, p, n, distinct, lo, hi, last in rows]
    issued = sum(r["tickets"] for r in table)
    ok = issued == posted and all(r["no gap"] == "yes" for r in table)
    if table:
        print_table(table, "Numbers handed out (edge.db)")
    print(f"tickets in edge.db: {issued}, successful POSTs: {posted} -> {'OK' if ok else 'MISMATCH'}")


def report_memory(trees):
    rows = []
    for name, pids in trees.items():
        for pid in pids:
            rss, pss, peak = _memory_mb(pid)
            rows.append({"process": f"{name} {'master' if pid == pids[0] and name == 'web' else ''}".strip(),
                         "pid": pid, "RSS MB": rss, "PSS MB": "n/a" if pss is None else pss, "peak RSS MB": peak})
    total_rss = sum(r["RSS MB"] for r in rows)
    pss = [r["PSS MB"] for r in rows if r["PSS MB"] != "n/a"]
    rows.append({"process": "total", "pid": "", "RSS MB": total_rss,
                 "PSS MB": sum(pss) if len(pss) == len(rows) else "n/a",
                 "peak RSS MB": sum(r["peak RSS MB"] for r in rows)})
    print_table(rows, "Memory after the run")
    return rows[-1]["PSS MB"] if rows[-1]["PSS MB"] != "n/a" else total_rss


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10, help="length of each measured phase")
    parser.add_argument("--requests", type=int, default=0, help="at most this many requests per phase")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--keep", action="store_true", help="keep the box's data dir")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="motcua-bench-")
    box = Box(data_dir, args.workers, args.threads)
    print(f"box: {data_dir} port {box.port}, {args.workers} worker(s) x {args.threads} threads, "
          f"{args.clients} clients, {args.seconds:g} s/phase, {os.cpu_count()} CPUs")
    try:
        box.start()
        posted, rows = 0, []
        warm = min(args.seconds, 2)
        for name, reqs, status, seconds, limit in (
                ("warm-up health", HEALTH, 200, warm, 500), ("warm-up tickets", TICKETS, 201, warm, 200),
                ("health", HEALTH, 200, args.seconds, args.requests),
                ("tickets", TICKETS, 201, args.seconds, args.requests)):
            row, ok = run_phase(box, name, reqs, status, args.clients, seconds, limit)
            rows.append(row)
            posted += ok if status == 201 else 0
        print_table(rows, "Phases")
        health, tickets = rows[2], rows[3]
        ratio = tickets["req/s"] / health["req/s"] if health["req/s"] else math.nan
        total_mb = report_memory(box.trees())
        states, waited = wait_print_jobs(box.dir / "edge.db")
        print(f"\nprint jobs: {states} ({waited:.1f} s after the load to drain)")
        print_table([
            {"target": "tickets p99 < 50 ms", "measured": f"{tickets['p99 ms']:.1f} ms",
             "met": "yes" if tickets["p99 ms"] < TARGET_P99_MS else "NO"},
            {"target": "tickets/s / health/s >= 0.5", "measured": f"{ratio:.2f}",
             "met": "yes" if ratio >= TARGET_RATIO else "NO"},
            {"target": "web + worker < 120 MB", "measured": f"{total_mb:.1f} MB",
             "met": "yes" if total_mb < TARGET_MB else "NO"}], "Targets")
        box.stop()  # a clean stop checkpoints the WAL: the checks read a settled file
        check_tickets(box.dir / "edge.db", posted)
    finally:
        box.stop()
        if args.keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
