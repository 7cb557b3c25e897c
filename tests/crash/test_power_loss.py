"""Whole-box power loss: the web server, the worker and the device service of a box, in one
process group, SIGKILLed together at random moments while clients issue, call, finish and rate
over HTTP, the device service prints, the worker pushes to and pulls from a real hub process
(SQLite and PostgreSQL hubs), and the hub adds holidays for the box to pull.

After the last restart: every write answered 2xx is in the box, the change log chains, the
database passes its checks, the worker pushes everything without help (the hub holds every
acknowledged ticket, the box is not quarantined), every print job is printed and every
holiday pulled. ``MOTCUA_POWER_KILLS`` sets the number of cuts (default 8),
``MOTCUA_POWER_SEED`` replays a run (the seed is printed and named in any failure).
"""
import os
import random
import sqlite3
import threading
import time
from datetime import datetime, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import requests

from edge.printing import LEASE_MARGIN
from tests.processes import wait_for
from tests.sync.conftest import motcua, running_hub

from . import harness
from .box_processes import WholeBox

KILLS = int(os.environ.get("MOTCUA_POWER_KILLS") or 8)
PRINTER_TIMEOUT = 2
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path):
    yield from running_hub(request.param, tmp_path / "hub")


class Client(threading.Thread):
    """A kiosk and counter 1 with its rating tablet, driven over HTTP until the box goes dark.
    Only answers that arrived whole (2xx) are recorded in ``acks``."""

    def __init__(self, url, rng, acks, stop):
        super().__init__(daemon=True)
        self.url, self.rng, self.acks, self.stop = url, rng, acks, stop
        self.requests = 0

    def run(self):
        try:
            self._work()
        except (requests.RequestException, ValueError):  # the power went mid-request
            pass

    def _post(self, path, **kwargs):
        self.requests += 1
        return self.session.post(self.url + path, timeout=20, **kwargs)

    def _work(self):
        import re

        def fresh_token():  # signing in starts a new session, and a new token
            html = self.session.get(self.url + "/kiosk", timeout=20).text
            token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)[1]
            self.session.headers.update({"Origin": self.url, "X-CSRFToken": token})

        self.session = requests.Session()
        fresh_token()
        officer = {"username": "canbo1", "password": "motcua123"}
        if self._post("/api/v1/session", json={"counter": 1, **officer}).status_code != 200:
            return
        fresh_token()
        if self._post("/rate/1/pair", data=officer, allow_redirects=False).status_code != 302:
            return
        while not self.stop.is_set():
            roll = self.rng.random()
            if roll < 0.5:
                answer = self._post("/api/v1/tickets", json={"service": self.rng.choice(("ho-tich", "tu-phap"))})
                if answer.status_code == 201:
                    t = answer.json()
                    prefix, seq = t["number"].split("-")
                    issued = datetime.fromisoformat(t["issued_at"].rstrip("Z")).replace(tzinfo=timezone.utc)
                    self.acks.tickets[t["id"]] = (issued.astimezone(TZ).date().isoformat(), prefix, int(seq),
                                                  t["number"])
            elif roll < 0.75:
                answer = self._post("/api/v1/counters/1/next", json={"absent": True})  # whoever is called left
                if answer.status_code == 200 and answer.json()["ticket"]:
                    self.acks.events[(answer.json()["ticket"]["id"], "call")] += 1
            else:
                self._post("/api/v1/counters/1/start")  # finishing needs a service that started
                answer = self._post("/api/v1/counters/1/finish")
                if answer.status_code != 200:
                    continue
                ticket = answer.json()["ticket"]["id"]
                self.acks.events[(ticket, "finish")] += 1
                rated = self._post("/api/v1/ratings", json={"counter": 1, "ticket": ticket,
                                                           "score": self.rng.choice((1, 2, 3))})
                if rated.status_code == 201:
                    self.acks.ratings[rated.json()["id"]] = ticket


def _read(path, sql):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=15)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.mark.slow
def test_whole_box_power_cut_at_random_moments_loses_nothing_acknowledged(hub, tmp_path):
    seed = int(os.environ.get("MOTCUA_POWER_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    print(f"power-loss test: MOTCUA_POWER_SEED={seed} MOTCUA_POWER_KILLS={KILLS}")
    data = tmp_path / "box"
    motcua("edge", "init", "--demo-data", "--data-dir", data, "--commune-code", "05518",
           "--hub-url", hub.url, "--hub-key", hub.key)
    hub.register(SimpleNamespace(commune="05518", dir=data))
    db_path = data / "edge.db"
    (node_id,) = _read(db_path, "SELECT node_id FROM sync_node")[0]
    box = WholeBox(data, ["--printer", "preview", "--printer-timeout", PRINTER_TIMEOUT])
    acks, holidays, requests_sent, cuts = harness.Acks(), [], 0, []
    try:
        for round_no in range(KILLS):
            day = f"2031-{1 + round_no // 28:02d}-{1 + round_no % 28:02d}"
            hub.api("POST", "/api/v1/holidays", json={"day": day, "name": f"Nghỉ thử {round_no}", "commune": "05518"})
            holidays.append(day)
            flickers = sum(cut.startswith("start+") for cut in cuts)
            # the power flickers while the box starts (its checks, migrations, binds): at most a
            # third of the cuts, so that enough are taken while it serves (a seed that drew 7 of 8
            # failed with one ticket acknowledged)
            if flickers < KILLS // 3 and rng.random() < 0.3:
                box.start(wait=False)
                moment = rng.uniform(0.3, 4.0)
                time.sleep(moment)
                box.power_cut()
                cuts.append(f"start+{moment:.1f}")
                continue
            box.start()
            stop = threading.Event()
            client = Client(box.url, random.Random(rng.randrange(2**32)), acks, stop)
            client.start()
            moment = rng.uniform(0.2, 3.0)  # the worker syncs and the device service prints every second
            time.sleep(moment)
            box.power_cut()
            stop.set()
            client.join(30)
            assert not client.is_alive(), f"seed {seed}: the client hung after the power cut"
            requests_sent += client.requests
            cuts.append(f"{moment:.1f}")
        print(f"power-loss test: cuts at {cuts} s after serving (start+: while starting); {requests_sent} requests, "
              f"{len(acks.tickets)} tickets, {sum(acks.events.values())} events, {len(acks.ratings)} ratings acked")

        box.start()  # the power comes back for good: everything resumes by itself
        state = lambda: requests.get(box.url + "/api/v1/sync", timeout=10).json()  # noqa: E731
        wait_for(lambda: state()["pending"] == 0 and not state()["last_error"], 60, step=0.3,
                 what=f"the worker to push everything by itself (seed {seed})")
        unprinted = _read(db_path, "SELECT count(*) FROM print_job WHERE state != 'done'")[0][0]
        # the printer works through what piled up while the power was off: a bounded wait per job
        wait_for(lambda: _read(db_path, "SELECT count(*) FROM print_job WHERE state != 'done'") == [(0,)],
                 PRINTER_TIMEOUT + LEASE_MARGIN + 30 + 0.25 * unprinted, step=0.3,
                 what=f"every print job printed ({unprinted} waiting after the last cut; seed {seed})")
        wait_for(lambda: {d for (d,) in _read(db_path, "SELECT day FROM holiday")} >= set(holidays), 30, step=0.3,
                 what=f"every holiday pulled (seed {seed})")
    finally:
        box.stop()

    assert len(acks.tickets) >= KILLS, f"seed {seed}: too few tickets acknowledged to mean anything"
    assert acks.events, f"seed {seed}: no counter action acknowledged"
    problems, held = harness.verify(db_path, acks, node_id, synced=True)
    assert not problems, f"seed {seed}: " + "\n".join(problems[:40])
    assert _read(db_path, "PRAGMA quick_check") == [("ok",)]
    at_hub = {i for (i,) in hub.query("SELECT id FROM ticket WHERE commune = '05518'")}
    assert set(acks.tickets) <= at_hub, f"seed {seed}: acknowledged tickets missing at the hub"
    assert hub.query(f"SELECT status FROM box_node WHERE node_id = '{node_id}'") == [("active",)]
    previews = list((data / "prints").glob("*.png"))
    assert len(previews) >= min(len(acks.tickets), 200), f"seed {seed}: {len(previews)} previews"
