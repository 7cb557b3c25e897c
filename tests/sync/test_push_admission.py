"""A province reconnecting at once: the hub takes in a few pushes at a time and asks the other
boxes to come back later (503 + Retry-After), and the boxes come back and drain, losing nothing.

Real hub processes on 127.0.0.1 (PostgreSQL, several web workers) and real box databases; the
hub's slots are PostgreSQL advisory locks, so the test holds one from its own connection exactly
as a push in another web worker holds it.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest
import requests

from central.push_gate import SLOT_KEY
from office import queue
from office.communes import all_communes
from sync import box as sync_box
from sync.box import _unsent
from sync.capture import this_node
from sync.client import HubBusy, HubClient, retry_after_seconds
from sync.keys import sign
from sync.protocol import ORIGIN, SIGNATURE, encode_batch

from .conftest import PG_URL, Box, HubProcess, drop_schema, postgres_schema

COMMUNES = iter(sorted(all_communes())[900:])
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_hub(tmp_path):
    """A PostgreSQL hub with 2 web workers taking one push at a time, asking others back in 1-2 s."""
    schema, url = postgres_schema()
    hub = HubProcess(tmp_path / "hub", url)
    hub.args += ["--push-concurrency", "1", "--push-retry-seconds", "1", "--web-workers", "2", "--web-threads", "4"]
    hub.start()
    yield hub
    hub.close()
    drop_schema(schema)


def make_box(tmp_path, hub, tickets, name):
    box = Box(tmp_path / name, next(COMMUNES), hub)
    hub.register(box)
    with box:
        policy = queue.QueuePolicy()
        for _ in range(tickets):
            queue.issue_ticket(policy, "ho-tich")
    return box


class HeldSlot:
    """The hub's only push slot, held from another connection (a push in another web worker)."""

    def __init__(self, schema):
        self.conn = psycopg2.connect(PG_URL, options=f"-csearch_path={schema}")
        self.conn.autocommit = True

    def __enter__(self):
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT pg_advisory_lock({SLOT_KEY}, 0)")
        return self

    def release(self):
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT pg_advisory_unlock({SLOT_KEY}, 0)")

    def __exit__(self, *exc):
        self.conn.close()


def hub_entries(hub, box):
    return hub.query(f"SELECT count(*), coalesce(max(seq), 0) FROM change_entry WHERE origin = '{box.node_id}'")[0]


def test_push_storm_saturating_the_hub_gets_503_with_retry_after(busy_hub, tmp_path):
    """Defect (issue 15): with every box pushing at once, each push took a web thread and a
    database connection and queued for the change log's lock, and people's pages waited behind
    them. A push beyond ``push_concurrency`` must be answered 503 with Retry-After, at once."""
    box = make_box(tmp_path, busy_hub, 5, "box-1")
    with box:
        rows = _unsent(this_node(), 100)
        body, signature = encode_batch(box.node_id, rows, box.key, this_node().clock)
    with HeldSlot(busy_hub.schema):
        for _ in range(4):  # every web worker answers the same: the slot is the hub's, not the process's
            started = time.monotonic()
            response = requests.post(busy_hub.url + "/sync/v1/push", data=body, timeout=30,
                                     headers={ORIGIN: box.node_id, SIGNATURE: signature})
            assert response.status_code == 503, response.text
            assert time.monotonic() - started < 5  # refused at once, not after queueing (generous bound)
            assert 1 <= int(response.headers["Retry-After"]) <= 2
            answer = response.json()
            assert answer["ok"] is False and answer["reason"] == "busy" and "giây" in answer["error"]
            assert "acked_seq" not in answer
        # a big body too (the hub reads it before answering): the box sees the 503, not a reset
        big = os.urandom(3 * 1024 * 1024)
        response = requests.post(busy_hub.url + "/sync/v1/push", data=big, timeout=30,
                                 headers={ORIGIN: box.node_id, SIGNATURE: sign(box.key, big)})
        assert response.status_code == 503 and response.json()["reason"] == "busy"
    assert hub_entries(busy_hub, box) == (0, 0)  # nothing was applied, nothing recorded as refused
    assert busy_hub.query("SELECT count(*) FROM rejection")[0][0] == 0
    # the slot is free again: the same batch (a fresh request) goes in
    with box:
        assert sync_box.sync_now(box.settings, box.key)["ok"]
    assert hub_entries(busy_hub, box)[1] == box_last_seq(box)


def test_a_push_gives_its_slot_back(busy_hub, tmp_path):
    """Slot 0 was never released (``0 in (None, False)`` is true): the web thread that took it kept
    it on its connection, so with one slot every push landing on another thread was refused for as
    long as the hub ran (a whole-suite run: a box told busy for two minutes), and with the default
    two slots the hub took one push at a time from then on."""
    box = make_box(tmp_path, busy_hub, 3, "box-1")
    with box:
        assert sync_box.sync_now(box.settings, box.key)["ok"]
    with psycopg2.connect(PG_URL, options=f"-csearch_path={busy_hub.schema}") as conn, conn.cursor() as cur:
        cur.execute(f"SELECT pg_try_advisory_lock({SLOT_KEY}, 0)")
        assert cur.fetchone()[0], "the push kept the hub's only slot"
        cur.execute(f"SELECT pg_advisory_unlock({SLOT_KEY}, 0)")


def test_another_hubs_push_in_the_same_database_does_not_take_this_hubs_slot(busy_hub, tmp_path):
    """Advisory locks belong to the whole PostgreSQL database: two hubs in one database (a schema
    each) shared their push slots, so one hub's push sent the other's boxes away. A whole-suite run
    failed that way: a box was told "busy" for two minutes while no push of its own hub was in."""
    other, _ = postgres_schema()
    box = make_box(tmp_path, busy_hub, 3, "box-1")
    try:
        with HeldSlot(other), box:  # slot 0 of the hub in the other schema: busy over there
            assert sync_box.sync_now(box.settings, box.key)["ok"]
        assert hub_entries(busy_hub, box)[1] == box_last_seq(box)
    finally:
        drop_schema(other)


def box_last_seq(box):
    with box:
        return this_node().last_seq


def test_box_waits_retry_after_and_drains_when_the_hub_frees_up(busy_hub, tmp_path):
    box = make_box(tmp_path, busy_hub, 40, "box-1")
    waits = []
    with HeldSlot(busy_hub.schema) as slot, box:
        client = HubClient(busy_hub.url, box.key, box.node_id)

        def sleep(seconds):  # the box's wait; the other push ends during the first one
            waits.append(seconds)
            if len(waits) == 2:
                slot.release()
            time.sleep(seconds)

        confirmed = sync_box.push(client, box.key, batch_size=100, budget_s=60, sleep=sleep)
        assert sync_box.pending_count() == 0
    assert len(waits) == 2 and all(1 <= w <= 3 for w in waits)  # Retry-After 1-2 s, plus up to half again
    assert confirmed == box_last_seq(box)
    assert hub_entries(busy_hub, box) == (confirmed, confirmed)


def test_busy_hub_past_the_budget_is_reported_and_not_a_longer_backoff(busy_hub, tmp_path):
    box = make_box(tmp_path, busy_hub, 3, "box-1")
    with HeldSlot(busy_hub.schema), box:
        client = HubClient(busy_hub.url, box.key, box.node_id)
        with pytest.raises(HubBusy) as raised:
            sync_box.push(client, box.key, budget_s=0.5)
        assert 1 <= raised.value.retry_after <= 2
        result = sync_box.sync_now({**box.settings, "sync_batch_size": 2000}, box.key, client=_impatient(client))
        assert result["ok"] is False and "bận" in result["error"]
        state = sync_box.status()
        assert state["failures"] == 0 and state["pending"] > 0  # the next periodic run goes at once
        assert sync_box.due()


def _impatient(client):
    """A client whose hub always says busy for longer than a sync run's budget."""
    original = client.push

    def push(body, signature):
        try:
            return original(body, signature)
        except HubBusy as exc:
            exc.retry_after = 120
            raise
    client.push = push
    return client


def test_boxes_pushing_at_once_through_one_slot_all_drain_and_lose_nothing(busy_hub, tmp_path):
    """Four boxes (their own processes, `motcua edge sync`) push several batches each at the same
    moment into a hub taking one push at a time: each waits when told and all entries arrive."""
    boxes = [make_box(tmp_path, busy_hub, 60, f"box-{i}") for i in range(4)]
    for box in boxes:
        box.db.close()

    def sync(box):
        return subprocess.Popen([sys.executable, "-m", "motcua", "edge", "sync", "--data-dir", str(box.dir),
                                 "--hub-url", busy_hub.url, "--sync-batch-size", "50"], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    procs = [sync(box) for box in boxes]
    outputs = [proc.communicate(timeout=240)[0] for proc in procs]
    for i, (proc, out) in enumerate(zip(procs, outputs)):
        # a run whose minute ran out while others held the slot says so and is run again, as the
        # box's worker does at its next minute (on a loaded machine four boxes' batches through
        # one slot can take longer than a run's budget); once is enough
        if proc.returncode != 0 and "bận" in out:
            procs[i] = sync(boxes[i])
            outputs[i] = out + procs[i].communicate(timeout=240)[0]
    for box, proc, out in zip(boxes, procs, outputs):
        assert proc.returncode == 0, out
        box.db.connect(reuse_if_open=True)
        last = box_last_seq(box)
        assert hub_entries(busy_hub, box) == (last, last), out
        assert box.status()["pending"] == 0
    assert busy_hub.query("SELECT count(*) FROM held_entry")[0][0] == 0


@pytest.mark.parametrize("value, seconds", [("7", 7.0), ("0", 1.0), ("100000", 300.0),
                                            ("Wed, 21 Oct 2015 07:28:00 GMT", 30.0), ("nan", 30.0)])
def test_retry_after_is_read_within_bounds(value, seconds):
    assert retry_after_seconds(value) == seconds


def test_a_hub_without_the_limit_lets_every_push_in(tmp_path):
    """``push_concurrency`` 0: no slot is taken, a held lock changes nothing."""
    schema, url = postgres_schema()
    hub = HubProcess(tmp_path / "hub", url)
    hub.args += ["--push-concurrency", "0"]
    hub.start()
    try:
        box = make_box(tmp_path, hub, 3, "box-1")
        with HeldSlot(schema):
            assert box.sync()["ok"]
    finally:
        hub.close()
        drop_schema(schema)


