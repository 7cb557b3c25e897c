"""``bench/queue.py --profile``: what one ticket costs, in this process, in figures that move
little with the machine's load: SQL statements and commits (each commit of ``edge.db`` is an
fsync) per ticket, alone and with 8 kiosks at once, and CPU per request beside the health
endpoint's. Then a cProfile of the tickets, by cumulative time.

A box app (demo office) on a real SQLite file in a temp dir answers through Flask's test client,
as the kiosk asks: its session cookie, Origin and CSRF token.
"""
import cProfile
import os
import pstats
import secrets
import shutil
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager

SERVICES = ("ho-tich", "chung-thuc", "dat-dai", "tu-phap", "ldtbxh")


class Counting:
    """Count the statements and commits of the database, in every thread."""

    def __init__(self, db):
        self.statements, self.commits = Counter(), 0
        self._lock = threading.Lock()
        self._patched = {}
        for name in ("execute_sql", "begin", "commit"):
            original = getattr(db, name)
            self._patched[name] = original
            setattr(db, name, self._wrap(name, original))
        self.db = db

    def _wrap(self, name, original):
        def method(*args, **kwargs):
            with self._lock:
                if name == "commit":
                    self.commits += 1
                    self.statements["COMMIT"] += 1
                elif name == "begin":
                    self.statements["BEGIN"] += 1
                else:
                    self.statements[args[0].split(None, 1)[0].upper()] += 1
            return original(*args, **kwargs)
        return method

    def reset(self):
        self.statements, self.commits = Counter(), 0

    def close(self):
        for name in self._patched:
            delattr(self.db, name)


def kiosk_client(app):
    """(test client, issue(i), the headers it sends) of a kiosk."""
    from itsdangerous import URLSafeTimedSerializer

    client = app.test_client()
    client.get("/kiosk")
    with client.session_transaction() as session:
        raw = session.setdefault("csrf_token", secrets.token_hex(20))
    token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)
    headers = {"Origin": "http://localhost", "X-CSRFToken": token}

    def issue(i):
        response = client.post("/api/v1/tickets", json={"service": SERVICES[i % len(SERVICES)]}, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)

    return client, issue, headers


@contextmanager
def demo_box_app():
    """The app of a demo box (commune 05518) on a real SQLite file in a temp dir, removed after."""
    os.environ.setdefault("MOTCUA_ISSUE_ANY_TIME", "true")
    from edge.app import create_app
    from edge.tasks import create_huey
    from motcua.settings import load_settings
    from office.communes import find_commune
    from office.db import database
    from office.seed import seed_office
    from sync.capture import init_node

    data_dir = tempfile.mkdtemp(prefix="motcua-bench-profile-")
    try:
        settings = load_settings("edge", overrides={"data_dir": data_dir, "commune_code": "05518",
                                                    "issue_any_time": True, "log_level": "WARNING"}, environ={})
        _, tasks = create_huey(settings)
        app = create_app(settings, tasks=tasks)
        init_node("box-bench000000000", "05518")
        seed_office(find_commune("05518"))
        yield app
    finally:
        database.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def profile(tickets=300, kiosks=8, top=25):
    from office.db import database

    with demo_box_app() as app:
        client, issue, _ = kiosk_client(app)
        for i in range(50):  # warm-up
            issue(i)
        counting = Counting(database.obj)
        rows = []

        counting.reset()
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(tickets):
            issue(i)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        alone = dict(statements=sum(counting.statements.values()) / tickets, commits=counting.commits / tickets)
        kinds = {k: round(v / tickets, 2) for k, v in counting.statements.most_common()}
        rows.append({"run": "tickets, one kiosk", "requests": tickets, "statements/req": alone["statements"],
                     "commits/req": alone["commits"], "cpu ms/req": 1000 * cpu / tickets,
                     "wall ms/req": 1000 * wall / tickets})

        counting.reset()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(tickets):
            client.get("/api/v1/health")
        health_cpu = time.process_time() - c0
        rows.append({"run": "health, one client", "requests": tickets, "statements/req": 0.0,
                     "commits/req": 0.0, "cpu ms/req": 1000 * health_cpu / tickets,
                     "wall ms/req": 1000 * (time.perf_counter() - t0) / tickets})

        counting.reset()
        per_kiosk = max(tickets // kiosks, 1)
        issuers = [kiosk_client(app)[1] for _ in range(kiosks)]
        threads = [threading.Thread(target=lambda f=f: [f(i) for i in range(per_kiosk)]) for f in issuers]
        t0, c0 = time.perf_counter(), time.process_time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        n = per_kiosk * kiosks
        rows.append({"run": f"tickets, {kiosks} kiosks at once", "requests": n,
                     "statements/req": sum(counting.statements.values()) / n, "commits/req": counting.commits / n,
                     "cpu ms/req": 1000 * (time.process_time() - c0) / n,
                     "wall ms/req": 1000 * (time.perf_counter() - t0) / n})
        counting.close()

        from office.group_commit import GroupCommit

        profiler = cProfile.Profile()
        shares = GroupCommit._shares_commits
        GroupCommit._shares_commits = staticmethod(lambda: False)  # the writes in this thread, profiled
        try:
            profiler.enable()
            for i in range(tickets):
                issue(i)
            profiler.disable()
        finally:
            GroupCommit._shares_commits = shares
        return rows, kinds, rows[0]["cpu ms/req"] / rows[1]["cpu ms/req"], pstats.Stats(profiler), top


def report(print_table, tickets=300, kiosks=8, top=25):
    rows, kinds, ratio, stats, top = profile(tickets, kiosks, top)
    print_table("In-process profile of POST /api/v1/tickets (Flask test client, real SQLite file)", rows)
    print(f"statements per ticket by kind (one kiosk): {kinds}")
    print(f"CPU of a ticket / CPU of a health request: {ratio:.1f} (a ratio of 0.3 in req/s needs <= 3.3 "
          "on an otherwise idle core)")
    print(f"\ncProfile of {tickets} tickets, one kiosk, the writes run in the request's thread (one "
          "commit each) so that they show, by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)
    print("by own time:")
    stats.sort_stats("tottime").print_stats(top)
