"""Load benchmark of one commune box: ticket issuing against the trivial health endpoint.

Starts a fresh box (``edge init``, ``edge serve``, ``edge worker`` with the dummy printer)
in a temp dir, drives it with N keep-alive clients from one asyncio loop, checks the numbers
handed out and prints throughput, latency, CPU and memory. Prints figures, asserts nothing.
Usage: .venv/bin/python bench/queue.py [--clients 20] [--seconds 10] [--requests N]
       [--workers 1] [--threads 8] [--keep] [--profile]
"""
import argparse
import asyncio
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

# Run as a script, this folder comes first on sys.path, where this file would shadow the
# standard library's ``queue`` for any later import of it (a thread pool...): take it off.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("ho-tich", "chung-thuc", "dat-dai", "tu-phap", "ldtbxh")
TARGET_P99_MS, TARGET_RATIO, TARGET_MB = 50.0, 0.3, 120.0


# ---- the box under test and its processes, seen through /proc ------------------------------

class Box:
    def __init__(self, data_dir, workers, threads):
        self.dir, self.port, self.procs = Path(data_dir), _free_port(), {}
        self.options = ["--data-dir", str(self.dir), "--port", str(self.port), "--commune-code", "05518",
                        "--printer", "dummy", "--log-level", "WARNING",
                        "--issue-any-time", "true"]  # the load runs at any hour, not only in office hours
        self.web_options = ["--web-workers", str(workers), "--web-threads", str(threads)]

    def start(self, timeout=30):
        subprocess.run(_motcua("init", "--demo-data", options=self.options), check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        self.procs = {"web": self._spawn("serve", *self.web_options), "worker": self._spawn("worker")}
        deadline = time.monotonic() + timeout
        while True:
            if any(p.poll() is not None for p in self.procs.values()):
                raise RuntimeError(f"a box process exited at start: see the logs in {self.dir} (--keep)")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/health", timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no answer on port {self.port} after {timeout} s") from None
                time.sleep(0.2)

    def _spawn(self, command, *extra):
        with open(self.dir / f"{command}.log", "wb") as log:
            return subprocess.Popen(_motcua(command, *extra, options=self.options), cwd=ROOT, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    env=dict(os.environ, PYTHONUNBUFFERED="1"))

    def trees(self):
        """{'web': [serve pid, gunicorn workers...], 'worker': [pid...]} of the live processes."""
        parents = {int(d.name): st[0] for d in Path("/proc").iterdir() if d.name.isdigit() and (st := _stat(d.name))}
        trees = {}
        for name, proc in self.procs.items():
            tree = [proc.pid] if proc.poll() is None else []
            for pid in tree:
                tree += [child for child, ppid in parents.items() if ppid == pid]
            trees[name] = tree
        return trees

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        for p in self.procs.values():
            try:
                p.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)  # its own session: the master and its workers
                p.wait()


def _motcua(command, *extra, options=()):
    return [sys.executable, "-m", "motcua", "edge", command, *options, *extra]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid):
    """(ppid, cpu seconds, of them in the kernel) of a process, or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, int(fields[12]) / tick


def _cpu_seconds(trees):
    """({tree: cpu seconds}, {tree: of them in the kernel}) of the live processes, each read once."""
    stats = {name: [st for pid in pids if (st := _stat(pid))] for name, pids in trees.items()}
    return ({name: sum(st[1] for st in sts) for name, sts in stats.items()},
            {name: sum(st[2] for st in sts) for name, sts in stats.items()})


def _kb_fields(path):
    """{key: MB} of the "Key: N kB" lines of a /proc file; {} when it cannot be read."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return {}
    fields = {}
    for line in lines:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            fields[key] = int(parts[0]) / 1024
    return fields


# ---- the load generator: one asyncio loop, one keep-alive connection per client -------------

def _http(method, path, body=None, headers=""):
    data = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\n{headers}"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    return (head + "\r\n").encode() + data


def kiosk_headers(port):
    """What a kiosk page sends with its writes: the box's Origin, its cookies (session, kiosk) and CSRF token."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/kiosk", timeout=5) as response:
        cookie = "; ".join(c.split(";")[0] for c in response.headers.get_all("Set-Cookie"))
        token = re.search(r'name="csrf-token" content="([^"]+)"', response.read().decode())[1]
    return f"Origin: http://bench\r\nCookie: {cookie}\r\nX-CSRFToken: {token}\r\n"


HEALTH = [_http("GET", "/api/v1/health")]


def ticket_requests(port):
    headers = kiosk_headers(port)
    return [_http("POST", "/api/v1/tickets", {"service": code}, headers) for code in SERVICES]


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
            head = (await reader.readuntil(b"\r\n\r\n")).lower()
            length = next((int(h[15:]) for h in head.split(b"\r\n") if h.startswith(b"content-length:")), 0)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if int(head[9:12]) != ok_status:
                errors[int(head[9:12])] = errors.get(int(head[9:12]), 0) + 1
            if b"connection: close" in head:
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            writer = None
    if writer is not None:
        writer.close()


def run_phase(box, name, requests, ok_status, clients, seconds, limit):
    """Run one phase, bounded by ``seconds`` and ``limit`` requests; return its row and its successes."""
    state = {"sent": 0, "limit": limit or math.inf, "deadline": time.perf_counter() + seconds}
    latencies, errors, trees = [], {}, box.trees()
    (cpu0, kernel0), own0, t0 = _cpu_seconds(trees), time.process_time(), time.perf_counter()

    async def all_clients():
        await asyncio.gather(*(_client(box.port, state, requests, ok_status, latencies, errors)
                               for _ in range(clients)))

    asyncio.run(all_clients())
    elapsed, (cpu1, kernel1), latencies = time.perf_counter() - t0, _cpu_seconds(trees), sorted(latencies)
    kernel = kernel1["web"] - kernel0["web"]
    failed = sum(errors.values())
    ok = len(latencies) - sum(v for k, v in errors.items() if isinstance(k, int))

    def ms(p):  # nearest-rank percentile
        return latencies[max(math.ceil(p * len(latencies)) - 1, 0)] * 1000 if latencies else math.nan

    def cpu(used):
        return f"{100 * used / elapsed:.0f}%"

    row = {"phase": name + (f" {errors}" if errors else ""), "clients": clients, "requests": ok + failed,
           "errors": failed, "req/s": ok / elapsed, "p50 ms": ms(0.5), "p90 ms": ms(0.9), "p99 ms": ms(0.99),
           "max ms": ms(1.0), **{f"cpu {k}": cpu(cpu1[k] - cpu0[k]) for k in cpu0},
           "cpu bench": cpu(time.process_time() - own0),
           # of the web's CPU, the share spent in the kernel (writes, fsyncs, locks): invisible to callgrind
           "web kernel": f"{100 * kernel / (cpu1['web'] - cpu0['web']):.0f}%" if cpu1["web"] > cpu0["web"] else "-",
           # CPU seconds the web spent per answered request: moves far less with the machine's load than req/s
           "web cpu ms/req": 1000 * (cpu1["web"] - cpu0["web"]) / ok if ok else math.nan}
    return row, ok


# ---- report and checks -----------------------------------------------------------------------

def print_table(title, rows):
    cells = [[f"{v:.1f}" if isinstance(v, float) else str(v) for v in r.values()] for r in rows]
    heads = list(rows[0])
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    print(f"\n{title}")
    for line in [heads, *cells]:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))


def report_memory(trees):
    """Table of RSS/PSS per process; return (PSS total or None, RSS total) in MB."""
    rows = []
    for name, pids in trees.items():
        for i, pid in enumerate(pids):
            status, smaps = _kb_fields(f"/proc/{pid}/status"), _kb_fields(f"/proc/{pid}/smaps_rollup")
            label = name if name != "web" else ("web master" if i == 0 else "web worker")
            rows.append({"process": label, "pid": pid, "RSS MB": status.get("VmRSS", 0.0), "PSS MB": smaps.get("Pss"),
                         # the heap (where malloc arenas and Python's objects live) and mapped files
                         "of it anon": smaps.get("Pss_Anon", 0.0), "of it files": smaps.get("Pss_File", 0.0),
                         "peak RSS MB": status.get("VmHWM", 0.0)})
    pss = None if any(r["PSS MB"] is None for r in rows) else sum(r["PSS MB"] for r in rows)
    rss = sum(r["RSS MB"] for r in rows)
    rows.append({"process": "total", "pid": "", "RSS MB": rss, "PSS MB": pss,
                 **{k: sum(r[k] for r in rows) for k in ("of it anon", "of it files", "peak RSS MB")}})
    print_table("Memory after the load (PSS shares pages the gunicorn fork has in common)",
                [dict(r, **{"PSS MB": "n/a" if r["PSS MB"] is None else r["PSS MB"]}) for r in rows])
    return pss, rss


def wait_print_jobs(db, timeout=60):
    """Wait until the worker has taken every print job; return the jobs per state and the wait."""
    t0 = time.perf_counter()
    with sqlite3.connect(db, timeout=15) as conn:
        while True:
            states = dict(conn.execute("SELECT state, COUNT(*) FROM print_job GROUP BY state"))
            if not states.get("pending") or time.perf_counter() - t0 > timeout:
                return states, time.perf_counter() - t0
            time.sleep(0.2)


def check_tickets(db, posted):
    """Every successful POST is one ticket; per prefix and day the numbers run 1..n without a gap."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT t.day, t.prefix, COUNT(*), COUNT(DISTINCT t.seq), MIN(t.seq), MAX(t.seq), s.last "
            "FROM ticket t LEFT JOIN ticket_sequence s ON s.day = t.day AND s.prefix = t.prefix "
            "GROUP BY t.day, t.prefix ORDER BY t.day, t.prefix").fetchall()
    table = [{"day": day, "prefix": prefix, "tickets": n, "first": lo, "last": hi, "sequence.last": last,
              "1..n no gap": "yes" if n == distinct == hi == last and lo == 1 else "NO"}
             for day, prefix, n, distinct, lo, hi, last in rows]
    if table:
        print_table("Numbers handed out (edge.db)", table)
    issued = sum(r["tickets"] for r in table)
    ok = issued == posted and all(r["1..n no gap"] == "yes" for r in table)
    print(f"tickets in edge.db: {issued}, successful POSTs: {posted} -> {'OK' if ok else 'MISMATCH'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent keep-alive clients")
    parser.add_argument("--seconds", type=float, default=10, help="length of each measured phase")
    parser.add_argument("--requests", type=int, default=0, help="at most this many requests per phase")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--keep", action="store_true", help="keep the box's data dir and logs")
    parser.add_argument("--profile", action="store_true",
                        help="also profile tickets in this process: statements, commits, CPU per ticket, cProfile")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="motcua-bench-")
    box = Box(data_dir, args.workers, args.threads)
    print(f"box in {data_dir} on port {box.port}: {args.workers} web worker(s) x {args.threads} threads; "
          f"{args.clients} clients, {args.seconds:g} s per phase; {os.cpu_count()} CPUs for all")
    warm = min(args.seconds, 2)
    try:
        box.start()
        kiosk = ticket_requests(box.port)
        phases = (("warm-up health", HEALTH, 200, warm, 500), ("warm-up tickets", kiosk, 201, warm, 200),
                  ("health", HEALTH, 200, args.seconds, args.requests),
                  ("tickets", kiosk, 201, args.seconds, args.requests))
        rows, posted = [], 0
        for name, requests, ok_status, seconds, limit in phases:
            if name == "health":  # the worker prints the warm-up tickets first: a quiet baseline
                wait_print_jobs(box.dir / "edge.db")
            row, ok = run_phase(box, name, requests, ok_status, args.clients, seconds, limit)
            rows.append(row)
            posted += ok if ok_status == 201 else 0
        print_table("Phases (cpu: % of one core over the phase)", rows)
        pss, rss = report_memory(box.trees())
        states, waited = wait_print_jobs(box.dir / "edge.db")
        print(f"\nprint jobs {states}, {waited:.1f} s after the load until none is pending")
        health, tickets = rows[2], rows[3]
        ratio = tickets["req/s"] / health["req/s"] if health["req/s"] else math.nan
        memory = pss if pss is not None else rss
        print_table("Targets (the baseline is this run's health phase)", [
            {"target": f"tickets p99 < {TARGET_P99_MS:g} ms", "measured": f"{tickets['p99 ms']:.1f} ms",
             "met": "yes" if tickets["p99 ms"] < TARGET_P99_MS else "NO"},
            {"target": f"tickets/s / health req/s >= {TARGET_RATIO:g}",
             "measured": f"{tickets['req/s']:.0f}/{health['req/s']:.0f} = {ratio:.2f}",
             "met": "yes" if ratio >= TARGET_RATIO else "NO"},
            {"target": f"web + worker {'PSS' if pss is not None else 'RSS'} < {TARGET_MB:g} MB",
             "measured": f"{memory:.1f} MB (RSS {rss:.1f})", "met": "yes" if memory < TARGET_MB else "NO"},
            {"target": "(figure) web CPU per ticket / per health request",
             "measured": f"{tickets['web cpu ms/req']:.2f}/{health['web cpu ms/req']:.2f} ms = "
                         f"{tickets['web cpu ms/req'] / health['web cpu ms/req']:.1f}", "met": ""}])
        box.stop()  # a clean stop checkpoints the WAL: the check reads a settled file
        check_tickets(box.dir / "edge.db", posted)
        if args.profile:
            sys.path.insert(0, str(ROOT))
            from bench.queue_profile import report

            report(print_table)
    finally:
        box.stop()
        if args.keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
