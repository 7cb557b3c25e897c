"""The one place domain code reads the wall clock (naive UTC)."""
from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)
