"""Chaos: three box processes and the hub behind a lossy, duplicating, reordering network.

Scenario (seeded; ``CHAOS_SEED=<n>`` replays the same faults and writes, timing aside):
- a real hub process; a fault proxy in front of it (~30% of requests dropped before or
  after the hub saw them, delayed, duplicated or replayed late, held back and reordered,
  or cut mid-body);
- boxes A and B both registered for commune X (B starts from the hub's snapshot), box C for
  commune Y, each its own process (``box_driver.py``) writing tickets, calls, ratings,
  places and place edits, syncing now and then through the proxy;
- concurrency by construction: the hub creates a "hot" place per commune; every box edits
  its description after pulling it and before syncing again, while the test edits the same
  field at the hub; during the run the test keeps editing places at the hub too;
- the hub is stopped and started again while the boxes write.

Then the network heals, every box syncs until nothing moves, and the test checks:
convergence of every commune's rows on every node, each box's log at the hub exactly once,
every ticket at the hub, and the hub's conflicts equal to the losers the merge's own
definition (``sync.merge.field_outcome``) derives from every node's log.
"""
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from motcua.settings import load_settings
from office.db import database, open_database
from provisioning.identity import ensure_key
from sync import box as sync_box
from sync.apply import state_digest
from sync.capture import replicated_models
from sync.merge import Write, field_outcome
from tests.sync.conftest import HubProcess

from .proxy import FAULTS, FaultProxy

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("box_driver.py")
X, Y = "05518", "00454"  # Sông Công (two boxes), Đông Anh (one box)
PLACE_FIELDS = ("name", "category", "address", "description", "phone", "opening_hours", "active")
HARD_LIMIT_S = 150
OK_REJECTIONS = {"replay", "gap"}  # a duplicate or a batch sent after a lost answer


def box_specs():
    ops = int(os.environ.get("CHAOS_OPS", "150"))
    skew_a = int(os.environ.get("CHAOS_SKEW_MS", "1500"))  # box A's clock runs ahead, C's behind
    return [
        {"name": "A", "commune": X, "restore": False, "services": ["ho-tich", "tu-phap"], "counter": 1,
         "officer": "canbo1", "ops": ops, "skew_ms": skew_a},
        {"name": "B", "commune": X, "restore": True, "services": ["dat-dai", "ldtbxh"], "counter": 3,
         "officer": "canbo3", "ops": ops, "skew_ms": 0},
        {"name": "C", "commune": Y, "restore": False, "services": ["ho-tich", "chung-thuc"], "counter": 2,
         "officer": "canbo2", "ops": ops, "skew_ms": -700},
    ]


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return self.end - time.monotonic()

    def check(self, what):
        if self.left() <= 0:
            raise AssertionError(f"chaos test over its time limit while {what}")


def hub_sql(hub, sql, args=()):
    conn = sqlite3.connect(hub.dir / "hub.db", timeout=15)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def box_sql(box_dir, sql, args=()):
    conn = sqlite3.connect(Path(box_dir) / "edge.db", timeout=15)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def operator(hub, method, path, attempts=20, **kwargs):
    """Operator API straight to the hub (not through the proxy), retried while it restarts."""
    for _ in range(attempts):
        try:
            response = requests.request(method, hub.url + path, headers=hub.bearer(), timeout=5, **kwargs)
        except requests.RequestException:
            time.sleep(0.2)
            continue
        if response.status_code >= 500:
            time.sleep(0.2)
            continue
        response.raise_for_status()
        return response.json()
    raise AssertionError(f"hub operator API unreachable: {method} {path}")


class HubEditor(threading.Thread):
    """The hub's operator editing places of both communes while the boxes write."""

    def __init__(self, hub, seed, hot):
        super().__init__(name="hub-editor", daemon=True)
        self.hub, self.rng, self.hot = hub, random.Random(seed), hot
        self.stop = threading.Event()
        self.done, self.failed, self.errors = 0, 0, []

    def run(self):
        i = 0
        while not self.stop.is_set() and i < 400:
            i += 1
            try:
                self.step(i)
                self.done += 1
            except (requests.RequestException, sqlite3.Error):
                self.failed += 1  # hub restarting: whether it applied shows in its log
            except Exception as exc:  # noqa: BLE001
                self.errors.append(repr(exc))
            self.stop.wait(self.rng.uniform(0.04, 0.15))

    def step(self, i):
        rng = self.rng
        if rng.random() < 0.1:
            body = {"commune": rng.choice([X, Y]), "name": f"hub place {i}", "category": "office"}
            requests.post(self.hub.url + "/api/v1/places", json=body, headers=self.hub.bearer(), timeout=5).raise_for_status()
            return
        if rng.random() < 0.5:
            pk = rng.choice(self.hot)
        else:
            pks = [r[0] for r in hub_sql(self.hub, "select id from place order by id")]
            pk = rng.choice(pks)
        fields = rng.sample(PLACE_FIELDS, rng.choice([1, 1, 2]))
        body = {f: (rng.random() < 0.7 if f == "active" else f"{f} by hub #{i}") for f in fields}
        response = requests.patch(f"{self.hub.url}/api/v1/places/{pk}", json=body, headers=self.hub.bearer(), timeout=5)
        if response.status_code != 404:
            response.raise_for_status()


class BoxHandle:
    """A box database opened in the test process, after its driver has exited."""

    def __init__(self, spec, proxy_url):
        self.spec = spec
        self.dir = Path(spec["dir"])
        self.settings = load_settings("edge", environ={}, overrides={
            "data_dir": str(self.dir), "commune_code": spec["commune"], "hub_url": proxy_url, "sync_timeout": 5.0})
        self.key = ensure_key(self.dir)
        self.db = None

    def __enter__(self):
        if self.db is None:
            self.db = open_database(self.settings["database"])
        self._previous = database.obj
        database.initialize(self.db)
        return self

    def __exit__(self, *exc):
        database.initialize(self._previous)

    def sync(self):
        with self:
            return sync_box.sync_now(self.settings, self.key)

    def close(self):
        if self.db is not None:
            self.db.close()


def digests(tables, scope):
    return {t: state_digest(scope, [t]) for t in tables}


def node_digests(db, tables, scope):
    previous = database.obj
    database.initialize(db)
    try:
        return digests(tables, scope)
    finally:
        database.initialize(previous)


def place_writes(rows):
    """{(pk, field): {Write}} of change-log rows (origin, hlc, pk, data, base)."""
    writes = defaultdict(set)
    for origin, hlc, pk, data, base in rows:
        base = json.loads(base) if base else {}
        for field, value in json.loads(data).items():
            writes[(pk, field)].add(Write(hlc, origin, int(base.get(field, 0)), value))
    return writes


@pytest.mark.slow
def test_boxes_and_hub_converge_through_a_faulty_network(tmp_path):
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1, 10**6))
    print(f"\nCHAOS_SEED={seed}", flush=True)
    rng = random.Random(seed)
    deadline = Deadline(HARD_LIMIT_S)
    t0 = time.monotonic()
    timings = {}
    control = tmp_path / "control"
    control.mkdir()
    hub = HubProcess(tmp_path / "hub")
    proxy_log = []
    proxy = FaultProxy(hub.port, seed, rate=0.3, log=proxy_log).start()
    drivers, handles, editor = [], [], None
    try:
        hub.start()
        # hot places, then boxes registered (keys made here, identity and data by the drivers)
        hot = {X: operator(hub, "POST", "/api/v1/places", json={"commune": X, "name": "Nhà văn hoá tổ 1"})["id"],
               Y: operator(hub, "POST", "/api/v1/places", json={"commune": Y, "name": "Chợ Đông Anh"})["id"]}
        specs = box_specs()
        for spec in specs:
            spec.update(dir=str(tmp_path / f"box-{spec['name']}"), hub_url=proxy.url, hub_key=hub.key,
                        seed=rng.randrange(10**9), hot_places=[hot[spec["commune"]]], control=str(control),
                        deadline_s=75, sync_timeout=5.0, ops_after_restart=40)
            ensure_key(spec["dir"])
            hub.register(SimpleNamespace(commune=spec["commune"], dir=Path(spec["dir"])))
        timings["setup"] = time.monotonic() - t0
        for spec in specs:
            config = Path(spec["dir"]) / "driver.json"
            config.write_text(json.dumps(spec))
            out = open(Path(spec["dir"]) / "driver.log", "wb")  # noqa: SIM115 - the driver's, closed below
            drivers.append((spec, subprocess.Popen([sys.executable, str(DRIVER), str(config)], cwd=ROOT,
                                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                                   env={**os.environ, "PYTHONPATH": str(ROOT)}), out))

        # every box edited its hot place without syncing: the hub edits the same field now
        while not all((control / f"ready-{s['name']}").exists() for s in specs):
            deadline.check("waiting for the boxes to be ready")
            for spec, proc, _ in drivers:
                if proc.poll() is not None:
                    raise AssertionError(f"box {spec['name']} exited early:\n{driver_output(spec)}")
            time.sleep(0.05)
        timings["ready"] = time.monotonic() - t0
        for pk in hot.values():
            operator(hub, "PATCH", f"/api/v1/places/{pk}", json={"description": "hub: concurrent edit"})
        (control / "go").write_text("go")
        editor = HubEditor(hub, rng.randrange(10**9), list(hot.values()))
        editor.start()

        # the hub goes down and comes back while the boxes write: stopped, then killed
        for n, sig in enumerate((signal.SIGTERM, signal.SIGKILL)):
            time.sleep(rng.uniform(1.0, 2.5))
            for spec, proc, _ in drivers:
                assert proc.poll() is None, f"box {spec['name']} ended before the restart:\n{driver_output(spec)}"
            hub.stop(sig)
            time.sleep(rng.uniform(0.2, 1.0))
            hub.start()
            timings[f"restart {n + 1}"] = time.monotonic() - t0
        (control / "restarted").write_text("restarted")

        for spec, proc, out in drivers:
            try:
                proc.wait(max(deadline.left(), 1))
            except subprocess.TimeoutExpired:
                raise AssertionError(f"box {spec['name']} did not finish:\n{driver_output(spec)}") from None
            out.close()
        editor.stop.set()
        editor.join(10)
        timings["writers done"] = time.monotonic() - t0
        results = {}
        for spec in specs:
            path = control / f"result-{spec['name']}.json"
            assert path.exists(), f"box {spec['name']} left no result:\n{driver_output(spec)}"
            results[spec["name"]] = json.loads(path.read_text())
        for name, result in results.items():
            assert not result["errors"], f"box {name} failed in {result['phase']}:\n" + "\n".join(result["errors"])
            assert not result["timed_out"], f"box {name} ran out of time after {result.get('done')} ops"
        assert not editor.errors, editor.errors
        print("faults:", dict(proxy.counts), flush=True)
        print("boxes:", {n: {k: r[k] for k in ("done", "sync_ok", "sync_failed", "place_edits", "elapsed_s")}
                         for n, r in results.items()}, flush=True)
        print("hub editor:", editor.done, "done,", editor.failed, "failed during the restart", flush=True)

        # heal, then sync until a whole round moves nothing
        proxy.heal()
        handles = [BoxHandle(spec, proxy.url) for spec in specs]
        quiet = False
        for _ in range(20):
            deadline.check("syncing after the heal")
            outcomes = {h.spec["name"]: h.sync() for h in handles}
            if not all(o["ok"] for o in outcomes.values()):
                time.sleep(0.2)
                continue
            if all(o["sent"] == 0 and o["received"] == 0 and o["pending"] == 0 for o in outcomes.values()):
                quiet = True
                break
        assert quiet, f"no quiet round after the heal: {outcomes}\n" + diagnose(hub, handles, proxy_log)
        timings["healed"] = time.monotonic() - t0

        check_convergence(hub, handles, specs)
        check_logs_once(hub, handles, results)
        check_conflicts(hub, handles, hot)
        check_hub_records(hub)
        assert not proxy.errors, proxy.errors
        assert all(proxy.counts[f] for f in FAULTS), f"some faults never happened: {dict(proxy.counts)}"
    finally:
        for _spec, proc, out in drivers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
            out.close()
        if editor is not None:
            editor.stop.set()
            editor.join(10)
        for handle in handles:
            handle.close()
        proxy.close()
        hub.close()
        timings["total"] = time.monotonic() - t0
        print("timings:", {k: round(v, 1) for k, v in timings.items()}, f"CHAOS_SEED={seed}", flush=True)


def diagnose(hub, handles, proxy_log):
    lines = []
    for handle in handles:
        node_id, last_seq, acked = box_sql(handle.dir, "select node_id, last_seq, acked_seq from sync_node")[0]
        at_hub = hub_sql(hub, "select acked_seq, status from box_node where node_id = ?", (node_id,))
        logged = hub_sql(hub, "select max(seq), count(*) from change_entry where origin = ?", (node_id,))
        lines.append(f"box {handle.spec['name']} {node_id}: last_seq {last_seq}, acked {acked}; hub box_node "
                     f"{at_hub}, hub log (max seq, count) {logged}")
    lines += [f"rejection {r}" for r in hub_sql(hub, "select origin, reason, substr(message, 1, 100) from rejection "
                                                     "order by id")[-15:]]
    lines += ["proxy: " + line for line in proxy_log[-40:]]
    return "\n".join(lines)


def driver_output(spec):
    path = Path(spec["dir"]) / "driver.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def check_convergence(hub, handles, specs):
    """Every replicated table of each commune is the same on the hub and on its boxes."""
    tables = sorted(replicated_models())
    hub_db = open_database(str(hub.dir / "hub.db"))
    try:
        for commune in sorted({s["commune"] for s in specs}):
            at_hub = node_digests(hub_db, tables, commune)
            for handle in handles:
                if handle.spec["commune"] != commune:
                    continue
                with handle:
                    here = digests(tables, commune)
                differ = [t for t in tables if here[t] != at_hub[t]]
                assert not differ, f"box {handle.spec['name']} and the hub differ in {differ} of {commune}:\n" + \
                    describe_place_difference(hub, handle, commune)
                # the clocks too: a snapshot hands the hub's to a new box, the merge compares with them
                clocks = ("select pk, field, hlc, node from field_clock where \"table\" = 'place' and pk in "
                          "(select id from place where commune = ?) order by pk, field")
                box_clocks, hub_clocks = box_sql(handle.dir, clocks, (commune,)), hub_sql(hub, clocks, (commune,))
                assert box_clocks == hub_clocks, f"box {handle.spec['name']}: field clocks differ from the hub's: " + \
                    str(sorted(set(box_clocks) ^ set(hub_clocks))[:6])
    finally:
        hub_db.close()


def describe_place_difference(hub, handle, commune):
    sql = f"select id, {', '.join(PLACE_FIELDS)} from place where commune = ? order by id"
    at_hub = {r[0]: r for r in hub_sql(hub, sql, (commune,))}
    here = {r[0]: r for r in box_sql(handle.dir, sql, (commune,))}
    lines = []
    for pk in sorted(set(at_hub) | set(here)):
        if at_hub.get(pk) != here.get(pk):
            lines.append(f"  {pk}: hub {at_hub.get(pk)} / box {here.get(pk)}")
            clocks = "select field, hlc, node from field_clock where pk = ? order by field"
            lines.append(f"    hub clocks {hub_sql(hub, clocks, (pk,))}")
            lines.append(f"    box clocks {box_sql(handle.dir, clocks, (pk,))}")
    return "\n".join(lines[:40])


def check_logs_once(hub, handles, results):
    """Each box's log is at the hub once, whole, in order; every ticket it made is there."""
    total, distinct = hub_sql(hub, "select count(*), count(distinct origin || ':' || seq) from change_entry")[0]
    assert total == distinct, "the hub holds an entry twice"
    for handle in handles:
        name = handle.spec["name"]
        node_id, last_seq, acked = box_sql(handle.dir, "select node_id, last_seq, acked_seq from sync_node")[0]
        assert acked == last_seq, f"box {name}: {last_seq - acked} entries unconfirmed"
        own = box_sql(handle.dir, "select seq, hash from change_entry where origin = ? order by seq", (node_id,))
        at_hub = hub_sql(hub, "select seq, hash from change_entry where origin = ? order by seq", (node_id,))
        assert len(own) == last_seq and at_hub == own, f"box {name}: its log at the hub differs from its own"
        (acked_at_hub,) = hub_sql(hub, "select acked_seq from box_node where node_id = ?", (node_id,))[0]
        assert acked_at_hub == last_seq
        made = set(results[name]["tickets"])
        logged = {r[0] for r in box_sql(handle.dir, "select pk from change_entry where origin = ? and \"table\" = "
                                                    "'ticket' and op = 'insert'", (node_id,))}
        assert made <= logged
        at_hub_tickets = {r[0] for r in hub_sql(hub, "select id from ticket where id like ?", (f"%-{node_id[-12:]}",))}
        missing = made - at_hub_tickets
        assert not missing, f"box {name}: {len(missing)} tickets never reached the hub"
        assert logged == at_hub_tickets
    for commune in {h.spec["commune"] for h in handles}:
        union = set()
        for handle in handles:
            if handle.spec["commune"] == commune:
                node_id = box_sql(handle.dir, "select node_id from sync_node")[0][0]
                union |= {r[0] for r in box_sql(handle.dir, "select pk from change_entry where origin = ? and "
                                                            "\"table\" = 'ticket' and op = 'insert'", (node_id,))}
        at_hub = {r[0] for r in hub_sql(hub, "select id from ticket where commune = ?", (commune,))}
        assert at_hub == union and union, f"tickets of {commune}: hub {len(at_hub)}, boxes {len(union)}"


def check_conflicts(hub, handles, hot):
    """The hub's conflicts are exactly the losers ``field_outcome`` finds in all writes."""
    rows = hub_sql(hub, "select origin, hlc, pk, data, base from change_entry where \"table\" = 'place' "
                        "and origin = 'hub'")
    for handle in handles:
        node_id = box_sql(handle.dir, "select node_id from sync_node")[0][0]
        rows += box_sql(handle.dir, "select origin, hlc, pk, data, base from change_entry where \"table\" = "
                                    "'place' and origin = ?", (node_id,))
    writes = place_writes(rows)
    expected, winners = set(), {}
    for (pk, field), field_writes in writes.items():
        winner, losers = field_outcome(field_writes)
        winners[(pk, field)] = winner
        expected |= {("place", pk, field, w.hlc, w.origin) for w in losers}
    recorded = hub_sql(hub, "select \"table\", pk, field, loser_hlc, loser_origin from conflict")
    assert len(recorded) == len(set(recorded))
    recorded = set(recorded)
    assert recorded == expected, (f"conflicts: {len(expected - recorded)} missing, e.g. "
                                  f"{sorted(expected - recorded)[:5]}; {len(recorded - expected)} extra, e.g. "
                                  f"{sorted(recorded - expected)[:5]}")
    hot_losers = [c for c in expected if c[1] in hot.values() and c[2] == "description"]
    assert len(hot_losers) >= 2, "the scenario made no concurrent edit of the hot places"
    history = {(r[0], r[1], r[2], r[3]) for r in hub_sql(hub, "select pk, field, hlc, origin from field_write "
                                                              "where \"table\" = 'place'")}
    assert history == {(pk, f, w.hlc, w.origin) for (pk, f), ws in writes.items() for w in ws}
    # the value every node shows is the last writer's
    for (pk, field), winner in winners.items():
        (value,) = hub_sql(hub, f'select "{field}" from place where id = ?', (pk,))[0]
        expected_value = int(winner.value) if field == "active" else winner.value
        assert value == expected_value, f"place {pk}.{field}: hub shows {value!r}, last writer {winner}"


def check_hub_records(hub):
    rejections = hub_sql(hub, "select reason, count(*) from rejection group by reason")
    unexpected = {reason: n for reason, n in rejections if reason not in OK_REJECTIONS}
    assert not unexpected, f"the hub refused batches: {unexpected} " + \
        str(hub_sql(hub, "select origin, reason, message from rejection where reason not in ('replay', 'gap') limit 5"))
    assert hub_sql(hub, "select count(*) from box_node where status != 'active'") == [(0,)]
    assert hub_sql(hub, "select count(*) from held_entry") == [(0,)]
