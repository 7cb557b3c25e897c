"""Lock sign-in after repeated failures, per account name and per client address.

Counters live in the database so every web worker sees the same ones."""
from datetime import timedelta

from peewee import IntegrityError

from office.db import database

from .accounts_models import SignInThrottle

WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
LIMITS = {"account": 5, "address": 20}


def keys(name, address):
    return [("account", f"account:{(name or '').strip().lower()}"), ("address", f"address:{address or '-'}")]


def locked_until(name, address, now):
    """The latest moment a lock on this name or address lasts to, or None."""
    rows = SignInThrottle.select().where(SignInThrottle.key.in_([key for _, key in keys(name, address)]))
    ends = [row.locked_until for row in rows if row.locked_until and row.locked_until > now]
    return max(ends) if ends else None


def record_failure(name, address, now):
    for kind, key in keys(name, address):
        with database.atomic():
            row = SignInThrottle.get_or_none(SignInThrottle.key == key)
            if row is None:
                try:
                    with database.atomic():
                        SignInThrottle.create(key=key, failures=0, first_failure_at=now)
                except IntegrityError:  # another worker made it a moment ago
                    pass
                row = SignInThrottle.get(SignInThrottle.key == key)
            if now - row.first_failure_at > WINDOW:
                SignInThrottle.update(failures=0, first_failure_at=now).where(SignInThrottle.id == row.id).execute()
            SignInThrottle.update(failures=SignInThrottle.failures + 1).where(SignInThrottle.id == row.id).execute()
            failures = SignInThrottle.get_by_id(row.id).failures
            if failures >= LIMITS[kind]:
                SignInThrottle.update(locked_until=now + LOCK_FOR, failures=0, first_failure_at=now).where(
                    SignInThrottle.id == row.id).execute()


def clear(name):
    SignInThrottle.delete().where(SignInThrottle.key == keys(name, "")[0][1]).execute()
