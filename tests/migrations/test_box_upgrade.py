"""A box made by the previous release opens with today's code: schema upgraded, data and chain intact."""
import sqlite3

import pytest
from peewee import BooleanField, CharField, IntegerField

from office import migrations, queue
from office.db import bind, database, open_database
from office.migrations.step import Step
from office.migrations import LATEST, MIGRATIONS, NewerSchema, applied_migrations, upgrade
from office.models import MODELS, Dossier, Rating, Ticket
from sync.models import ChangeEntry, SyncNode

from .support import chain_verdict, counts, old_database, sqlite_schema

OLD_TABLES = ("ticket", "ticket_event", "rating", "dossier", "dossier_event", "officer", "change_entry",
              "field_clock", "sync_node")


@pytest.fixture
def old_box(tmp_path):
    path = old_database("box", tmp_path / "edge.db")
    yield path
    database.close()


def raw_counts(path):
    connection = sqlite3.connect(path)
    result = {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in OLD_TABLES}
    connection.close()
    return result


def test_a_box_from_the_previous_release_opens_with_its_data(old_box, caplog):
    before = raw_counts(old_box)
    db = bind(open_database(old_box), MODELS)
    every = [number for number, _ in MIGRATIONS]
    assert f"database schema upgraded to {LATEST} (migrations {every} applied)" in caplog.text
    assert counts(db, OLD_TABLES) == before and before["ticket"] == 4 and before["dossier"] == 2
    assert applied_migrations(db) == {number for number, _ in MIGRATIONS}
    assert db.execute_sql("PRAGMA user_version").fetchone()[0] == LATEST
    names = sorted(d.applicant_name for d in Dossier.select())
    assert names == ["Nguyễn Văn An", "Trần Thị Bình"]
    assert all(d.tracking_secret is None for d in Dossier.select())  # the new column, empty on old rows
    assert sorted(r.score for r in Rating.select()) == [1, 3]
    assert Ticket.select().where(Ticket.state == "done").count() == 2


def test_an_upgraded_box_has_the_schema_of_a_new_one(old_box, tmp_path):
    bind(open_database(old_box), MODELS).close()
    bind(open_database(str(tmp_path / "new.db")), MODELS).close()
    assert sqlite_schema(old_box) == sqlite_schema(str(tmp_path / "new.db"))


def test_the_box_change_log_stays_chained_after_the_upgrade(old_box):
    bind(open_database(old_box), MODELS)
    node = SyncNode.get()
    verdict, count = chain_verdict(node.node_id)
    assert count == 47 and verdict.reason is None and len(verdict.apply) == count
    queue.issue_ticket(queue.QueuePolicy(), "ho-tich")  # today's code appends to the old chain
    verdict, after = chain_verdict(node.node_id)
    assert after > count and verdict.reason is None and len(verdict.apply) == after
    old_head = ChangeEntry.get(ChangeEntry.origin == node.node_id, ChangeEntry.seq == count)
    assert ChangeEntry.get(ChangeEntry.origin == node.node_id, ChangeEntry.seq == count + 1).prev == old_head.hash


def test_a_second_open_of_an_upgraded_box_is_a_no_op(old_box):
    db = bind(open_database(old_box), MODELS)
    db.close()
    schema = sqlite_schema(old_box)
    db = bind(open_database(old_box), MODELS)
    assert upgrade(db, MODELS) == []
    assert sqlite_schema(old_box) == schema
    assert db.execute_sql("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)


def _failing(number):
    class Failing:
        NAME = "fails half way"

        @staticmethod
        def up(step):
            step.add_column("ticket", "half_way", __import__("peewee").CharField(null=True))
            step.create_tables(["web_session"])
            raise RuntimeError("disk full")

    return [*MIGRATIONS, (number, Failing)]


def test_a_failing_migration_leaves_an_old_box_as_it_was(old_box):
    schema, before = sqlite_schema(old_box), raw_counts(old_box)
    db = open_database(old_box)
    database.initialize(db)
    with pytest.raises(RuntimeError):
        upgrade(db, MODELS, migrations=_failing(LATEST + 1))
    db.close()
    assert sqlite_schema(old_box) == schema and raw_counts(old_box) == before
    connection = sqlite3.connect(old_box)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 0
    assert "tracking_secret" not in {c[1] for c in connection.execute("PRAGMA table_info(dossier)")}
    connection.close()


def test_a_failing_migration_leaves_an_upgraded_box_as_it_was(old_box):
    db = bind(open_database(old_box), MODELS)
    schema = sqlite_schema(old_box)
    with pytest.raises(RuntimeError):
        upgrade(db, MODELS, migrations=_failing(LATEST + 1))
    assert sqlite_schema(old_box) == schema
    assert applied_migrations(db) == {number for number, _ in MIGRATIONS}
    assert db.execute_sql("PRAGMA user_version").fetchone()[0] == LATEST


def test_a_new_box_is_made_at_the_newest_version(tmp_path):
    db = bind(open_database(str(tmp_path / "edge.db")), MODELS)
    assert applied_migrations(db) == {number for number, _ in MIGRATIONS}
    assert db.execute_sql("PRAGMA user_version").fetchone()[0] == LATEST
    assert "tracking_secret" in {c[1] for c in db.execute_sql("PRAGMA table_info(dossier)")}
    db.close()


def test_a_box_from_a_newer_release_is_refused(tmp_path):
    db = bind(open_database(str(tmp_path / "edge.db")), MODELS)
    db.execute_sql("INSERT INTO schema_migrations (number, name, applied_at) VALUES (?, 'later', '')",
                   (LATEST + 1,))
    db.close()
    with pytest.raises(NewerSchema, match="phiên bản mới hơn"):
        bind(open_database(str(tmp_path / "edge.db")), MODELS)
    database.close()


def test_every_migration_has_a_number_and_a_name():
    numbers = [number for number, _ in migrations.MIGRATIONS]
    assert numbers == list(range(1, len(numbers) + 1))
    assert all(module.NAME and callable(module.up) for _, module in migrations.MIGRATIONS)


@pytest.mark.parametrize("field, value", [(lambda: IntegerField(default=0), 0),
                                          (lambda: CharField(default="it's"), "it's"),
                                          (lambda: BooleanField(default=True), 1)])
def test_a_not_null_column_added_to_a_table_others_point_at_keeps_their_rows(old_box, field, value):
    db = bind(open_database(old_box), MODELS)
    before = counts(db, ("ticket", "ticket_event", "rating"))
    with db.atomic():
        Step(db, MODELS).add_column("ticket", "later", field())
    assert counts(db, ("ticket", "ticket_event", "rating")) == before
    assert {row[0] for row in db.execute_sql("SELECT later FROM ticket")} == {value}
    assert db.execute_sql("PRAGMA foreign_key_check").fetchall() == []
