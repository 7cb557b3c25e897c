"""Counting what one client does within a sliding window, in the database: every web process
and worker of a box or hub sees the same counts (sign-in failures, tracking lookups, texts).

Keys (an address, a username, a phone) are kept hashed: the table holds no personal data.
Rows older than their bucket's window are deleted whenever that bucket records a hit.
"""
import hashlib
import math

from peewee import CharField, DoubleField, PostgresqlDatabase

from .db import BaseModel, database


class Hit(BaseModel):
    bucket = CharField()  # what is counted, e.g. "officer-signin" or "tracking"
    key = CharField()  # sha256 of the client's key
    at = DoubleField()  # Unix time (DOUBLE PRECISION: PostgreSQL's REAL keeps ~7 digits, minutes at today's epoch)

    class Meta:
        indexes = ((("bucket", "key", "at"), False), (("bucket", "at"), False))


def _digest(key):
    return hashlib.sha256(str(key).encode()).hexdigest()


class Window:
    """At most ``limit`` hits per key of ``bucket`` within ``seconds``."""

    def __init__(self, bucket, limit, seconds):
        self.bucket, self.limit, self.seconds = bucket, limit, seconds

    def _recent(self, key, now):
        return (Hit.select(Hit.at).where(Hit.bucket == self.bucket, Hit.key == _digest(key),
                                         Hit.at > now - self.seconds)
                .order_by(Hit.at.desc()).limit(self.limit))

    def retry_after(self, key, now):
        """Seconds until ``key`` may act again (0: now)."""
        times = [row.at for row in self._recent(key, now)]
        if len(times) < self.limit:
            return 0
        return max(math.ceil(times[-1] + self.seconds - now), 1)

    def record(self, key, now):
        with database.atomic():
            self._lock(key)
            Hit.delete().where(Hit.bucket == self.bucket, Hit.at <= now - self.seconds).execute()
            Hit.create(bucket=self.bucket, key=_digest(key), at=now)

    def hit(self, key, now):
        """Count one request of ``key`` if allowed: 0, else the seconds to wait (nothing counted)."""
        with database.atomic():
            self._lock(key)
            wait = self.retry_after(key, now)
            if not wait:
                self.record(key, now)
            return wait

    def clear(self, key):
        Hit.delete().where(Hit.bucket == self.bucket, Hit.key == _digest(key)).execute()

    def _lock(self, key):
        """PostgreSQL: one transaction at a time per key (SQLite has a single writer anyway)."""
        if isinstance(database.obj, PostgresqlDatabase):
            database.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{self.bucket}:{_digest(key)}",))
