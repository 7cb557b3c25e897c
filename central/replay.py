"""Signed box requests are fresh and used once: a wire-tapper cannot send one again.

A request carries its timestamp (the box's estimate of the hub's clock) and a nonce under the
box's signature. The hub refuses one stamped more than the window away from its own clock,
and remembers each (origin, nonce) in the database for twice the window (the longest a
replayed request could still be in time), so a replay is refused on every web worker and
after a restart. A refusal for the clock names the hub's time: the box takes it in and asks
again (a box without RTC boots in 1970).
"""
import re

from peewee import IntegrityError

from office.db import database
from sync.capture import now_ms
from sync.protocol import BatchRejected

from .models import RequestNonce

DEFAULT_WINDOW_MS = 300_000
STALE = ("unstamped", "clock", "replay")  # the reasons of check_fresh: counted, never recorded one by one
NONCE_SHAPE = re.compile(r"[0-9A-Za-z_-]{16,64}")


def check_fresh(origin, at_ms, nonce, window_ms=None, hub_now_ms=None):
    """Refuse (``BatchRejected``: ``clock``, ``replay`` or ``unstamped``) a stale or repeated
    request of ``origin``, whose signature the caller has checked; remember its nonce."""
    hub_now_ms = hub_now_ms if hub_now_ms is not None else now_ms()
    check_stamp(at_ms, nonce, window_ms, hub_now_ms)
    with database.atomic():
        remember_nonce(origin, nonce, window_ms, hub_now_ms)


def check_stamp(at_ms, nonce, window_ms=None, hub_now_ms=None):
    """Refuse (``unstamped`` or ``clock``) a request without a well-formed stamp or outside the window.

    No write: a push remembers its nonce in the transaction that applies it (``remember_nonce``)."""
    window_ms = window_ms or DEFAULT_WINDOW_MS
    hub_now_ms = hub_now_ms if hub_now_ms is not None else now_ms()
    if at_ms is None or not nonce or not NONCE_SHAPE.fullmatch(nonce):
        raise BatchRejected("unstamped", "Yêu cầu không có dấu thời gian và số dùng một lần: phần mềm của hộp "
                            "quá cũ. Hãy cập nhật phần mềm của hộp.", status=426)
    if abs(at_ms - hub_now_ms) > window_ms:
        raise BatchRejected("clock", f"Giờ của yêu cầu lệch {_minutes(at_ms - hub_now_ms)} so với giờ của trung tâm "
                            f"(cho phép {window_ms // 60_000} phút). Hộp lấy giờ của trung tâm từ câu trả lời này "
                            "và gửi lại.", status=401)


def remember_nonce(origin, nonce, window_ms=None, hub_now_ms=None):
    """Inside the caller's transaction: refuse (``replay``) a nonce of ``origin`` seen before, else
    keep it, and forget those too old to be in time. Committed with the caller's work, it is
    remembered exactly when that work is; a concurrent copy waits for that commit (the unique
    index) and is refused then."""
    window_ms = window_ms or DEFAULT_WINDOW_MS
    hub_now_ms = hub_now_ms if hub_now_ms is not None else now_ms()
    try:
        with database.atomic():  # a savepoint: the caller's transaction stays usable on PostgreSQL
            RequestNonce.create(origin=origin[:64], nonce=nonce, seen_ms=hub_now_ms)
    except IntegrityError:
        raise BatchRejected("replay", "Yêu cầu này đã được nhận một lần: không nhận lại (phát lại).",
                            status=409) from None
    RequestNonce.delete().where(RequestNonce.seen_ms < hub_now_ms - 2 * window_ms).execute()


def _minutes(delta_ms):
    minutes = abs(delta_ms) / 60_000
    when = "sớm" if delta_ms < 0 else "muộn"
    if minutes >= 60 * 24 * 2:
        return f"{minutes / 1440:.0f} ngày ({when} hơn)"
    return f"{minutes:.0f} phút ({when} hơn)"
