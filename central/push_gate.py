"""How many box pushes the hub takes in at once; the others are asked to come back later.

When a province's network comes back after an outage, every box pushes its backlog at the same
moment. The hub applies batches one at a time anyway (``office.db.serialize_log_writes``), so
more pushes at once only hold web threads and database connections while they queue, and a
citizen's tracking page or an operator's statistics wait behind them. A push beyond the limit
is answered at once with 503 and ``Retry-After`` (the box waits and sends again, see
``sync.box.push``). A slot is held while the batch is verified and applied, not while its body
comes in.

Two limits, both from ``push_concurrency``:
- per web process, a semaphore of at most ``web_threads - 2`` slots, so people always find a
  free thread in every process;
- across the hub's processes on PostgreSQL, one session advisory lock per slot (keyed by the hub's
  schema), taken on the request's own connection and released when the push ends (PostgreSQL
  releases it too when the process dies: no slot outlives its holder). On SQLite the hub is one process's business.
"""
import contextlib
import random
import threading

from peewee import PostgresqlDatabase

from office.db import database

# The first key of the slots' advisory locks: advisory locks are the whole database's, so two hubs
# in one PostgreSQL database (a schema each) took each other's slots and sent each other's boxes
# away for as long as the other was busy. The hub's schema names its own.
SLOT_KEY = "hashtext('motcua push slots ' || coalesce(current_schema(), ''))"
PEOPLE_THREADS = 2  # threads of each web process pushes never take


class PushGate:
    def __init__(self, limit, web_threads, retry_seconds):
        self.limit = max(int(limit), 0)  # 0: no limit
        local = max(min(self.limit, int(web_threads) - PEOPLE_THREADS), 1)
        self.local = threading.BoundedSemaphore(local)
        self.retry_seconds = max(int(retry_seconds), 1)

    @classmethod
    def from_settings(cls, settings):
        return cls(settings.get("push_concurrency", 0), settings.get("web_threads", 8),
                   settings.get("push_retry_seconds", 10))

    def retry_after(self):
        """Seconds a refused box waits: spread over [n, 2n] so refused boxes do not come back together."""
        return random.randint(self.retry_seconds, 2 * self.retry_seconds)

    @contextlib.contextmanager
    def admit(self):
        """Yields True when this push may go on now, False when the hub is full."""
        if not self.limit:
            yield True
            return
        if not self.local.acquire(blocking=False):
            yield False
            return
        slot = None
        try:
            slot = self._global_slot()
            yield slot is not None
        finally:
            try:
                if slot is not None:  # slot 0 too (``0 in (None, False)``: it was never given back)
                    self._release(slot)
            finally:
                self.local.release()

    def _global_slot(self):
        """The advisory lock taken (its slot number), True on SQLite, None when all are held."""
        if not isinstance(database.obj, PostgresqlDatabase):
            return True
        first = random.randrange(self.limit)  # not everyone tries slot 0 first
        for i in range(self.limit):
            slot = (first + i) % self.limit
            if database.execute_sql(f"SELECT pg_try_advisory_lock({SLOT_KEY}, %s)", (slot,)).fetchone()[0]:
                return slot
        return None

    def _release(self, slot):
        if slot is True:
            return
        database.execute_sql(f"SELECT pg_advisory_unlock({SLOT_KEY}, %s)", (slot,))
