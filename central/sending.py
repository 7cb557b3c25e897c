"""The outbox's sender: claim a due message, hand it to its gateway, record what happened.

Claiming is one conditional UPDATE (pending -> sending where still pending): of several hub
workers, on SQLite or PostgreSQL, exactly one wins each message. A gateway's answer moves the
message to ``sent``; a transient failure puts it back to ``pending`` with a growing delay
(30 s, 1 min, 2 min, ... at most 1 h); a permanent failure, or too many attempts, marks it
``failed`` and raises an alert, and an operator can send it again.

A worker killed mid-send leaves its message in ``sending``. Once the lease has passed it goes
back to ``pending`` and is sent again **with the same request id** (``channels.request_id``):
the eSMS brandname gateway refuses a RequestId it already took (code 124), so the citizen
gets one SMS; Zalo ZNS keeps tracking_id for reports but does not document deduplicating by
it, and e-mail only gets the same Message-ID: on those two a resend after a crash mid-send
may arrive twice. A message in ``sent`` is never sent again.
"""
import logging
from datetime import timedelta

from office.clock import utcnow

from .channels import Permanent, Retryable, adapter
from .models import Alert
from .outbox import Outbox

log = logging.getLogger("motcua.hub.sending")

FIRST_DELAY_S, MAX_DELAY_S = 30, 3600


def backoff(attempts):
    """Delay before the next try after ``attempts`` failed ones (1 -> 30 s, doubling, capped)."""
    return timedelta(seconds=min(FIRST_DELAY_S * 2 ** max(attempts - 1, 0), MAX_DELAY_S))


def release_stale(lease_seconds, now=None):
    """Messages claimed longer ago than the lease (their worker died) become pending again."""
    now = now or utcnow()
    released = (Outbox.update(state=Outbox.PENDING, next_at=now)
                .where(Outbox.state == Outbox.SENDING, Outbox.claimed_at < now - timedelta(seconds=lease_seconds))
                .execute())
    if released:
        log.warning("%d tin bị bỏ dở khi đang gửi; gửi lại với cùng mã yêu cầu", released)
    return released


def claim(message_id, now):
    """Take one due message for sending; True for exactly one caller."""
    return (Outbox.update(state=Outbox.SENDING, claimed_at=now)
            .where(Outbox.id == message_id, Outbox.state == Outbox.PENDING, Outbox.next_at <= now)
            .execute()) == 1


def send_due(settings, now=None, limit=100):
    """Send up to ``limit`` due messages; returns counts {sent, retry, failed}."""
    release_stale(settings["notify_lease_seconds"], now)
    counts = {"sent": 0, "retry": 0, "failed": 0}
    handled = 0
    while handled < limit:
        current = now or utcnow()
        due = list(Outbox.select(Outbox.id).where(Outbox.state == Outbox.PENDING, Outbox.next_at <= current)
                   .order_by(Outbox.next_at, Outbox.id).limit(min(limit - handled, 20)).tuples())
        if not due:
            break
        for (message_id,) in due:
            current = now or utcnow()
            if not claim(message_id, current):
                continue  # another worker has it
            handled += 1
            counts[deliver(Outbox.get_by_id(message_id), settings, now)] += 1
    return counts


def deliver(message, settings, now=None):
    """Send one claimed message and record the outcome: "sent", "retry" or "failed"."""
    try:
        ref = adapter(message.channel)(message, settings)
    except Retryable as exc:
        return _failed_attempt(message, settings, exc.message, permanent=False, now=now)
    except Permanent as exc:
        return _failed_attempt(message, settings, exc.message, permanent=True, now=now)
    except Exception:  # a fault of ours: keep the message, say what happened
        log.exception("gửi tin %s lỗi", message.id)
        return _failed_attempt(message, settings, "Lỗi không mong đợi khi gửi tin (chi tiết trong nhật ký của "
                               "trung tâm); sẽ tự thử lại.", permanent=False, now=now)
    _finish(message, state=Outbox.SENT, sent_at=now or utcnow(), provider_ref=str(ref)[:255],
            attempts=message.attempts + 1)
    return "sent"


def _failed_attempt(message, settings, error, permanent, now):
    now = now or utcnow()
    attempts = message.attempts + 1
    if permanent or attempts >= settings["notify_max_attempts"]:
        _finish(message, state=Outbox.FAILED, attempts=attempts, last_error=error)
        why = "bị từ chối" if permanent else f"không gửi được sau {attempts} lần"
        Alert.create(at=now, kind="notify_failed", origin=message.commune or "hub",
                     message=f"Tin {message.channel} tới {mask(message.recipient)} ({message.purpose or 'khác'}) "
                             f"{why}: {error}")
        log.warning("tin %s thất bại: %s", message.id, error)
        return "failed"
    _finish(message, state=Outbox.PENDING, attempts=attempts, last_error=error, next_at=now + backoff(attempts))
    return "retry"


def _finish(message, **values):
    # only while it is still our claim: a message whose lease ran out may be in other hands
    Outbox.update(**values).where(Outbox.id == message.id, Outbox.state == Outbox.SENDING,
                                  Outbox.claimed_at == message.claimed_at).execute()


def retry_now(message_id, now=None):
    """An operator's "send again" on a failed message: True if it was failed and is queued now."""
    return (Outbox.update(state=Outbox.PENDING, attempts=0, next_at=now or utcnow())
            .where(Outbox.id == message_id, Outbox.state == Outbox.FAILED).execute()) == 1


def mask(recipient):
    """84912***678 / an***@example.vn: enough for an operator to tell messages apart."""
    if "@" in recipient:
        name, _, domain = recipient.partition("@")
        return f"{name[:2]}***@{domain}"
    return recipient[:5] + "***" + recipient[-3:] if len(recipient) > 8 else "***"
