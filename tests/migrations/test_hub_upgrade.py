"""A hub made by the previous release opens with today's code, on SQLite and on PostgreSQL."""
import subprocess
import sys
import time

import pytest

from central.app import HUB_MODELS, create_app, open_hub_database
from central.models import BoxNode
from office.db import bind, database, open_database
from office.migrations import LATEST, MIGRATIONS, applied_migrations, upgrade
from office.models import Dossier

from .support import chain_verdict, counts, hub_settings, old_database, old_postgres_hub, sqlite_schema

OLD_TABLES = ("box_node", "change_entry", "field_write", "ticket", "ticket_event", "rating", "dossier",
              "dossier_event", "office", "officer")
EXPECTED = {"box_node": 1, "change_entry": 47, "field_write": 44, "ticket": 4, "ticket_event": 10, "rating": 2,
            "dossier": 2, "dossier_event": 2, "office": 1, "officer": 3}


@pytest.fixture(params=["sqlite", "postgresql"])
def old_hub(request, tmp_path):
    """The database address of a hub of the previous release, with a box's pushed log in it."""
    if request.param == "sqlite":
        yield "sqlite:///" + old_database("hub", tmp_path / "hub.db")
        database.close()
        return
    from tests.sync.conftest import drop_schema, postgres_schema

    schema, url = postgres_schema()
    try:
        old_postgres_hub(url, tmp_path)
        yield url
    finally:
        database.close()
        drop_schema(schema)


def test_a_hub_from_the_previous_release_opens_with_its_data(old_hub):
    db = open_hub_database({"database": old_hub})
    assert counts(db, OLD_TABLES) == EXPECTED
    assert applied_migrations(db) == {number for number, _ in MIGRATIONS}
    assert sorted(d.applicant_name for d in Dossier.select()) == ["Nguyễn Văn An", "Trần Thị Bình"]
    box = BoxNode.get()
    assert box.acked_seq == 47 and box.commune == "05518"
    verdict, count = chain_verdict(box.node_id)  # the box's log as the hub holds it, still chained
    assert count == 47 and verdict.reason is None and len(verdict.apply) == 47
    with pytest.raises(Exception, match="append-only"):  # the audit log's new table is append-only too
        db.execute_sql("INSERT INTO audit_entry (at, account, address, action, target, detail) "
                       "VALUES ('2026-01-01 00:00:00', 'a', '', 'signin', '', '')")
        db.execute_sql("DELETE FROM audit_entry")


def test_the_hub_app_starts_on_an_upgraded_database(old_hub, tmp_path):
    app = create_app(hub_settings(tmp_path, old_hub))
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 200


def test_a_second_open_of_an_upgraded_hub_is_a_no_op(old_hub):
    db = open_hub_database({"database": old_hub})
    db.close()
    db = open_hub_database({"database": old_hub})
    assert upgrade(db, HUB_MODELS) == []
    assert db.execute_sql("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)


def test_a_failing_migration_leaves_an_old_hub_as_it_was(old_hub):
    from peewee import CharField

    class Failing:
        NAME = "fails half way"

        @staticmethod
        def up(step):
            step.add_column("box_node", "half_way", CharField(null=True))
            raise RuntimeError("disk full")

    db = open_database(old_hub)
    database.initialize(db)
    with pytest.raises(RuntimeError):
        upgrade(db, HUB_MODELS, migrations=[*MIGRATIONS, (LATEST + 1, Failing)])
    db.close()
    db = open_database(old_hub)
    present = {c[0] for c in db.execute_sql("SELECT * FROM dossier LIMIT 0").description}
    assert "tracking_secret" not in present
    assert "half_way" not in {c[0] for c in db.execute_sql("SELECT * FROM box_node LIMIT 0").description}
    assert applied_migrations(db) == set()
    assert counts(db, OLD_TABLES) == EXPECTED
    db.close()


def test_an_upgraded_sqlite_hub_has_the_schema_of_a_new_one(tmp_path):
    old = old_database("hub", tmp_path / "old.db")
    open_hub_database({"database": old}).close()
    open_hub_database({"database": str(tmp_path / "new.db")}).close()
    assert sqlite_schema(old) == sqlite_schema(str(tmp_path / "new.db"))


@pytest.mark.slow
def test_several_hub_processes_starting_on_an_old_postgresql_hub_migrate_it_once(tmp_path):
    from tests.sync.conftest import drop_schema, postgres_schema

    schema, url = postgres_schema()
    try:
        old_postgres_hub(url, tmp_path)
        # Each loads the code, then all open the database at the same moment, as gunicorn's
        # workers and the huey worker do when a province restarts its hub.
        code = ("import sys, time; from central.app import open_hub_database; "
                "time.sleep(max(0, float(sys.argv[2]) - time.time())); "
                "open_hub_database({'database': sys.argv[1]}).close()")
        start = str(time.time() + 8)
        processes = [subprocess.Popen([sys.executable, "-c", code, url, start], stderr=subprocess.PIPE, text=True)
                     for _ in range(4)]
        errors = [p.communicate(timeout=120)[1] for p in processes]
        assert [p.returncode for p in processes] == [0, 0, 0, 0], errors
        db = bind(open_database(url), HUB_MODELS)
        rows = list(db.execute_sql("SELECT number FROM schema_migrations"))
        assert rows == [(number,) for number, _ in MIGRATIONS]
        assert counts(db, OLD_TABLES) == EXPECTED
    finally:
        database.close()
        drop_schema(schema)


def test_a_not_null_column_added_to_an_old_hub_table_fills_its_rows(old_hub):
    from peewee import BooleanField, IntegerField

    from office.migrations.step import Step

    db = open_hub_database({"database": old_hub})
    with db.atomic():
        step = Step(db, HUB_MODELS)
        assert step.add_column("box_node", "later", IntegerField(default=7))
        assert step.add_column("ticket", "flag", BooleanField(default=False))
        assert not step.add_column("ticket", "flag", BooleanField(default=False))  # already there: skipped
    assert counts(db, OLD_TABLES) == EXPECTED
    assert [row[0] for row in db.execute_sql("SELECT later FROM box_node")] == [7]
    assert {bool(row[0]) for row in db.execute_sql("SELECT flag FROM ticket")} == {False}
