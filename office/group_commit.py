"""Group commit: writes that arrive together share one transaction and one fsync.

On the box (SQLite in WAL mode, ``synchronous = full``) a commit waits until the storage
has the write: milliseconds on an SD card, and no other write may start meanwhile. Twenty
kiosks issuing at once each paid for their own commit, one after another, so a ticket cost
a whole fsync of waiting. Here one thread per process runs the queued write functions back
to back in one transaction, each in its own savepoint, taking in those queued while it runs
them, and commits once the queue is empty (or ``max_batch`` ran). Each caller gets
its answer (or its error) only after that commit returned: nothing is acknowledged before
it is on the storage, exactly as before, and a function that fails rolls back alone.

If SQLite ends the whole transaction itself (disk full, I/O error), the function that hit
it gets the error and the others of the batch run again in a new transaction; if the commit
fails, every caller of the batch gets the error (none of their writes is stored).

Functions run with the caller's context variables (Flask's app and request included) on the
writer's own connection; they must be written as transactions: no effect outside the
database that a rerun would repeat. Anywhere else (PostgreSQL, ``:memory:``, a caller already
inside a transaction) ``run`` simply calls the function in the caller's thread.

A function marked ``own_savepoint`` (a ticket) runs without a savepoint at all: if it fails after
writing, the batch's transaction is rolled back and the others run again without it, as when
SQLite ends the transaction. Its savepoint cost SQLite a copy of every page the ticket changed.
"""
import contextvars
import os
import queue
import threading
from concurrent.futures import Future
from contextlib import nullcontext

from peewee import SqliteDatabase

from .db import database


_alone = contextvars.ContextVar("motcua_group_commit_alone", default=False)


def in_a_unit_of_its_own():
    """Whether the function running now, marked ``own_savepoint``, is in a unit of work that is
    rolled back whole if it fails (its batch, or ``run``'s transaction): a savepoint of its own
    (``sync.capture.one_savepoint``) would hold nothing more."""
    return _alone.get()


def _call(alone, fn, args, kwargs):
    token = _alone.set(alone)
    try:
        return fn(*args, **kwargs)
    finally:
        _alone.reset(token)


class _Job:
    __slots__ = ("context", "fn", "args", "kwargs", "future", "value", "error")

    def __init__(self, fn, args, kwargs):
        self.context = contextvars.copy_context()
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.future = Future()
        self.value = self.error = None


class GroupCommit:
    """``run(fn, *args)``: ``fn(*args)`` inside a transaction shared with the other callers of
    the moment; returns its value once the transaction is committed."""

    def __init__(self, max_batch=32, idle_seconds=30.0):
        self.max_batch = max_batch
        self.idle_seconds = idle_seconds
        self._jobs = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread = None
        self._pid = None
        self.batches = self.jobs = 0  # how many commits served how many functions (for benchmarks)

    def run(self, fn, *args, **kwargs):
        if not self._shares_commits():
            with database.atomic():  # a transaction, or a savepoint inside the caller's: its alone
                return _call(_marked(fn), fn, args, kwargs)
        job = _Job(fn, args, kwargs)
        with self._lock:
            self._jobs.put(job)
            if self._thread is None or self._pid != os.getpid():  # none yet, idle-stopped, or forked
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._serve, name="motcua-group-commit", daemon=True)
                self._thread.start()
        return job.future.result()

    @staticmethod
    def _shares_commits():
        db = database.obj
        return (isinstance(db, SqliteDatabase) and db.database != ":memory:"
                and not db.transaction_depth() and threading.current_thread().name != "motcua-group-commit")

    def _serve(self):
        while True:
            try:
                first = self._jobs.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._jobs.empty():  # new callers start a new thread
                        self._thread = None
                        db = database.obj  # None once a process (a test) unbound it meanwhile
                        if db is not None and not db.is_closed():
                            db.close()  # this thread's connection
                        return
                continue
            batch = [first]  # and what is queued, or comes, while it runs (``_growing``)
            try:
                self._commit(batch)
            except BaseException as exc:  # a fault of this loop itself: nobody is left waiting for ever
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)
                if not isinstance(exc, Exception):
                    with self._lock:
                        self._thread = None  # the next caller starts another
                    raise

    def _commit(self, batch):
        while batch:
            lost = None
            try:
                with database.atomic():
                    connection = database.connection()
                    for index, job in enumerate(self._growing(batch)):
                        job.error = None
                        alone = _marked(job.fn)
                        changes = connection.total_changes
                        try:  # a savepoint: a failing function rolls back alone
                            with nullcontext() if alone else database.atomic():
                                job.value = job.context.run(_call, alone, job.fn, job.args, job.kwargs)
                        except Exception as exc:
                            job.error = exc
                            if not connection.in_transaction:  # SQLite ended the transaction
                                job.error, lost = _cause(exc), index
                                raise
                            if alone and connection.total_changes != changes:  # its writes, and no savepoint
                                lost = index
                                raise
            except Exception as exc:
                if lost is None:  # BEGIN or COMMIT failed: no function's writes are stored
                    for job in batch:
                        job.future.set_exception(job.error or exc)
                    return
                batch[lost].future.set_exception(batch[lost].error)
                batch = batch[:lost] + batch[lost + 1:]  # the others run again, in a new transaction
                continue
            self.batches += 1
            self.jobs += len(batch)
            for job in batch:
                if job.error is not None:
                    job.future.set_exception(job.error)
                else:
                    job.future.set_result(job.value)
            return

    def _growing(self, batch):
        """The batch's jobs in order, then those queued while it runs, added to it (``_late``)."""
        index = 0
        while index < len(batch) or self._late(batch):
            yield batch[index]
            index += 1

    def _late(self, batch):
        """Take one more job queued while the batch ran, into its transaction (True), until the
        queue is empty or the batch full: callers who arrive while the writer works wait for its
        one commit, not for a commit of their own after it."""
        if len(batch) >= self.max_batch:
            return False
        try:
            batch.append(self._jobs.get_nowait())
        except queue.Empty:
            return False
        return True


def _marked(fn):
    return getattr(fn, "own_savepoint", False)


def own_savepoint(fn):
    """Mark ``fn`` as writing in a savepoint of its own only (``sync.capture.one_savepoint``; its
    reads may come before) and catching no failure of it: the group commit runs it in no savepoint
    at all, and the function's own opens none (``in_a_unit_of_its_own``). A ticket's SAVEPOINT and
    RELEASE twice were two of its statements; once, SQLite still copied each page it changed."""
    fn.own_savepoint = True
    return fn


def _cause(exc):
    """The error that ended the transaction, under peewee's failed rollbacks to its savepoints."""
    while "no such savepoint" in str(exc) and exc.__context__ is not None:
        exc = exc.__context__
    return exc
