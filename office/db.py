"""Database handle shared by every model, initialised by the app factories."""
import fcntl
import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from peewee import DatabaseProxy, Model, PostgresqlDatabase, SqliteDatabase, _savepoint

from office.clock import datetime_text
from office.migrations import upgrade


class _DatabaseProxy(DatabaseProxy):
    """peewee's database proxy, with what every statement asks it for defined on it.

    peewee's proxy reaches the database in ``__getattr__``, which Python calls only after the
    ordinary lookup failed: an AttributeError built, its message formatted, and dropped. A ticket
    asked 39 times (``execute_sql`` 17, ``param`` 11...), 4 % of its instructions (issue 15,
    bench/queue_instructions.py). These names go straight to the database; any other still goes
    through ``__getattr__``. Written out rather than made with peewee's ``Proxy.passthrough``, whose
    check and name lookup a call cost 0.5 % of a ticket again."""

    @property
    def param(self):
        return self.obj.param

    def execute_sql(self, *args, **kwargs):
        return self.obj.execute_sql(*args, **kwargs)

    def connection(self):
        return self.obj.connection()

    def transaction_depth(self):
        return self.obj.transaction_depth()

    def in_transaction(self):
        return self.obj.in_transaction()

    def begin(self, *args, **kwargs):
        return self.obj.begin(*args, **kwargs)

    def commit(self):
        return self.obj.commit()

    def rollback(self):
        return self.obj.rollback()

    def push_transaction(self, transaction):
        return self.obj.push_transaction(transaction)

    def pop_transaction(self):
        return self.obj.pop_transaction()

    def top_transaction(self):
        return self.obj.top_transaction()

    def savepoint(self):  # peewee's proxy makes its own; the database's (below) is cheaper on SQLite
        return self.obj.savepoint()


database = _DatabaseProxy()
# the text Python's sqlite3 stores a datetime as (its default adapter), made once for a moment written
# again and again (``datetime_text``)
sqlite3.register_adapter(datetime, datetime_text)

# WAL lets the kiosk read while a counter writes; FULL keeps committed writes on an SD
# card through a power cut; IMMEDIATE makes every transaction take the write lock up
# front, so two writers queue on busy_timeout instead of failing on lock upgrade.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "full",
    "busy_timeout": 15000,
}
# SQLite's page cache, per connection (there is one per thread): the box's database is small and
# the kernel caches its file anyway, while nine connections of the web at SQLite's default of
# 2 MB each held 8 MB more after a busy hour (bench/queue.py, issue 15). The hub's statistics
# read far more pages.
BOX_CACHE_KIB = 512
HUB_CACHE_KIB = 2000
# SQLite keeps the pages a savepoint changes (its statement journal, to roll back to it) in memory
# up to 64 KiB, then spills them into a temp file. A ticket changes about 24 pages (its table's
# eleven indexes, its event, print job and change-log entry): every ticket created, wrote ~100 KB
# into, unlinked and closed a file in /var/tmp, the SD card's file system on a box: the kernel's
# share of the web's CPU under twenty kiosks was 20-23 %, 17-18 % since (a health request's:
# 11-14 %; issue 15).
# In memory on the box; the hub, whose statistics sort far more rows, keeps SQLite's default.
BOX_TEMP_STORE = "memory"
HUB_SQLITE = {"cache_kib": HUB_CACHE_KIB, "temp_store": "default"}  # open_database(url, **HUB_SQLITE)


class WriterQueueSqliteDatabase(SqliteDatabase):
    """SQLite where writers wait their turn on locks that wake them as soon as it is theirs.

    Without them, a writer that finds the database locked sleeps in SQLite's busy handler
    (naps of up to 100 ms) and the last in line waits far longer than the work takes. The
    threads of one process queue on a ``threading.Lock``; the processes of the box (web,
    worker, device service) then on an ``flock`` of ``<database>-writer.lock``, which the
    kernel releases with its holder (a killed process leaves no lock behind). Programs that
    do not take it (the sqlite3 shell) still queue on ``busy_timeout``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._writer = threading.Lock()
        self._holder = threading.local()
        self._lock_file = None if self.database == ":memory:" else f"{self.database}-writer.lock"
        self._lock_fd, self._lock_pid = None, None

    def begin(self, lock_type=None):
        if not getattr(self._holder, "held", False):
            self._writer.acquire()
            try:
                self._flock(fcntl.LOCK_EX)
            except BaseException:
                self._writer.release()
                raise
            self._holder.held = True
        try:
            super().begin(lock_type)
        except BaseException:
            self._release()
            raise

    def savepoint(self):
        return _SqliteSavepoint(self)

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

    def _flock(self, operation):
        if self._lock_file is None:
            return
        if self._lock_pid != os.getpid():  # first use, or a forked child: its own descriptor
            self._lock_fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._lock_pid = os.getpid()
        fcntl.flock(self._lock_fd, operation)

    def _release(self):
        if getattr(self._holder, "held", False):
            self._holder.held = False
            try:
                self._flock(fcntl.LOCK_UN)
            finally:
                self._writer.release()


class _SqliteSavepoint(_savepoint):
    """A savepoint of SQLite under one name, always the same, and off the stack when rolled back.

    peewee names each savepoint anew (``s`` and a random UUID): a SAVEPOINT and a RELEASE SQLite had
    never seen, parsed and planned again on every ticket (58 µs of the writer's CPU a ticket here,
    28 µs under one name), after a read of the system's randomness. SQLite lets names repeat:
    RELEASE and ROLLBACK TO act on the newest savepoint of the name. That is this one only if every
    savepoint opened after it has left the stack, so a rollback releases it too (peewee's stays)."""

    NAME = "motcua_savepoint"

    def __init__(self, db, sid=None):
        super().__init__(db, sid or self.NAME)

    def rollback(self, begin=True):
        self.db.execute_sql(f"ROLLBACK TO SAVEPOINT {self.quoted_sid};")
        self.db.execute_sql(f"RELEASE SAVEPOINT {self.quoted_sid};")
        if begin:
            self._begin()


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


_INSERT_SQL = {}  # (model, columns, param style) -> INSERT statement: built once, not per row


def insert_row(row, values=None):
    """INSERT ``row`` as peewee's ``save(force_insert=True)`` does (the fields it holds, so a
    column it lacks keeps the database's default), from a statement built once per model and
    set of columns: peewee builds each statement anew, ~0.2 ms of a Pi's CPU on the ticket path.
    ``values``: the column values already converted (``field.db_value``), when the caller has them."""
    model = type(row)
    meta = model._meta
    if meta.auto_increment and row._pk is None and not isinstance(database.obj, SqliteDatabase):
        return row.save(force_insert=True)  # the new id needs RETURNING there: peewee does it
    fields = [f for f in meta.sorted_fields if f.name in row.__data__]
    key = (model, tuple(f.column_name for f in fields), database.param)
    sql = _INSERT_SQL.get(key)
    if sql is None:
        names = ", ".join(f'"{c}"' for c in key[1])
        marks = ", ".join([database.param] * len(fields))
        sql = _INSERT_SQL[key] = f'INSERT INTO "{meta.table_name}" ({names}) VALUES ({marks})'
    if values is None:
        params = tuple(f.db_value(row.__data__[f.name]) for f in fields)
    else:
        params = tuple(values[c] for c in key[1])
    cursor = database.execute_sql(sql, params)
    if meta.auto_increment and row._pk is None:
        row._pk = cursor.lastrowid
    row._dirty.clear()
    return 1


def row_instance(model, cursor):
    """The next row of ``cursor`` (a plain statement selecting ``model``'s columns) as peewee's
    select makes it: each value through its field's ``python_value``, nothing dirty; None when no
    row is left. Without the query builder and the cursor wrapper: 0.1 ms less on a Pi, per ticket."""
    row = cursor.fetchone()
    if row is None:
        return None
    columns = model._meta.columns
    fields = [columns[d[0]] for d in cursor.description]
    instance = model(__no_default__=1, **{f.name: f.python_value(v) for f, v in zip(fields, row)})
    instance._dirty.clear()
    return instance


def scalars(*queries):
    """The first value of the first row of each ``(sql, params)`` query (None where it has no row), in
    one statement: the kiosk's answer to a ticket asks four such questions, and each statement of
    its own cost as much again in Python as SQLite's work (issue 15)."""
    sql = "SELECT " + ", ".join(f"({query})" for query, _ in queries)
    return database.execute_sql(sql, tuple(value for _, params in queries for value in params)).fetchone()


@contextmanager
def unsynced_transaction():
    """A transaction whose commit does not wait for the storage (SQLite: ``synchronous = normal`` for
    it alone), for bookkeeping whose loss in a power cut is harmless: WAL keeps the file whole and
    only the latest such commits may be forgotten. The worker's print jobs use it: a forgotten
    "printed" prints a ticket twice after the power comes back, and printing is at least once anyway
    (a killed worker's claimed job is printed again). An fsync holds the box's writer lock, which
    the kiosks' tickets wait for: on an SD card, several milliseconds a commit."""
    toggled = isinstance(database.obj, SqliteDatabase) and not database.in_transaction()  # not inside one
    if toggled:
        database.execute_sql("PRAGMA synchronous = normal")
    try:
        with database.atomic():
            yield
    finally:
        if toggled:
            database.execute_sql(f"PRAGMA synchronous = {SQLITE_PRAGMAS['synchronous']}")


def serialize_log_writes():
    """Inside a transaction: make transactions that append to the change log commit in the
    order of their log ids (PostgreSQL; SQLite has a single writer anyway), so a reader
    following the log by id never skips a late commit."""
    if isinstance(database.obj, PostgresqlDatabase):
        database.execute_sql("SELECT pg_advisory_xact_lock(7311)")


def open_database(url, cache_kib=BOX_CACHE_KIB, temp_store=BOX_TEMP_STORE):
    """Open a database from a file path, ``sqlite:///path`` or ``postgresql://...``; for SQLite,
    ``cache_kib`` and ``temp_store`` are the box's unless the hub gives its own."""
    if url.startswith(("postgresql://", "postgres://")):
        from playhouse.db_url import connect

        return connect(url)
    if url.startswith("sqlite:///"):
        url = url[len("sqlite:///"):]
    if url != ":memory:":
        Path(url).parent.mkdir(parents=True, exist_ok=True)
    pragmas = {**SQLITE_PRAGMAS, "cache_size": -int(cache_kib), "temp_store": temp_store}
    return WriterQueueSqliteDatabase(url, pragmas=pragmas, lock_type="IMMEDIATE")


def bind(db, models):
    """Point the shared proxy at ``db`` and bring its schema to the newest version: a new
    database gets every table, an older one its numbered migrations (``office.migrations``),
    in one transaction; several processes starting at once on PostgreSQL migrate once."""
    database.initialize(db)
    db.connect(reuse_if_open=True)
    upgrade(db, models)
    return db
