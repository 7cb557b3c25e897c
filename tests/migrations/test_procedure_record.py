"""Migration 3: procedures gain ``details``; a box that had the catalog before pulls it again."""
import sqlite3

from office.db import bind, database, open_database
from office.models import MODELS, Procedure
from sync.models import SyncNode

from .support import old_database


def test_box_with_a_catalog_gains_details_and_pulls_the_catalog_again(tmp_path):
    path = old_database("box", tmp_path / "edge.db")
    connection = sqlite3.connect(path)
    connection.execute("UPDATE sync_node SET pull_cursor = 4242")
    connection.commit()
    columns = {row[1] for row in connection.execute("PRAGMA table_info(procedure)")}
    connection.close()
    assert "details" not in columns
    try:
        bind(open_database(path), MODELS)
        assert SyncNode.get().pull_cursor == 0
        assert all(p.details == "{}" for p in Procedure.select())
        assert Procedure.select().count() == 0 or Procedure.select().first().levels()
    finally:
        database.close()


def test_a_new_box_starts_with_details_and_its_cursor_untouched(tmp_path):
    db = bind(open_database(str(tmp_path / "edge.db")), MODELS)
    try:
        assert "details" in {c.name for c in db.get_columns("procedure")}
    finally:
        database.close()
