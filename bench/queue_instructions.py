"""Instructions a ticket and a health request cost, counted by valgrind: figures that do not move
with the machine's load (two runs of the same code differ by about 0.05 %).

    .venv/bin/python bench/queue_instructions.py              # 100 of each
    .venv/bin/python bench/queue_instructions.py --requests 30

A box app (demo office) on a real SQLite file in a temp dir answers in this process, called as
gunicorn calls it (a WSGI environ: tickets with the kiosk's session cookie, Origin and CSRF header,
health requests with none of them, as ``bench/queue.py`` sends them); the
writes go through the group commit's thread, as in the web (callgrind counts every thread). The
script runs itself under ``valgrind --tool=callgrind`` with instrumentation off and switches it on
(``callgrind_control``) around the measured requests only.
Needs valgrind; a run takes a minute or two.
"""
import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]  # bench/queue.py would shadow the stdlib's queue
INNER = "MOTCUA_BENCH_INSTRUCTIONS_INNER"


def wsgi_caller(app, client, headers):
    """A function issuing ``POST /api/v1/tickets`` (or ``GET /api/v1/health``) straight into ``app``."""
    from bench.queue_profile import SERVICES

    cookie = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())

    def call(i, health=False):
        body = b"" if health else json.dumps({"service": SERVICES[i % len(SERVICES)]}).encode()
        environ = {
            "REQUEST_METHOD": "GET" if health else "POST", "SCRIPT_NAME": "",
            "PATH_INFO": "/api/v1/health" if health else "/api/v1/tickets", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8080", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000", "HTTP_HOST": "localhost",
            "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        }
        if not health:  # what the kiosk sends; bench/queue.py's health requests send none of it
            environ.update({"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)), "HTTP_COOKIE": cookie,
                            "HTTP_ORIGIN": headers["Origin"], "HTTP_X_CSRFTOKEN": headers["X-CSRFToken"]})
        status = []
        answer = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
        if not status[0].startswith("20"):
            raise SystemExit(f"{environ['PATH_INFO']}: {status[0]} {answer[:300]!r}")

    return call


def inner(requests, phase):
    """In valgrind: build the box, warm up, then count ``phase`` ("tickets" or "health") only."""
    sys.path.insert(0, str(ROOT))
    from bench.queue_profile import demo_box_app, kiosk_client

    with demo_box_app() as app:
        client, issue, headers = kiosk_client(app)
        issue(0)  # the session cookie and the CSRF token exist from here on
        call = wsgi_caller(app, client, headers)
        for i in range(20):
            call(i, health=phase == "health")
        subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
        for i in range(requests):
            call(i, health=phase == "health")
        subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)


def count(requests, phase):
    """Instructions of ``requests`` requests of ``phase``, from a run of this script in valgrind."""
    with tempfile.TemporaryDirectory(prefix="motcua-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                        sys.executable, __file__, "--requests", str(requests), "--phase", phase],
                       check=True, cwd=ROOT, env={**os.environ, INNER: "1"}, capture_output=True)
        for line in out.read_text().splitlines():
            if line.startswith("totals:"):  # ("summary:" counts from the start, when nothing was on)
                return int(line.split()[1])
    raise SystemExit("callgrind wrote no totals")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="requests counted of each kind")
    parser.add_argument("--phase", choices=("tickets", "health"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if os.environ.get(INNER):
        inner(args.requests, args.phase)
        return
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        raise SystemExit("needs valgrind (apt-get install valgrind)")
    per = {phase: count(args.requests, phase) / args.requests for phase in ("tickets", "health")}
    print(f"instructions a request, {args.requests} of each, in process (WSGI, real SQLite file):")
    print(f"  POST /api/v1/tickets  {per['tickets'] / 1e6:8.3f} M")
    print(f"  GET /api/v1/health    {per['health'] / 1e6:8.3f} M")
    print(f"  ticket / health       {per['tickets'] / per['health']:8.2f}  (a ratio of 0.3 in req/s needs "
          "<= 3.3 in CPU on a core of its own)")


if __name__ == "__main__":
    main()
