"""Database handle shared by every model, initialised by the app factories."""
from pathlib import Path

from peewee import DatabaseProxy, Model, PostgresqlDatabase, SqliteDatabase

database = DatabaseProxy()

# WAL lets the kiosk read while a counter writes; FULL keeps committed writes on an SD
# card through a power cut; IMMEDIATE makes every transaction take the write lock up
# front, so two writers queue on busy_timeout instead of failing on lock upgrade.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "full",
    "busy_timeout": 15000,
    "cache_size": -8000,
}


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


def open_database(url):
    """Open a database from a file path, ``sqlite:///path`` or ``postgresql://...``."""
    if url.startswith(("postgresql://", "postgres://")):
        from playhouse.db_url import connect

        return connect(url)
    if url.startswith("sqlite:///"):
        url = url[len("sqlite:///"):]
    if url != ":memory:":
        Path(url).parent.mkdir(parents=True, exist_ok=True)
    return SqliteDatabase(url, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE")


def bind(db, models):
    """Point the shared proxy at ``db`` and create missing tables."""
    database.initialize(db)
    db.connect(reuse_if_open=True)
    db.create_tables(models, safe=True)
    return db
