"""A database that cannot grow: the kiosk gets one plain Vietnamese 507, no ticket is half-made.

SQLite's ``max_page_count`` makes the box's own database "full" without any special
filesystem (tests/crash/test_full_disk.py fills a real tmpfs)."""
import errno
import sqlite3

import peewee

from motcua.web import DISK_FULL, DISK_FULL_CONSOLE, is_disk_full
from office.db import database
from office.models import PrintJob, Ticket


def _freeze_size(client, pages=None):
    """``max_page_count`` is a setting of one connection: set it on the test's and on the one the
    kiosks' tickets are written on (the group-commit writer's)."""
    pages = pages or database.execute_sql("PRAGMA page_count").fetchone()[0]
    database.execute_sql(f"PRAGMA max_page_count = {pages}")
    client.application.extensions["box"].writes.run(database.execute_sql, f"PRAGMA max_page_count = {pages}")


def _issue(client):
    return client.post("/api/v1/tickets", json={"service": "ho-tich"})


def test_full_database_is_a_plain_507_not_a_500(client):
    assert _issue(client).status_code == 201
    _freeze_size(client)
    answers = [_issue(client) for _ in range(60)]
    refused = [a for a in answers if a.status_code != 201]
    assert refused, "the frozen database kept taking tickets"
    for answer in refused:
        assert answer.status_code == 507
        assert answer.get_json() == {"ok": False, "error": DISK_FULL, "status": 507, "detail": {"reason": "disk_full"}}
    issued = [a.get_json()["number"] for a in answers if a.status_code == 201]
    _freeze_size(client, 1073741823)
    again = _issue(client)
    assert again.status_code == 201
    # Nothing half-written: one ticket and one print job per number handed out, no gap.
    numbers = [t.number for t in Ticket.select().order_by(Ticket.seq)]
    assert len(numbers) == len(issued) + 2 and numbers[-1] == again.get_json()["number"]
    assert [t.seq for t in Ticket.select().order_by(Ticket.seq)] == list(range(1, len(numbers) + 1))
    assert PrintJob.select().count() == len(numbers)


def test_technician_locked_out_by_a_full_disk_is_told_how_to_free_space(client, settings):
    from werkzeug.security import generate_password_hash

    settings.update(technician_password_hash=generate_password_hash("kythuat-test"))
    _freeze_size(client)
    while _issue(client).status_code == 201:  # fill what room the pages had left
        pass
    for _ in range(200):  # the sessions' own page may still hold a few rows
        answer = client.post("/console/login", data={"password": "kythuat-test"})
        if answer.status_code != 302:
            break
    page = answer.get_data(as_text=True)
    assert answer.status_code == 507 and DISK_FULL_CONSOLE in page
    assert "prints" in page and "logs" in page and "Traceback" not in page


def test_disk_full_is_recognised_in_every_form():
    assert is_disk_full(sqlite3.OperationalError("database or disk is full"))
    assert is_disk_full(peewee.OperationalError("database or disk is full"))
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    wrapped = RuntimeError("write failed")
    wrapped.__cause__ = OSError(errno.ENOSPC, "No space left on device")
    assert is_disk_full(wrapped)

    class DiskFull(Exception):
        pgcode = "53100"

    assert is_disk_full(peewee.OperationalError("could not extend file")) is False
    assert is_disk_full(DiskFull("could not extend file"))
    assert not is_disk_full(peewee.OperationalError("database is locked"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
