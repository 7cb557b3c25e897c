"""Group commit: writes queued together share one transaction, each is answered after the commit,
and one that fails does not take the others with it."""
import threading

from office.db import database
from office.errors import MotcuaError, NotFound
from office.group_commit import GroupCommit
from office.models import Ticket
from office.queue import issue_ticket
from sync.models import ChangeEntry


def counting_commits(db, monkeypatch):
    commits = []
    original = db.commit

    def commit():
        commits.append(threading.current_thread().name)
        return original()

    monkeypatch.setattr(db, "commit", commit)
    return commits


def run_together(writes, jobs):
    """Start every job while the first one is held inside its transaction, so the others queue
    behind it; return each job's value or exception, in order."""
    results, gate, started = [None] * len(jobs), threading.Event(), threading.Event()

    def held(fn):
        def run(*args):
            started.set()
            assert gate.wait(10)
            return fn(*args)
        return run

    def call(i, fn, args):
        try:
            results[i] = writes.run(fn, *args)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            results[i] = exc

    first_fn, first_args = jobs[0]
    threads = [threading.Thread(target=call, args=(0, held(first_fn), first_args))]
    threads[0].start()
    assert started.wait(10)
    threads += [threading.Thread(target=call, args=(i, fn, args)) for i, (fn, args) in enumerate(jobs) if i]
    for thread in threads[1:]:
        thread.start()
    deadline = threading.Event()
    for _ in range(500):  # until every other job is queued (bounded: 5 s)
        if writes._jobs.qsize() == len(jobs) - 1:
            break
        deadline.wait(0.01)
    gate.set()
    for thread in threads:
        thread.join(10)
    return results


def test_tickets_issued_together_share_one_commit(office, policy, monkeypatch):
    commits = counting_commits(database.obj, monkeypatch)
    writes = GroupCommit()
    services = ["ho-tich", "chung-thuc", "dat-dai", "tu-phap", "ldtbxh", "ho-tich", "ho-tich", "dat-dai"]
    results = run_together(writes, [(issue_ticket, (policy, code)) for code in services])
    assert all(isinstance(r, Ticket) for r in results), results
    # the seven queued while the held one ran join its transaction: one commit (two before, the held
    # one's alone, then the others': the callers who came during a commit waited for one more)
    assert len(commits) == 1
    assert sorted(t.number for t in results) == ["A-001", "A-002", "A-003", "B-001", "C-001", "C-002", "D-001",
                                                 "E-001"]
    # every ticket and its event are in the signed log, seq contiguous
    seqs = [e.seq for e in ChangeEntry.select().order_by(ChangeEntry.seq)]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) and len(seqs) >= 16


def test_a_refused_write_rolls_back_alone(office, policy):
    writes = GroupCommit()

    def issue_then_refuse(code):
        issue_ticket(policy, code)  # written, then rolled back with its savepoint
        raise MotcuaError("refused after writing")

    results = run_together(writes, [(issue_ticket, (policy, "ho-tich")), (issue_then_refuse, ("ho-tich",)),
                                    (issue_ticket, (policy, "khong-co")), (issue_ticket, (policy, "ho-tich"))])
    assert isinstance(results[1], MotcuaError) and isinstance(results[2], NotFound)
    assert [results[0].number, results[3].number] == ["A-001", "A-002"]  # no number lost to the refused one
    assert [t.number for t in Ticket.select().order_by(Ticket.number)] == ["A-001", "A-002"]


def _fails_after_writing(ticket):
    raise MotcuaError("the ticket's print payload failed")  # after its row is written


def test_a_ticket_failing_after_its_writes_takes_its_batch_down_and_the_others_run_again(office, policy,
                                                                                         monkeypatch):
    """A ticket runs in no savepoint in the group commit (issue 15): its failure rolls back the batch's
    transaction, which is run again without it. Nothing of it is kept, no number is lost."""
    commits = counting_commits(database.obj, monkeypatch)
    writes, seeded = GroupCommit(), ChangeEntry.select().count()
    results = run_together(writes, [(issue_ticket, (policy, "ho-tich")),
                                    (issue_ticket, (policy, "ho-tich", None, None, _fails_after_writing)),
                                    (issue_ticket, (policy, "dat-dai")), (issue_ticket, (policy, "ho-tich"))])
    assert isinstance(results[1], MotcuaError)
    assert [results[0].number, results[2].number, results[3].number] == ["A-001", "C-001", "A-002"]
    assert sorted(t.number for t in Ticket.select()) == ["A-001", "A-002", "C-001"]
    assert len(commits) == 1  # the batch (all four) rolled back, then run again without it and committed
    entries = list(ChangeEntry.select().order_by(ChangeEntry.seq))
    assert [e.seq for e in entries] == list(range(entries[0].seq, entries[0].seq + seeded + 3))  # no gap
    assert {e.pk for e in entries if e.table == "ticket"} == {t.id for t in Ticket.select()}


def test_a_ticket_failing_after_its_writes_in_the_callers_transaction_leaves_nothing(office, policy):
    writes, seeded = GroupCommit(), ChangeEntry.select().count()
    with database.atomic():
        first = writes.run(issue_ticket, policy, "ho-tich")
        try:
            writes.run(issue_ticket, policy, "ho-tich", print_payload=_fails_after_writing)
        except MotcuaError:
            pass
        second = writes.run(issue_ticket, policy, "ho-tich")
    assert [first.number, second.number] == ["A-001", "A-002"]
    assert Ticket.select().count() == 2 and ChangeEntry.select().count() == seeded + 2


def test_a_transaction_ended_by_sqlite_is_run_again_without_the_write_that_ended_it(office, policy):
    writes = GroupCommit()

    def ends_the_transaction():
        issue_ticket(policy, "ho-tich")
        database.execute_sql("ROLLBACK")  # as SQLite does itself on a full disk or an I/O error
        raise OSError("disk I/O error")

    results = run_together(writes, [(issue_ticket, (policy, "ho-tich")), (ends_the_transaction, ()),
                                    (issue_ticket, (policy, "dat-dai"))])
    assert isinstance(results[1], OSError)
    assert [results[0].number, results[2].number] == ["A-001", "C-001"]
    assert sorted(t.number for t in Ticket.select()) == ["A-001", "C-001"]


def test_a_failed_commit_fails_every_caller_and_keeps_nothing(office, policy, monkeypatch):
    writes = GroupCommit()
    original = database.obj.commit
    calls = []

    def commit():
        calls.append(1)
        if len(calls) == 1:  # the batch: the held one and the two queued meanwhile (peewee rolls it back)
            raise OSError("database or disk is full")
        return original()

    monkeypatch.setattr(database.obj, "commit", commit)
    results = run_together(writes, [(issue_ticket, (policy, "ho-tich")), (issue_ticket, (policy, "ho-tich")),
                                    (issue_ticket, (policy, "dat-dai"))])
    assert all(isinstance(r, OSError) for r in results), results
    assert list(Ticket.select()) == []
    assert writes.run(issue_ticket, policy, "ho-tich").number == "A-001"  # the next commit: no number lost


def test_inside_a_transaction_the_write_runs_in_place(office, policy):
    writes = GroupCommit()
    with database.atomic():
        ticket = writes.run(issue_ticket, policy, "ho-tich")
    assert ticket.number == "A-001" and writes.batches == 0


def test_the_writer_thread_idles_out_quietly_after_its_database_is_unbound(office, policy, monkeypatch):
    """The writer thread closes its connection when idle: it asked the database proxy, which raised
    once the proxy was unbound meanwhile (a whole-suite run: the next test failed on that thread's
    exception)."""
    errors = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    writes = GroupCommit(idle_seconds=0.2)
    assert writes.run(issue_ticket, policy, "ho-tich").number == "A-001"
    thread = writes._thread
    bound = database.obj
    database.initialize(None)
    try:
        thread.join(5)
    finally:
        database.initialize(bound)
    assert not thread.is_alive() and errors == []
