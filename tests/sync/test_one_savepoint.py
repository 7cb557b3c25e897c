"""Issue 15: the rows of a unit that commits or fails whole (a ticket, its first event and its print
job) are saved without a savepoint each (``sync.capture.one_savepoint``): two statements a row less,
and still the row and its log entry are kept together or dropped together."""
import json

import pytest

from office.db import database
from office.models import Place, PrintJob, Ticket, TicketEvent
from office.queue import issue_ticket
from sync.capture import one_savepoint, this_node
from sync.models import ChangeEntry


def statements_of(fn):
    """The SQL ``fn`` runs on this thread's connection, as SQLite reads it."""
    seen = []
    connection = database.connection()
    connection.set_trace_callback(seen.append)
    try:
        fn()
    finally:
        connection.set_trace_callback(None)
    return seen


def test_a_ticket_saves_its_rows_without_a_savepoint_each(office, policy):
    with database.atomic():  # as the group commit runs it: inside the transaction of the moment
        issued = statements_of(lambda: issue_ticket(policy, "ho-tich", print_payload=lambda ticket: {}))
    savepoints = [s for s in issued if s.startswith("SAVEPOINT")]
    assert len(savepoints) == 1, issued  # the ticket's own (before: one more for the ticket, one for its event)
    assert [Ticket.select().count(), PrintJob.select().count()] == [1, 1]


def test_a_ticket_is_issued_without_an_issue_event_repeating_its_row(office, policy):
    """The ticket's row is the record of its issue: an "issue" event repeated it, a second replicated
    row and log entry on every ticket, 12 % of its instructions (issue 15)."""
    before = this_node().last_seq
    ticket = issue_ticket(policy, "ho-tich", priority="elderly", print_payload=lambda ticket: {})
    assert TicketEvent.select().count() == 0
    logged = [(e.table, e.op, e.pk) for e in ChangeEntry.select().where(ChangeEntry.seq > before)]
    assert logged == [("ticket", "insert", ticket.id)]
    row = Ticket.get_by_id(ticket.id)  # what the event held: when, and for whom
    assert (row.issued_at, row.priority, row.state) == (ticket.issued_at, "elderly", Ticket.ISSUED)


def test_a_ticket_that_fails_after_its_rows_leaves_no_row_entry_or_number(office, policy):
    before = this_node().last_seq

    def payload(ticket):
        raise RuntimeError("printer payload failed after the ticket was written")

    with database.atomic():
        with pytest.raises(RuntimeError):
            issue_ticket(policy, "ho-tich", print_payload=payload)
        assert [Ticket.select().count(), TicketEvent.select().count()] == [0, 0]
        assert ChangeEntry.select().where(ChangeEntry.seq > before).count() == 0
        assert this_node().last_seq == before
        assert issue_ticket(policy, "ho-tich").number == "A-001"  # the number was not spent
        issue_ticket(policy, "ho-tich")
    seqs = [e.seq for e in ChangeEntry.select().where(ChangeEntry.seq > before).order_by(ChangeEntry.seq)]
    assert seqs == [before + 1, before + 2]  # the chain goes on without a hole


def test_rows_saved_in_one_savepoint_are_dropped_with_their_entries(office):
    before = this_node().last_seq
    with database.atomic():
        with pytest.raises(ZeroDivisionError):
            with one_savepoint():
                Place.create(name="Chợ Bến", category="cho")
                Place.create(name="Bưu điện", category="buu-dien")
                1 / 0
        Place.create(name="Trạm y tế", category="y-te")
    assert [p.name for p in Place.select()] == ["Trạm y tế"]
    entries = list(ChangeEntry.select().where(ChangeEntry.seq > before).order_by(ChangeEntry.seq))
    assert [(e.seq, e.table) for e in entries] == [(before + 1, "place")]
    assert entries[0].prev == ChangeEntry.get(ChangeEntry.seq == before).hash  # the chain is whole


def test_a_ticket_writes_the_nodes_clock_and_log_end_twice_not_four_times(office, policy):
    """Issue 15: each of a ticket's two rows ticked the clock and moved the log's end in statements of
    their own on ``sync_node`` (four); its block now ticks once and writes clock and end once."""
    with database.atomic():
        issued = statements_of(lambda: issue_ticket(policy, "ho-tich", print_payload=lambda ticket: {}))
    assert len([s for s in issued if s.startswith("UPDATE sync_node")]) == 2, issued
    node, entries = this_node(), list(ChangeEntry.select().order_by(ChangeEntry.seq))
    assert (node.last_seq, node.last_hash) == (entries[-1].seq, entries[-1].hash)
    assert node.clock == entries[-1].hlc > entries[-2].hlc  # the clock stored is the last stamp given
    assert entries[-1].prev == entries[-2].hash


def test_a_chain_written_in_blocks_verifies_as_the_hub_checks_it(office, policy):
    from sync.merge import verify_chain

    for code in ("ho-tich", "dat-dai", "ho-tich"):
        with database.atomic():
            issue_ticket(policy, code)
    Place.create(name="Chợ Bến", category="cho")  # a write outside any block goes on from the blocks' end
    entries = [e.__data__ | {"data": json.loads(e.data), "base": json.loads(e.base) if e.base else {}}
               for e in ChangeEntry.select().order_by(ChangeEntry.seq)]
    verdict = verify_chain(entries, 0, "", lambda seq: None)
    assert verdict.reason is None and len(verdict.apply) == len(entries)
    stamps = [e["hlc"] for e in entries]
    assert stamps == sorted(set(stamps))  # every stamp later than the one before


def test_a_block_inside_a_block_starts_from_what_the_outer_one_wrote(office):
    before = this_node().last_seq
    with database.atomic():
        with one_savepoint():
            Place.create(name="Chợ Bến", category="cho")
            with pytest.raises(ZeroDivisionError), one_savepoint():
                Place.create(name="Bưu điện", category="buu-dien")
                1 / 0
            with one_savepoint():
                Place.create(name="Trạm y tế", category="y-te")
            Place.create(name="Nhà văn hoá", category="van-hoa")
    entries = list(ChangeEntry.select().where(ChangeEntry.seq > before).order_by(ChangeEntry.seq))
    assert [e.seq - before for e in entries] == [1, 2, 3]
    assert [e.prev for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert (this_node().last_seq, this_node().last_hash) == (entries[-1].seq, entries[-1].hash)
