"""The one place domain code reads the wall clock (naive UTC)."""
from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def local_clock(tz_name):
    """A function turning naive UTC into the office's naive local wall-clock time."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz_name)
    return lambda utc: utc.replace(tzinfo=timezone.utc).astimezone(zone).replace(tzinfo=None)
