import json
import threading
import time
from datetime import datetime, timedelta

import pytest
from escpos.printer import Dummy

from edge.printing import due_jobs, failed_jobs, process_job, reprint
from office.db import database
from office.errors import NotFound
from office.models import PrintJob, Ticket
from office.queue import issue_ticket
from tests.sqlite_steps import sqlite_steps

T0 = datetime(2026, 11, 23, 1, 15)
SETTINGS = {"printer_width": 384, "printer_timeout": 2.0, "print_max_attempts": 3}


class PaperOut(Dummy):
    closed = False

    def _raw(self, msg):
        raise OSError("Hết giấy")

    def close(self):
        self.closed = True


class Hung(Dummy):
    def __init__(self, release):
        super().__init__()
        self.release = release

    def _raw(self, msg):
        self.release.wait(10)


def payload(ticket):
    return {
        "office": "UBND phường Sông Công",
        "service": ticket.service.name,
        "priority_label": None,
        "issued_at": "08:15 23/11/2026",
        "estimated_wait_min": 5,
        "ahead": 1,
        "tracking_code": ticket.tracking_code,
        "qr": f"http://box.local/t/{ticket.tracking_code}",
    }


def issue_job(policy, now=T0):
    ticket = issue_ticket(policy, "ho-tich", print_payload=payload, now=now)
    return PrintJob.get(PrintJob.ticket == ticket)


def at(seconds):
    return T0 + timedelta(seconds=seconds)


def test_a_tickets_print_job_is_written_pending_and_due_at_once(office, policy):
    """The job is one plain INSERT now (issue 15): the row is the one ``PrintJob.create`` made."""
    job = issue_job(policy)
    made = PrintJob.create(ticket=job.ticket_id, payload=job.payload, created_at=T0, next_attempt_at=T0)
    fields = ("ticket_id", "payload", "state", "attempts", "last_error", "created_at", "next_attempt_at", "printed_at")
    assert [getattr(job, f) for f in fields] == [getattr(PrintJob.get_by_id(made.id), f) for f in fields]
    assert (job.state, job.attempts, job.next_attempt_at) == (PrintJob.PENDING, 0, T0)
    assert json.loads(job.payload) == dict(payload(job.ticket), number="A-001")
    assert due_jobs(now=T0) == [job.id, made.id]  # both due now, in the order they were written


def test_broken_printer_keeps_the_ticket_and_retries_until_it_returns(office, policy):
    job = issue_job(policy)
    broken = PaperOut()

    assert process_job(job.id, lambda: broken, SETTINGS, now=T0) == PrintJob.PENDING
    assert Ticket.get_by_id(job.ticket_id).state == Ticket.ISSUED
    job = PrintJob.get_by_id(job.id)
    assert (job.state, job.attempts, job.next_attempt_at) == (PrintJob.PENDING, 1, at(2))
    assert "Hết giấy" in job.last_error
    assert broken.closed

    opened = []
    printer = Dummy()

    def open_printer():
        opened.append(printer)
        return printer

    assert process_job(job.id, open_printer, SETTINGS, now=at(1)) == PrintJob.PENDING  # not due yet
    assert opened == []
    assert process_job(job.id, open_printer, SETTINGS, now=at(2)) == PrintJob.DONE
    job = PrintJob.get_by_id(job.id)
    assert (job.state, job.printed_at, job.last_error) == (PrintJob.DONE, at(2), "")
    assert b"\x1dv0" in printer.output and job.ticket.tracking_code.encode() in printer.output
    assert process_job(job.id, open_printer, SETTINGS, now=at(60)) == PrintJob.DONE
    assert len(opened) == 1  # printed once


def test_hung_printer_costs_one_attempt_within_the_timeout(office, policy):
    job = issue_job(policy)
    release = threading.Event()
    try:
        started = time.monotonic()
        state = process_job(job.id, lambda: Hung(release), dict(SETTINGS, printer_timeout=0.3), now=T0)
        assert time.monotonic() - started < 1.5
    finally:
        release.set()
    job = PrintJob.get_by_id(job.id)
    assert (state, job.state, job.attempts) == (PrintJob.PENDING, PrintJob.PENDING, 1)
    assert job.last_error == "Máy in không phản hồi sau 0.3 giây"

    printer = Dummy()
    assert process_job(job.id, lambda: printer, SETTINGS, now=at(2)) == PrintJob.DONE
    assert b"\x1d(k" in printer.output


def test_a_job_being_printed_is_not_printed_twice(office, policy):
    job = issue_job(policy)
    raced = []

    def open_printer():
        # The periodic sweep reaches the same job while this attempt prints.
        try:
            raced.append(process_job(job.id, PaperOut, SETTINGS, now=T0))
        finally:
            database.close()  # this thread's own connection
        return Dummy()

    assert process_job(job.id, open_printer, SETTINGS, now=T0) == PrintJob.DONE
    assert raced == [PrintJob.PENDING]
    assert PrintJob.get_by_id(job.id).attempts == 0


def test_max_attempts_fail_the_job_and_reprint_revives_it(office, policy):
    job = issue_job(policy)
    states = [process_job(job.id, PaperOut, SETTINGS, now=at(60 * n)) for n in range(3)]
    assert states == [PrintJob.PENDING, PrintJob.PENDING, PrintJob.FAILED]
    assert [j.id for j in failed_jobs()] == [job.id]
    assert due_jobs(now=at(3600)) == []
    assert process_job(job.id, Dummy, SETTINGS, now=at(3600)) == PrintJob.FAILED

    revived = reprint(job.id, now=at(3600))
    assert (revived.state, revived.attempts, revived.last_error) == (PrintJob.PENDING, 0, "")
    assert failed_jobs() == []
    assert due_jobs(now=at(3600)) == [job.id]
    assert process_job(job.id, Dummy, SETTINGS, now=at(3600)) == PrintJob.DONE

    again = reprint(job.id, now=at(4000))
    assert (again.state, again.printed_at) == (PrintJob.PENDING, None)
    with pytest.raises(NotFound):
        reprint(9999)


def test_due_jobs_respect_next_attempt_and_order(office, policy):
    first = issue_job(policy, now=T0)
    second = issue_job(policy, now=at(1))
    assert due_jobs(now=T0) == [first.id]
    assert due_jobs(now=at(1)) == [first.id, second.id]
    assert due_jobs(now=at(1), limit=1) == [first.id]

    process_job(first.id, PaperOut, SETTINGS, now=at(1))  # next attempt at 3 s
    assert due_jobs(now=at(2)) == [second.id]
    assert due_jobs(now=at(3)) == [first.id, second.id]


def test_jobs_printed_together_cost_two_commits_not_two_each(office, policy, monkeypatch):
    """The worker's two commits per ticket (claim, then done), each an fsync under the writer lock
    the kiosks wait for, held the web back while twenty kiosks issued (issue 15)."""
    from edge.printing import print_due

    jobs = [issue_job(policy, now=at(i)) for i in range(6)]
    commits = []
    original = database.obj.commit
    monkeypatch.setattr(database.obj, "commit", lambda: commits.append(1) or original())
    assert print_due(Dummy, SETTINGS, now=at(10)) == (6, None)
    assert len(commits) == 2
    assert [PrintJob.get_by_id(j.id).state for j in jobs] == [PrintJob.DONE] * 6
    assert print_due(Dummy, SETTINGS, now=at(11)) == (0, None)  # nothing printed twice


def test_a_failed_attempt_hands_the_later_jobs_back_untouched(office, policy):
    from edge.printing import print_due

    jobs = [issue_job(policy, now=at(i)) for i in range(3)]
    printers = iter([Dummy(), PaperOut()])
    assert print_due(lambda: next(printers), SETTINGS, now=at(10)) == (2, jobs[1].id)
    first, second, third = (PrintJob.get_by_id(j.id) for j in jobs)
    assert first.state == PrintJob.DONE
    assert (second.state, second.attempts, second.last_error) == (PrintJob.PENDING, 1, "Lỗi máy in: Hết giấy")
    assert second.next_attempt_at == at(12)  # the usual backoff
    assert (third.state, third.attempts, third.next_attempt_at) == (PrintJob.PENDING, 0, at(2))
    assert due_jobs(now=at(10)) == [third.id]


def test_jobs_of_a_worker_killed_while_printing_are_printed_again_after_their_claim(office, policy, monkeypatch):
    import edge.printing as printing

    jobs = [issue_job(policy, now=at(i)) for i in range(2)]

    def killed(*args, **kwargs):
        raise SystemExit("killed")

    monkeypatch.setattr(printing, "_attempt", killed)
    with pytest.raises(SystemExit):
        printing.print_due(Dummy, SETTINGS, now=at(10))
    assert due_jobs(now=at(10)) == []  # claimed: another worker thread does not print them meanwhile
    monkeypatch.undo()
    lease = SETTINGS["printer_timeout"] + printing.LEASE_MARGIN
    assert due_jobs(now=at(10 + 2 * lease)) == [j.id for j in jobs]
    assert printing.print_due(Dummy, SETTINGS, now=at(10 + 2 * lease)) == (2, None)


def backlog(n):
    """``n`` jobs waiting for the printer, not yet tried."""
    rows = [dict(payload="{}", created_at=T0, next_attempt_at=T0)] * n
    with database.atomic():
        PrintJob.insert_many(rows).execute()


def test_printer_check_of_every_ticket_does_not_read_the_print_backlog(office, policy):
    """``printer_trouble`` runs on every ticket issued: it read every job not yet tried, so a
    ticket cost more the further the printer fell behind (0.43 ms with 5,000 waiting jobs)."""
    from edge.printing import printer_trouble

    done = issue_job(policy)
    PrintJob.update(state=PrintJob.DONE, attempts=1).where(PrintJob.id == done.id).execute()
    failed = issue_job(policy)
    PrintJob.update(attempts=1, last_error="Hết giấy").where(PrintJob.id == failed.id).execute()

    backlog(10)
    assert printer_trouble() == "Hết giấy"
    few = sqlite_steps(printer_trouble)[0]
    backlog(3000)
    assert printer_trouble() == "Hết giấy"  # still found, behind 3,010 jobs not yet tried
    many = sqlite_steps(printer_trouble)[0]
    assert many < few * 2, f"{few} steps behind 10 waiting jobs, {many} behind 3,010"


def test_worker_claim_does_not_read_the_print_backlog(office, policy):
    """The worker claims the due jobs inside a write transaction: ordered by ``created_at``, every
    pending job was read and sorted (1.6 ms with 3,000 waiting) while the kiosks' writes waited."""
    issue_job(policy)

    backlog(20)
    few = sqlite_steps(lambda: due_jobs(now=at(1), limit=10))[0]
    backlog(3000)
    many = sqlite_steps(lambda: due_jobs(now=at(1), limit=10))[0]
    assert many < few * 2, f"{few} steps behind 21 waiting jobs, {many} behind 3,021"
