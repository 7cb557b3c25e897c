"""Ticket numbers: per prefix, restart at the office's midnight, never duplicated or skipped."""
import multiprocessing
import threading
from collections import defaultdict
from datetime import datetime

import pytest

from office.db import bind, database, open_database
from office.models import MODELS, PrintJob, Ticket
from office.queue import issue_ticket


def test_numbers_per_prefix(office, policy):
    assert issue_ticket(policy, "ho-tich").number == "A-001"
    assert issue_ticket(policy, "ho-tich").number == "A-002"
    assert issue_ticket(policy, "dat-dai").number == "C-001"


def test_numbers_restart_at_local_midnight(office, policy):
    # 16:59 UTC is 23:59 in Hà Nội; 17:00 UTC is already the next day there.
    before = issue_ticket(policy, "ho-tich", now=datetime(2026, 11, 23, 16, 59))
    also_before = issue_ticket(policy, "ho-tich", now=datetime(2026, 11, 23, 16, 59, 30))
    after = issue_ticket(policy, "ho-tich", now=datetime(2026, 11, 23, 17, 0))
    assert (before.day, before.number) == ("2026-11-23", "A-001")
    assert also_before.number == "A-002"
    assert (after.day, after.number) == ("2026-11-24", "A-001")


def test_failed_issue_does_not_burn_a_number(office, policy):
    def broken_payload(ticket):
        raise RuntimeError("payload failed")

    issue_ticket(policy, "ho-tich")
    with pytest.raises(RuntimeError):
        issue_ticket(policy, "ho-tich", print_payload=broken_payload)
    assert issue_ticket(policy, "ho-tich").number == "A-002"
    assert PrintJob.select().count() == 0


def _assert_contiguous(expected_per_prefix):
    seen = defaultdict(list)
    for day, prefix, seq in Ticket.select(Ticket.day, Ticket.prefix, Ticket.seq).tuples():
        seen[(day, prefix)].append(seq)
    assert {key[1]: sorted(seqs) for key, seqs in seen.items()} == {
        prefix: list(range(1, count + 1)) for prefix, count in expected_per_prefix.items()
    }


def test_eight_threads_issue_without_duplicates_or_gaps(office, policy):
    errors = []

    def issue_many(service):
        try:
            for _ in range(200):
                issue_ticket(policy, service)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=issue_many, args=(("ho-tich", "dat-dai")[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    _assert_contiguous({"A": 800, "C": 800})


def _issue_in_process(path, count, service):
    bind(open_database(path), MODELS)
    from office.queue import QueuePolicy

    for _ in range(count):
        issue_ticket(QueuePolicy(), service)
    database.close()


def test_two_processes_issue_without_duplicates_or_gaps(office, policy, tmp_path):
    path = office.database
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_issue_in_process, args=(path, 200, "ho-tich")) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    _assert_contiguous({"A": 400})
    assert Ticket.select().count() == 400
