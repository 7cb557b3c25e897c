"""The one place domain code reads the wall clock (naive UTC)."""
from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def local_clock(tz_name):
    """A function turning naive UTC into the office's naive local wall-clock time."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz_name)
    return lambda utc: utc.replace(tzinfo=timezone.utc).astimezone(zone).replace(tzinfo=None)


_last_text = (None, "")


def datetime_text(value):
    """``value.isoformat(" ")``, as SQLite stores a datetime and the change log encodes one. A ticket
    writes the same moment a dozen times (issued, queued, its event, its print job, their log
    entries): the text of the last datetime asked for is kept, for that same object (held here, so
    no other object can take its address), and made once (2 % of a ticket's instructions; issue 15)."""
    global _last_text
    last = _last_text
    if last[0] is value:
        return last[1]
    text = _format(value)
    _last_text = (value, text)
    return text


def _format(value):
    return value.isoformat(" ")
