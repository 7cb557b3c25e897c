"""Power cuts while a replacement box loads its commune from the hub (SQLite and PostgreSQL
hubs): the box ends empty (and restores when run again) or whole, never restored without its
day counters, and a restore that committed but was cut before it said so finishes on retry.
"""
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from office.models import Office, Ticket, TicketSequence
from office.queue import QueuePolicy, issue_ticket
from provisioning.enrol import enrol_pending, restore_from_hub
from provisioning.local import read_state, write_state
from tests.processes import kill_group
from tests.sync.conftest import Box, running_hub

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path):
    yield from running_hub(request.param, tmp_path / "hub")


@pytest.fixture
def commune_at_hub(hub, tmp_path):
    """The old box's tickets, at the hub: what a replacement box restores."""
    old = Box(tmp_path / "old", "05518", hub)
    hub.register(old)
    with old:
        numbers = [issue_ticket(QueuePolicy(), code).number for code in ("ho-tich", "tu-phap") * 6]
    assert old.sync()["ok"]
    old.db.close()
    return numbers


def new_box(hub, root):
    box = Box(root, "05518", hub, seed=False)
    hub.register(box)
    return box


def held(box):
    with box:
        return sorted(t.number for t in Ticket.select())


def test_restore_cut_before_its_day_counters_leaves_the_box_empty(hub, commune_at_hub, tmp_path, monkeypatch):
    """A cut after the rows were written but before the day counters were set left a box whose
    next ticket took a number the hub holds: the unique index refused it, for good."""
    import office.queue

    box = new_box(hub, tmp_path / "new")

    def cut():
        raise RuntimeError("the power went")

    monkeypatch.setattr(office.queue, "rebuild_sequences", cut)
    with box, pytest.raises(RuntimeError):
        restore_from_hub(box.settings, box.key)
    assert held(box) == []
    with box:
        assert not Office.select().exists()
    monkeypatch.undo()
    with box:
        assert restore_from_hub(box.settings, box.key)["ticket"] == len(commune_at_hub)
        assert TicketSequence.select().count() == 2
        assert issue_ticket(QueuePolicy(), "ho-tich").number not in commune_at_hub
    box.db.close()


def test_restore_retried_after_it_committed_finishes_instead_of_failing_for_ever(hub, commune_at_hub, tmp_path):
    """Cut after the restore committed, before the provisioning state said so: the worker's
    retry found the box "already holding data" and stayed pending for ever."""
    box = new_box(hub, tmp_path / "new")
    with box:
        restore_from_hub(box.settings, box.key)
    write_state(box.dir, {"status": "restore", "hub_url": hub.url, "hub_urls": [hub.url], "commune": "05518"})
    with box:
        result = enrol_pending(box.settings)
    assert result["ok"], result
    assert read_state(box.dir)["status"] == "done"
    assert held(box) == sorted(commune_at_hub)
    box.db.close()


@pytest.mark.slow
def test_restore_killed_at_random_moments_ends_whole(hub, commune_at_hub, tmp_path):
    """``motcua edge init --restore`` SIGKILLed at random moments, then run to its end."""
    seed = int(os.environ.get("MOTCUA_POWER_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    print(f"restore cut test: MOTCUA_POWER_SEED={seed}")
    box = new_box(hub, tmp_path / "new")
    box.db.close()
    command = [sys.executable, "-m", "motcua", "edge", "init", "--restore", "--data-dir", str(box.dir),
               "--commune-code", "05518", "--hub-url", hub.url, "--hub-key", hub.key]
    log = open(tmp_path / "restore.out", "ab")
    try:
        for _ in range(4):
            proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log, start_new_session=True)
            time.sleep(rng.uniform(0.3, 3.0))  # imports, key, snapshot download, the transaction
            kill_group(proc, signal.SIGKILL)
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        log.close()
    assert done.returncode == 0, f"seed {seed}: {done.stdout}{done.stderr}"
    assert held(box) == sorted(commune_at_hub), f"seed {seed}"
    with box:
        assert box.db.execute_sql("PRAGMA quick_check").fetchall() == [("ok",)]
        assert {(s.prefix, s.last) for s in TicketSequence.select()} == {("A", 6), ("D", 6)}
    box.db.close()


def test_snapshot_row_with_a_readable_id_restores(tmp_path):
    """The hub seeds some rows with readable ids (not time-ordered hex): taking a clock stamp
    from every id stopped the restore with a ValueError."""
    from office.models import Holiday
    from sync.box import apply_snapshot
    from sync.capture import now_ms

    box = Box(tmp_path / "new", "05518", None, seed=False)
    doc = {"commune": "05518", "cursor": 7, "hub_time_ms": now_ms(), "clocks": [],
           "tables": {"holiday": {"columns": ["id", "commune", "day", "name", "kind"],
                                  "rows": [["hol-tet-2027", "*", "2027-02-06", "Tết Nguyên đán", "off"]]}}}
    with box:
        assert apply_snapshot(doc) == {"holiday": 1}
        assert Holiday.get_by_id("hol-tet-2027").name == "Tết Nguyên đán"
    box.db.close()
