"""Text a replicated row may hold: what every database on the way (SQLite on the box,
PostgreSQL at the hub, the JSON of the change log) stores the same.

No NUL (PostgreSQL refuses it: one such value stalled a commune's replication), no other C0
control character but tab, line feed and carriage return (a text area sends CR LF), no lone
surrogate (not UTF-8), and no more characters than the column holds (PostgreSQL's
``varchar(n)`` refuses more; SQLite would keep it, so the box would take what the hub refuses).
"""
import functools
import re

from peewee import CharField, ForeignKeyField

from office.errors import MotcuaError

MAX_TEXT = 100_000  # characters of a text column without its own limit
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value, limit=MAX_TEXT):
    """Why ``value`` may not be stored (Vietnamese), or None. Non-strings are not text's business."""
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        return "có ký tự NUL (mã 0)"
    control = _CONTROL.search(value)
    if control:
        return f"có ký tự điều khiển không được phép (mã {ord(control.group()):#04x})"
    if _SURROGATE.search(value):
        return "có ký tự Unicode hỏng (nửa cặp thay thế)"
    if len(value) > limit:
        return f"dài {len(value)} ký tự, quá giới hạn {limit}"
    return None


def printable(value, limit=200):
    """``value`` as text safe for a log line, an alert or any database: controls and broken
    Unicode shown as escapes, cut at ``limit`` characters."""
    text = str(value)[:limit]
    text = re.sub("[\x00-\x1f]", lambda m: f"\\x{ord(m.group()):02x}", text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def column_limit(field):
    """The most characters ``field`` holds: its ``max_length`` for a CharField (or a key to one)."""
    if isinstance(field, ForeignKeyField):
        field = field.rel_field
    if isinstance(field, CharField) and field.max_length:
        return field.max_length
    return MAX_TEXT


def row_problems(model, values):
    """[(column, problem)] of the text values (by column name) of a row of ``model``."""
    columns = model._meta.columns
    found = []
    for column, value in values.items():
        field = columns.get(column)
        problem = text_problem(value, column_limit(field) if field is not None else MAX_TEXT)
        if problem:
            found.append((column, problem))
    return found


def check_row(model, values):
    """Raise ``MotcuaError`` (400, Vietnamese) when a text value of the row may not be stored."""
    if may_hold(column_limits(model), values):  # every row saved passes here: the quick test first
        return
    problems = row_problems(model, values)
    if problems:
        column, problem = problems[0]
        raise MotcuaError(f"Nội dung không hợp lệ ở trường “{column}”: {problem}. Hãy sửa lại rồi gửi.",
                          status=400, detail={"reason": "bad_text", "field": column})


_ANY_BAD = re.compile(f"{_CONTROL.pattern}|{_SURROGATE.pattern}")  # NUL is among the controls


@functools.cache
def column_limits(model):
    """{column: the most characters it holds} of ``model`` (for ``may_hold``): worked out once a
    model, shared (not to be changed)."""
    return {column: column_limit(field) for column, field in model._meta.columns.items()}


def may_hold(limits, values):
    """Whether every text value (by column) passes ``text_problem``: one pattern search and one
    length check a value; ``row_problems`` then says why one does not (the hot path of a hub
    taking in thousands of entries)."""
    for column, value in values.items():
        if isinstance(value, str) and (len(value) > limits.get(column, MAX_TEXT) or _ANY_BAD.search(value)):
            return False
    return True
