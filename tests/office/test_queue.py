"""Calling, serving and closing tickets at the counters."""
from datetime import datetime, timedelta

import pytest

from office.errors import Conflict, MotcuaError, NotFound
from office.models import Counter, Officer, Ticket, TicketEvent
from office import queue
from office.board import estimate_wait_minutes, services_overview

T0 = datetime(2026, 11, 23, 1, 0)  # 08:00 in Hà Nội


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def open_counter(number, username):
    return queue.sign_in(number, Officer.get(username=username), now=T0)


@pytest.fixture
def counter1(office):
    return open_counter(1, "canbo1")  # serves ho-tich (A) and tu-phap (D)


def test_full_lifecycle_records_every_timestamp(counter1, policy):
    ticket = queue.issue_ticket(policy, "ho-tich", now=at(0))
    called = queue.call_next(policy, counter1.id, now=at(5))
    assert called.id == ticket.id and called.state == Ticket.CALLED
    queue.start_serving(counter1.id, now=at(6))
    done = queue.finish(counter1.id, now=at(16))
    assert done.state == Ticket.DONE
    assert (done.wait_seconds, done.walk_seconds, done.service_seconds) == (300, 60, 600)
    actions = [e.action for e in TicketEvent.select().where(TicketEvent.ticket == ticket).order_by(TicketEvent.id)]
    assert actions == ["call", "serve", "finish"]  # the issue is the ticket's own row (issued_at)
    assert done.officer.username == "canbo1"


def test_counter_only_calls_its_services(counter1, policy):
    queue.issue_ticket(policy, "dat-dai", now=at(0))
    assert queue.call_next(policy, counter1.id, now=at(1)) is None
    d = queue.issue_ticket(policy, "tu-phap", now=at(2))
    assert queue.call_next(policy, counter1.id, now=at(3)).id == d.id


def test_fifo_and_closed_counter_cannot_call(office, policy):
    first = queue.issue_ticket(policy, "ho-tich", now=at(0))
    queue.issue_ticket(policy, "ho-tich", now=at(1))
    closed = Counter.get(number=1)
    with pytest.raises(Conflict):
        queue.call_next(policy, closed.id, now=at(2))
    counter = open_counter(1, "canbo1")
    assert queue.call_next(policy, counter.id, now=at(2)).id == first.id


def test_priority_is_interleaved_by_ratio_not_starving_normal(counter1, policy):
    normals = [queue.issue_ticket(policy, "ho-tich", now=at(i)) for i in range(4)]
    priorities = [queue.issue_ticket(policy, "ho-tich", "elderly", now=at(10 + i)) for i in range(4)]
    order = []
    for i in range(8):
        order.append(queue.call_next(policy, counter1.id, now=at(20 + i), absent_current=True).id)
    p, n = [t.id for t in priorities], [t.id for t in normals]
    # ratio 2: two priority, one normal, two priority, one normal, then what is left.
    assert order == [p[0], p[1], n[0], p[2], p[3], n[1], n[2], n[3]]


def test_priority_ratio_is_configurable(counter1):
    policy = queue.QueuePolicy(priority_ratio=1)
    n = [queue.issue_ticket(policy, "ho-tich", now=at(i)).id for i in range(2)]
    p = [queue.issue_ticket(policy, "ho-tich", "pregnant", now=at(5 + i)).id for i in range(2)]
    order = [queue.call_next(policy, counter1.id, now=at(10 + i), absent_current=True).id for i in range(4)]
    assert order == [p[0], n[0], p[1], n[1]]


def test_unknown_priority_and_service_are_rejected(office, policy):
    with pytest.raises(MotcuaError):
        queue.issue_ticket(policy, "ho-tich", "vip")
    with pytest.raises(NotFound):
        queue.issue_ticket(policy, "khong-co")


def test_recall_and_no_show(counter1, policy):
    queue.issue_ticket(policy, "ho-tich", now=at(0))
    queue.call_next(policy, counter1.id, now=at(1))
    assert queue.recall(counter1.id, now=at(2)).recalls == 1
    gone = queue.no_show(counter1.id, now=at(3))
    assert gone.state == Ticket.NO_SHOW and gone.ended_at == at(3)
    with pytest.raises(Conflict):
        queue.recall(counter1.id)


def test_cannot_mark_absent_while_serving(counter1, policy):
    queue.issue_ticket(policy, "ho-tich", now=at(0))
    queue.call_next(policy, counter1.id, now=at(1))
    queue.start_serving(counter1.id, now=at(2))
    with pytest.raises(Conflict):
        queue.no_show(counter1.id)


def test_calling_next_closes_the_ticket_in_hand(counter1, policy):
    a = queue.issue_ticket(policy, "ho-tich", now=at(0))
    b = queue.issue_ticket(policy, "ho-tich", now=at(0))
    c = queue.issue_ticket(policy, "ho-tich", now=at(0))
    queue.call_next(policy, counter1.id, now=at(1))
    queue.call_next(policy, counter1.id, now=at(2), absent_current=True)  # a never came: confirmed absent
    queue.start_serving(counter1.id, now=at(3))
    queue.call_next(policy, counter1.id, now=at(9))  # b was being served: done
    assert Ticket.get_by_id(a.id).state == Ticket.NO_SHOW
    assert Ticket.get_by_id(b.id).state == Ticket.DONE
    assert Ticket.get_by_id(c.id).state == Ticket.CALLED


def test_next_while_called_does_not_silently_mark_absent(counter1, policy):
    a = queue.issue_ticket(policy, "ho-tich", now=at(0))
    b = queue.issue_ticket(policy, "ho-tich", now=at(0))
    queue.call_next(policy, counter1.id, now=at(1))
    with pytest.raises(Conflict, match="Số A-001 đã được mời nhưng chưa bắt đầu phục vụ"):
        queue.call_next(policy, counter1.id, now=at(2))
    assert Ticket.get_by_id(a.id).state == Ticket.CALLED
    assert Ticket.get_by_id(b.id).state == Ticket.ISSUED
    assert not TicketEvent.select().where(TicketEvent.action == "no_show").exists()


def test_finish_on_a_ticket_never_started_is_refused(counter1, policy):
    ticket = queue.issue_ticket(policy, "ho-tich", now=at(0))
    queue.call_next(policy, counter1.id, now=at(1))
    with pytest.raises(Conflict, match="chưa bắt đầu phục vụ"):
        queue.finish(counter1.id, now=at(1))
    row = Ticket.get_by_id(ticket.id)
    assert (row.state, row.serving_at, row.ended_at) == (Ticket.CALLED, None, None)
    queue.start_serving(counter1.id, now=at(2))
    done = queue.finish(counter1.id, now=at(6))
    assert done.walk_seconds == 60 and done.service_seconds == 240


def test_start_twice_is_refused(counter1, policy):
    queue.issue_ticket(policy, "ho-tich", now=at(0))
    queue.call_next(policy, counter1.id, now=at(1))
    queue.start_serving(counter1.id, now=at(2))
    with pytest.raises(Conflict, match="đang được phục vụ rồi"):
        queue.start_serving(counter1.id, now=at(3))
    assert queue.current_ticket(counter1.id).serving_at == at(2)


def test_second_officer_does_not_silently_take_an_occupied_counter(counter1):
    other = Officer.get(username="canbo2")
    with pytest.raises(Conflict, match="Quầy số 1 đang có cán bộ") as refused:
        queue.sign_in(1, other, now=at(1))
    assert refused.value.detail == {"occupied_by": Officer.get(username="canbo1").full_name}
    assert Counter.get_by_id(counter1.id).officer.username == "canbo1"
    queue.sign_in(1, Officer.get(username="canbo1"), now=at(2))  # the same officer again: fine
    taken = queue.sign_in(1, other, now=at(3), take_over=True)
    assert (taken.officer.username, taken.signed_in_at) == ("canbo2", at(3))


def test_transfer_to_another_service_goes_ahead_of_fresh_tickets(office, policy):
    c1, c3 = open_counter(1, "canbo1"), open_counter(3, "canbo3")  # counter 3: dat-dai, ldtbxh
    fresh = queue.issue_ticket(policy, "dat-dai", now=at(0))
    moved = queue.issue_ticket(policy, "ho-tich", now=at(1))
    queue.call_next(policy, c1.id, now=at(2))
    t = queue.transfer(c1.id, service_code="dat-dai", now=at(3))
    assert (t.state, t.service.code, t.number, t.transfers) == (Ticket.ISSUED, "dat-dai", "A-001", 1)
    assert queue.call_next(policy, c3.id, now=at(4)).id == moved.id
    assert queue.call_next(policy, c3.id, now=at(5), absent_current=True).id == fresh.id


def test_transfer_to_a_counter_is_called_only_there(office, policy):
    c1, c2 = open_counter(1, "canbo1"), open_counter(2, "canbo2")
    t = queue.issue_ticket(policy, "ho-tich", now=at(0))
    queue.call_next(policy, c1.id, now=at(1))
    queue.transfer(c1.id, to_counter=2, now=at(2))
    queue.issue_ticket(policy, "ho-tich", now=at(3))
    other = queue.call_next(policy, c1.id, now=at(4))
    assert other.id != t.id
    assert queue.call_next(policy, c2.id, now=at(5)).id == t.id
    with pytest.raises(MotcuaError):
        queue.transfer(c2.id, to_counter=2, now=at(6))


def test_transfer_needs_a_destination(counter1, policy):
    queue.issue_ticket(policy, "ho-tich", now=at(0))
    queue.call_next(policy, counter1.id, now=at(1))
    with pytest.raises(MotcuaError):
        queue.transfer(counter1.id)


def test_cancel(office, policy):
    t = queue.issue_ticket(policy, "ho-tich")
    assert queue.cancel(t.id).state == Ticket.CANCELLED
    with pytest.raises(Conflict):
        queue.cancel(t.id)


def test_signing_in_elsewhere_leaves_the_old_counter(office):
    officer = Officer.get(username="canbo1")
    queue.sign_in(1, officer)
    queue.sign_in(2, officer)
    assert Counter.get(number=1).officer_id is None
    assert Counter.get(number=2).officer_id == officer.id


def test_estimate_uses_recent_service_times_and_open_counters(office, policy):
    service = queue.issue_ticket(policy, "ho-tich", now=at(0)).service
    assert estimate_wait_minutes(policy, service, 4) is None  # nobody open: no estimate
    c1 = open_counter(1, "canbo1")
    queue.call_next(policy, c1.id, now=at(1))
    queue.start_serving(c1.id, now=at(1))
    queue.finish(c1.id, now=at(11))  # one service of 10 minutes
    assert estimate_wait_minutes(policy, service, 4) == 40
    open_counter(2, "canbo2")  # counter 2 also serves ho-tich
    assert estimate_wait_minutes(policy, service, 4) == 20
    overview = {row["code"]: row for row in services_overview(policy, now=at(12))}
    assert overview["ho-tich"]["open_counters"] == 2


@pytest.mark.parametrize("query", ["ahead", "service time"])
def test_the_kiosks_answer_reads_an_index_range_not_the_days_tickets(office, policy, query, monkeypatch):
    """Counting the people ahead walked every waiting ticket of the day (0.39 ms a ticket with
    3,000 waiting, on every ticket issued), and the average service time every finished ticket of
    every day (issue 15): both now read one range of an index that holds every column they need."""
    from office import board
    from office.db import database

    ticket = queue.issue_ticket(policy, "ho-tich")
    ran = []
    execute = database.obj.execute_sql
    monkeypatch.setattr(database.obj, "execute_sql", lambda sql, params=None: ran.append((sql, params)) or execute(sql, params))
    if query == "ahead":
        board.waiting_ahead(ticket)
    else:
        board.average_service_minutes(policy, ticket.service)
    monkeypatch.undo()
    ((sql, params),) = ran
    plan = " ".join(row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    index = {"ahead": "ticket_day_state_service_id_queued_at", "service time": "ticket_service_id_state_ended_at"}[query]
    assert f"USING COVERING INDEX {index}" in plan or f"USING INDEX {index}" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # no sort of every finished ticket
