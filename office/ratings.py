"""Citizen satisfaction with the officer who served them, one rating per ticket."""
from datetime import timedelta

from .db import database
from .errors import Conflict, MotcuaError, NotFound
from .models import Counter, Rating, Ticket, utcnow

MAX_REASON = 500


def rate(ticket_id, score, reason="", source="screen", now=None):
    now = now or utcnow()
    if score not in Rating.LABELS:
        raise MotcuaError("Mức đánh giá phải là 1, 2 hoặc 3.")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise MotcuaError(f"Ý kiến dài quá {MAX_REASON} ký tự.")
    with database.atomic():
        ticket = Ticket.get_or_none(id=ticket_id)
        if ticket is None:
            raise NotFound("Không tìm thấy số thứ tự để đánh giá.")
        if ticket.state != Ticket.DONE:
            raise Conflict(f"Số {ticket.number} chưa được phục vụ xong.")
        if Rating.get_or_none(Rating.ticket == ticket) is not None:
            raise Conflict(f"Số {ticket.number} đã được đánh giá. Xin cảm ơn!")
        return Rating.create(
            ticket=ticket, officer=ticket.officer_id, counter=ticket.counter_id,
            score=score, reason=reason, source=source, created_at=now,
        )


def awaiting_rating(counter_id, window_seconds, now=None):
    """The ticket just finished at this counter and not yet rated, if recent enough."""
    now = now or utcnow()
    ticket = (
        Ticket.select()
        .where(Ticket.counter == counter_id, Ticket.state == Ticket.DONE)
        .order_by(Ticket.ended_at.desc(), Ticket.id.desc())
        .first()
    )
    if ticket is None or ticket.ended_at < now - timedelta(seconds=window_seconds):
        return None
    if Rating.get_or_none(Rating.ticket == ticket) is not None:
        return None
    return ticket


def rate_at_counter(counter_number, score, window_seconds, source="keypad", now=None, ticket_id=None, reason=""):
    """Rate the ticket this counter finished last, once, within ``window_seconds`` of its end.

    The one way a rating is taken from a screen or a keypad. The rating screen names the
    ticket it showed (``ticket_id``): anything but the counter's ticket awaiting a rating is
    refused. The keypad names none and rates whoever was served there just now, if anyone
    (None when nobody awaits a rating)."""
    now = now or utcnow()
    counter = Counter.get_or_none(Counter.number == counter_number)
    if counter is None:
        raise NotFound(f"Không có quầy số {counter_number}.")
    with database.atomic():
        ticket = awaiting_rating(counter.id, window_seconds, now)
        if ticket_id is None:
            return None if ticket is None else rate(ticket.id, score, reason, source=source, now=now)
        if ticket is None or ticket.id != ticket_id:
            raise Conflict(f"Lượt phục vụ này không còn chờ đánh giá tại {counter.label}. Xin cảm ơn!")
        return rate(ticket.id, score, reason, source=source, now=now)
