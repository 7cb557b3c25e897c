"""The box's savepoints share one name (office.db): SQLite parses a SAVEPOINT and a RELEASE once,
not on every ticket, and nested savepoints of one name still roll back exactly what they hold."""
import pytest

from office import queue
from office.db import database


class Failed(Exception):
    pass


@pytest.fixture
def table(db):
    database.execute_sql("CREATE TABLE t (x TEXT)")
    return lambda: sorted(row[0] for row in database.execute_sql("SELECT x FROM t"))


def put(value):
    database.execute_sql("INSERT INTO t VALUES (?)", (value,))


def test_a_tickets_savepoint_statements_are_the_same_text_every_time(office, policy):
    """Issue 15: peewee named every savepoint with a new UUID: SQLite parsed and planned a SAVEPOINT and
    a RELEASE it had never seen on every ticket (about 4 % of the writer's CPU of one)."""
    seen = []
    database.connection().set_trace_callback(seen.append)
    try:
        for service in ("ho-tich", "dat-dai", "ho-tich"):
            with database.atomic():
                queue.issue_ticket(policy, service)
    finally:
        database.connection().set_trace_callback(None)
    savepoints = [s for s in seen if "SAVEPOINT" in s]
    assert len(savepoints) == 6  # SAVEPOINT and RELEASE, a ticket
    assert len(set(savepoints)) == 2, savepoints


def test_an_inner_savepoint_rolled_back_keeps_what_the_outer_one_wrote(table):
    with database.atomic():
        put("a")
        with database.atomic():
            put("b")
            with pytest.raises(Failed), database.atomic():
                put("c")
                raise Failed
            put("d")
        put("e")
    assert table() == ["a", "b", "d", "e"]


def test_an_outer_savepoint_rolls_back_what_it_wrote_after_an_inner_one_failed(table):
    """The same name twice on the stack: ROLLBACK TO acts on the newest. peewee left a rolled-back
    savepoint on the stack, so the outer one's rollback would have stopped at the inner one's start and
    kept "b"."""
    with database.atomic():
        put("a")
        with pytest.raises(Failed), database.atomic():
            put("b")
            with pytest.raises(Failed), database.atomic():
                put("c")
                raise Failed
            put("d")
            raise Failed
        put("e")
    assert table() == ["a", "e"]


def test_a_savepoint_rolled_back_by_hand_opens_again(table):
    with database.atomic():
        with database.atomic() as savepoint:
            put("a")
            savepoint.rollback()  # and a new one begins, as peewee's does
            put("b")
    assert table() == ["b"]
