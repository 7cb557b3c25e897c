"""'Your turn is near': after a call, the ticket with N tickets of its service ahead gets one
notice if it left a phone number."""
import json
from datetime import datetime, timedelta

from office import queue
from office.models import Officer
from office.notices import Notice

T0 = datetime(2026, 11, 23, 1, 0)


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def issue(policy, phones):
    return [queue.issue_ticket(policy, "ho-tich", phone=p, now=at(i)) for i, p in enumerate(phones)]


def notices():
    return [(n.ref, n.kind, n.phone, json.loads(n.fields)) for n in Notice.select().order_by(Notice.created_at, Notice.id)]


def test_the_ticket_with_three_ahead_is_told_once(office, policy):
    counter = queue.sign_in(1, Officer.get(username="canbo1"), now=T0)
    t = issue(policy, ["0912000001", None, None, None, "0912000005", "0912000006"])
    assert queue.call_next(policy, counter.id, now=at(10)).id == t[0].id
    # waiting: t1 t2 t3 t4 t5 -> t4 has three ahead
    assert notices() == [(t[4].id, "turn_near", "0912000005", {"so_thu_tu": t[4].number, "quay": "1",
                                                                "so_luot_truoc": "3"})]
    # the called citizen is sent to the same service again and called back: t4 again has three ahead
    queue.transfer(counter.id, service_code="ho-tich", now=at(11))
    assert queue.call_next(policy, counter.id, now=at(12)).id == t[0].id
    assert len(notices()) == 1
    queue.call_next(policy, counter.id, now=at(13), absent_current=True)  # t1 called: t5 has three ahead now
    assert [n[0] for n in notices()] == [t[4].id, t[5].id]


def test_no_phone_no_notice(office, policy):
    counter = queue.sign_in(1, Officer.get(username="canbo1"), now=T0)
    issue(policy, [None] * 6)
    queue.call_next(policy, counter.id, now=at(10))
    queue.call_next(policy, counter.id, now=at(11), absent_current=True)
    assert notices() == []


def test_n_is_configurable_and_zero_is_off(office):
    counter = queue.sign_in(1, Officer.get(username="canbo1"), now=T0)
    one = queue.QueuePolicy(turn_ahead=1)
    t = issue(one, ["0912000001", "0912000002", "0912000003"])
    queue.call_next(one, counter.id, now=at(10))
    assert [n[0] for n in notices()] == [t[2].id] and notices()[0][3]["so_luot_truoc"] == "1"
    off = queue.QueuePolicy(turn_ahead=0)
    issue(off, ["0912000004", "0912000005"])
    queue.call_next(off, counter.id, now=at(20), absent_current=True)
    assert len(notices()) == 1


def test_the_box_reads_the_setting(settings):
    from edge.box import Box

    assert Box(settings, {}).policy.turn_ahead == 3
    assert Box(dict(settings, notify_turn_ahead=5), {}).policy.turn_ahead == 5
