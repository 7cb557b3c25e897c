"""A ticket's moment is put into text once: SQLite's adapter and the change log's encoder made the
same text from the same datetime twelve times a ticket (2 % of its instructions, issue 15)."""
import sqlite3
from datetime import datetime, timedelta, timezone

from hypothesis import given, strategies as st

import office.clock as clock
from office.clock import datetime_text
from office.db import database
from office.models import Ticket
from sync.encoding import canonical_text


def test_a_ticket_formats_its_moment_once(app, monkeypatch):
    client = app.test_client()
    assert client.post("/api/v1/tickets", json={"service": "ho-tich"}).status_code == 201  # warm
    made, original = [], clock._format
    monkeypatch.setattr(clock, "_format", lambda value: made.append(value) or original(value))
    assert client.post("/api/v1/tickets", json={"service": "chung-thuc"}).status_code == 201
    assert len(made) <= 2, made  # 12 before
    ticket = Ticket.select().order_by(Ticket.issued_at.desc()).get()
    stored = database.execute_sql("SELECT issued_at FROM ticket WHERE id = ?", (ticket.id,)).fetchone()[0]
    assert stored == ticket.issued_at.isoformat(" ")


@given(st.datetimes(timezones=st.none() | st.just(timezone.utc) | st.just(timezone(timedelta(hours=7)))))
def test_the_text_is_pythons_own_for_every_datetime(value):
    assert datetime_text(value) == value.isoformat(" ")
    assert datetime_text(value) == value.isoformat(" ")  # kept
    other = value + timedelta(microseconds=1)
    assert datetime_text(other) == other.isoformat(" ")
    assert datetime_text(value) == value.isoformat(" ")  # an equal moment asked again after another
    assert canonical_text({"at": value}) == '{"at":"' + value.isoformat(" ") + '"}'


def test_sqlite_stores_what_it_stored_before():
    conn = sqlite3.connect(":memory:")
    for value in (datetime(2026, 12, 6, 8, 30), datetime(2026, 12, 6, 8, 30, 0, 12), datetime(1, 1, 1)):
        assert conn.execute("SELECT ?", (value,)).fetchone()[0] == value.isoformat(" ")
