"""The quiet time in which a box may switch to a new release (setting ``update_window``).

``"12:00-13:00"`` (the lunch break), ``"17:30-06:30"`` (after closing, across midnight), several
separated by commas, or ``"always"``; times are the office's (setting ``timezone``).
"""
import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from office.errors import MotcuaError

SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_window(text):
    """A list of (start, end) times; ``None`` for "always"."""
    text = (text or "").strip().lower()
    if text in ("always", "*", "luôn"):
        return None
    spans = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = SPAN.match(part)
        if not match:
            raise MotcuaError(f"Khung giờ cập nhật không hợp lệ: “{part}” (cần dạng 12:00-13:00).")
        h1, m1, h2, m2 = map(int, match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise MotcuaError(f"Khung giờ cập nhật không hợp lệ: “{part}”.")
        spans.append((time(h1, m1), time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)))
    if not spans:
        raise MotcuaError("Chưa đặt khung giờ cập nhật (update_window).")
    return spans


def in_window(text, timezone, now=None):
    """Whether ``now`` (aware datetime; default the current time) is inside the window ``text``."""
    spans = parse_window(text)
    if spans is None:
        return True
    moment = (now or datetime.now(ZoneInfo(timezone))).astimezone(ZoneInfo(timezone)).time()
    for start, end in spans:
        if start <= end and start <= moment < end:
            return True
        if start > end and (moment >= start or moment < end):  # across midnight
            return True
    return False
