"""The hub hears every contact of a box and tells the operator in plain words, in local time.

A real hub process (SQLite and PostgreSQL), boxes as databases of the test process, a silent or
closed port on 127.0.0.1 standing for a hub that does not answer.
"""
import logging
import socket
import sqlite3
import threading
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
import requests

from office.clock import utcnow
from sync import box as sync_box
from sync.client import NO_ROUTE, TIMED_OUT
from sync.models import SyncNode

from .conftest import Box, free_port

COMMUNE = "05518"


def hub_execute(hub, sql, *args):
    """Change the hub's database behind its back (a test's way to let time pass)."""
    if hub.database_url:
        import psycopg2

        with psycopg2.connect(hub.database_url.split("?")[0], options=f"-csearch_path={hub.schema}") as conn:
            with conn.cursor() as cur:
                cur.execute(sql.replace("?", "%s"), args)
        return
    with sqlite3.connect(hub.dir / "hub.db") as conn:
        conn.execute(sql, args)


def fleet_page(hub):
    response = requests.get(hub.url + "/", headers=hub.bearer(), timeout=10)
    assert response.status_code == 200
    return response.text


def fleet_row(hub, box):
    (row,) = [b for b in hub.api("GET", "/api/v1/boxes") if b["node_id"] == box.node_id]
    return row


@pytest.fixture
def box(hub, tmp_path):
    b = Box(tmp_path / "box", COMMUNE, hub)
    hub.register(b)
    assert b.sync()["ok"]
    return b


def test_a_box_that_synced_is_not_shown_lost_every_contact_counts(hub, box):
    """Defect: a box that synced at 12:47 was shown "Mất liên lạc": only pushes with data were
    counted, so an idle box (lunch, night, weekend) looked lost and raised an alert after an hour.
    A pull with nothing to push counts, and so does the hello an idle box sends."""
    two_hours_ago = utcnow() - timedelta(hours=2)
    hub_execute(hub, "UPDATE box_node SET last_seen_at = ? WHERE node_id = ?", two_hours_ago, box.node_id)
    assert fleet_row(hub, box)["stale"] is True
    assert "Mất liên lạc" in fleet_page(hub)

    with box:
        assert sync_box.pending_count() == 0
    assert box.sync() == {"ok": True, "sent": 0, "received": 0, "pending": 0}  # nothing to push: a pull
    row = fleet_row(hub, box)
    assert row["stale"] is False, row
    assert "Mất liên lạc" not in fleet_page(hub)

    hub_execute(hub, "UPDATE box_node SET last_seen_at = ?, pending_estimate = 99 WHERE node_id = ?",
                two_hours_ago, box.node_id)
    with box:
        assert sync_box.say_hello(box.settings, box.key)["ok"] is True
    row = fleet_row(hub, box)
    assert (row["stale"], row["pending_estimate"]) == (False, 0), row


def test_hub_fleet_page_shows_office_local_time(hub, box):
    """Defect: the hub showed ISO UTC ("2026-12-05T05:47:00Z"), 7 hours off the office's clock."""
    hub_execute(hub, "UPDATE box_node SET last_seen_at = ? WHERE node_id = ?", datetime(2026, 12, 5, 5, 47),
                box.node_id)
    page = fleet_page(hub)
    assert "12:47 05/12/2026" in page
    assert "2026-12-05T05:47" not in page
    assert fleet_row(hub, box)["last_seen_at"] == "2026-12-05T05:47:00Z"  # the API stays UTC, for scripts


def test_routine_resend_is_not_listed_as_rejected_replay(hub, box):
    """Defect: a box that did not get the answer to its push sends the same entries again; the hub
    listed that routine resend as a rejected batch "replay". It is acknowledged and not listed."""
    with box:
        acked = SyncNode.get().acked_seq
        assert acked > 0
        SyncNode.update(acked_seq=0).execute()  # as if the hub's answer had been lost
    assert box.sync()["ok"] is True
    with box:
        assert SyncNode.get().acked_seq == acked
    assert hub.query("SELECT reason FROM rejection") == []
    assert "replay" not in fleet_page(hub)


class SilentHub:
    """A port on 127.0.0.1 that takes connections and never answers (a hub that hangs)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.mark.parametrize("kind", ["timeout", "closed"])
def test_sync_error_is_plain_vietnamese_not_exception_text(tmp_path, caplog, kind):
    """Defect: /sync showed "HTTPConnectionPool(host=…): Read timed out" to the technician. It
    says what happened in Vietnamese; the raw cause stays in the log."""
    silent = SilentHub() if kind == "timeout" else None
    url = silent.url if silent else f"http://127.0.0.1:{free_port()}"
    try:
        box = Box(tmp_path / "box", COMMUNE, SimpleNamespace(url=url, key=""))
        box.settings["sync_timeout"] = 0.5
        with caplog.at_level(logging.WARNING, logger="motcua.sync.client"):
            result = box.sync()
    finally:
        if silent:
            silent.close()
    expected = TIMED_OUT if kind == "timeout" else NO_ROUTE
    assert result["ok"] is False and result["error"] == expected
    assert box.status()["last_error"] == expected
    assert "HTTPConnectionPool" not in result["error"] and "Errno" not in result["error"]
    raw = "timed out" if kind == "timeout" else "Connection refused"
    assert any(raw in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]


def test_the_worker_says_hello_every_5_minutes(hub, box):
    """The box's worker has the periodic hello (every 5 minutes in service): run once, the hub
    hears the idle box."""
    from huey import MemoryHuey

    from edge.tasks import register_tasks

    huey = MemoryHuey(immediate=True)
    tasks = register_tasks(huey, box.settings)
    assert "say_hello" in {t.__name__ for t in huey._registry._periodic_tasks}
    hub_execute(hub, "UPDATE box_node SET last_seen_at = ? WHERE node_id = ?", utcnow() - timedelta(hours=2),
                box.node_id)
    with box:
        tasks["say_hello"].call_local()
    assert fleet_row(hub, box)["stale"] is False
