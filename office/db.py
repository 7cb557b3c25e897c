"""Database handle shared by every model, initialised by the app factories."""
import threading
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
    "cache_size": -2000,  # KiB per connection; there is one connection per thread
}


class WriterQueueSqliteDatabase(SqliteDatabase):
    """SQLite where the threads of one process wait their turn to write on a lock.

    Without it, threads that find the database locked sleep in SQLite's busy handler
    (up to 100 ms a nap) and the last in line waits far longer than the work takes.
    Processes still queue on ``busy_timeout``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._writer = threading.Lock()
        self._holder = threading.local()

    def begin(self, lock_type=None):
        if not getattr(self._holder, "held", False):
            self._writer.acquire()
            self._holder.held = True
        try:
            super().begin(lock_type)
        except BaseException:
            self._release()
            raise

    def commit(self):
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._release()

    def _release(self):
        if getattr(self._holder, "held", False):
            self._holder.held = False
            self._writer.release()


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


def serialize_log_writes():
    """Inside a transaction: make transactions that append to the change log commit in the
    order of their log ids (PostgreSQL; SQLite has a single writer anyway), so a reader
    following the log by id never skips a late commit."""
    if isinstance(database.obj, PostgresqlDatabase):
        database.execute_sql("SELECT pg_advisory_xact_lock(7311)")


def open_database(url):
    """Open a database from a file path, ``sqlite:///path`` or ``postgresql://...``."""
    if url.startswith(("postgresql://", "postgres://")):
        from playhouse.db_url import connect

        return connect(url)
    if url.startswith("sqlite:///"):
        url = url[len("sqlite:///"):]
    if url != ":memory:":
        Path(url).parent.mkdir(parents=True, exist_ok=True)
    return WriterQueueSqliteDatabase(url, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE")


def bind(db, models):
    """Point the shared proxy at ``db`` and create missing tables.

    On PostgreSQL several web and worker processes start at once: one at a time creates (or
    finds) the tables, else two ``CREATE ... IF NOT EXISTS`` race and one fails."""
    database.initialize(db)
    db.connect(reuse_if_open=True)
    with db.atomic():
        if isinstance(db, PostgresqlDatabase):
            db.execute_sql("SELECT pg_advisory_xact_lock(7312)")
        db.create_tables(models, safe=True)
        add_missing_columns(db, models)
    return db


def add_missing_columns(db, models):
    """Add the columns a model gained since its table was made (a box's or hub's existing
    database after an update). Such a column must be nullable or have a default."""
    from playhouse.migrate import SchemaMigrator, migrate

    migrator = None
    for model in models:
        table = model._meta.table_name
        cursor = db.execute_sql(f'SELECT * FROM "{table}" LIMIT 0')
        present = {column[0] for column in cursor.description}
        for field in model._meta.sorted_fields:
            if field.column_name in present:
                continue
            if not field.null and field.default is None:
                raise RuntimeError(f"{table}.{field.column_name} is new: it needs null=True or a default")
            migrator = migrator or SchemaMigrator.from_database(db)
            migrate(migrator.add_column(table, field.column_name, field))
