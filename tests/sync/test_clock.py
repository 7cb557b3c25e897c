"""Box clocks at 1970, ten years ahead, and jumping back: the HLC holds, nothing is lost."""
import time

import pytest

from office import queue
from office.models import Ticket
from sync import capture
from sync.hlc import wall_ms

YEAR_MS = 365 * 86_400_000


@pytest.fixture
def hub(module_hub):
    return module_hub


def set_wall(monkeypatch, ms):
    monkeypatch.setattr(capture, "now_ms", lambda: ms)


def _stamps():
    from sync.models import ChangeEntry

    return [e.hlc for e in ChangeEntry.select().order_by(ChangeEntry.seq)]


def issue(box, n=2):
    with box:
        for _ in range(n):
            queue.issue_ticket(queue.QueuePolicy(), "ho-tich")


def test_box_booted_in_1970_catches_up_with_the_hub(hub, make_box, monkeypatch):
    set_wall(monkeypatch, 5_000)  # no RTC: the Pi thinks it is 1 January 1970
    box = make_box(commune="00004")
    issue(box)
    with box:
        early = _stamps()
    assert early == sorted(early) and wall_ms(early[-1]) < 10_000
    assert box.sync()["ok"]  # old stamps are not a problem for the hub
    issue(box)
    with box:
        after = _stamps()
    assert after == sorted(after) and len(set(after)) == len(after)
    assert wall_ms(after[-1]) > time.time() * 1000 - 60_000  # the hub's time was taken in
    assert box.sync()["ok"] and box.status()["pending"] == 0


def test_clock_jumping_back_two_weeks_after_a_restart(hub, make_box, monkeypatch):
    now = int(time.time() * 1000)
    set_wall(monkeypatch, now)
    box = make_box(commune="00008")
    issue(box)
    box.db.close()  # "restart": the clock state must come from the database
    set_wall(monkeypatch, now - 14 * 86_400_000)
    issue(box)
    with box:
        all_stamps = _stamps()
        assert Ticket.select().count() == 4
    assert all_stamps == sorted(all_stamps) and len(set(all_stamps)) == len(all_stamps)
    assert box.sync()["ok"] and box.status()["pending"] == 0
    assert hub.query("select count(*) from ticket where commune = '00008'") == [(4,)]


def test_box_ten_years_ahead_is_held_at_the_hub(hub, make_box, monkeypatch):
    box = make_box(commune="00025")
    assert box.sync()["ok"]
    set_wall(monkeypatch, int(time.time() * 1000) + 10 * YEAR_MS)
    issue(box, 1)
    result = box.sync()
    assert result["ok"] and result["pending"] == 0  # accepted in its chain: the box need not resend
    held = hub.query(f"select count(*) from held_entry where origin = '{box.node_id}'")[0][0]
    assert held >= 1  # the ticket: not applied
    assert hub.query("select count(*) from ticket where commune = '00025'") == [(0,)]
    assert hub.query(f"select kind from alert where origin = '{box.node_id}'") == [("future",)]
    boxes = {b["node_id"]: b for b in hub.api("GET", "/api/v1/boxes")}
    assert boxes[box.node_id]["clock_offset_ms"] > 9 * YEAR_MS
