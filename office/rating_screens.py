"""Rating screens paired with their counter: only the tablet at counter N may rate counter N.

An officer seated at the counter (or the technician) pairs the tablet once; the tablet keeps a
random token in a long-lived cookie, the box keeps its hash, one screen per counter: pairing
the counter again retires the old screen. Local to the box (not replicated).
"""
import hashlib
import secrets

from peewee import CharField, DateTimeField, IntegerField

from .clock import utcnow
from .db import BaseModel, database
from .errors import MotcuaError


class RatingScreen(BaseModel):
    counter_number = IntegerField(primary_key=True)
    token_hash = CharField(unique=True)
    paired_at = DateTimeField()
    paired_by = CharField(default="")  # the officer's username, or "technician"


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def pair(counter_number, paired_by, now=None):
    """Pair a new screen with this counter, retiring the one paired before; returns its token."""
    token = secrets.token_urlsafe(32)
    with database.atomic():
        RatingScreen.delete().where(RatingScreen.counter_number == counter_number).execute()
        RatingScreen.create(counter_number=counter_number, token_hash=_hash(token), paired_at=now or utcnow(),
                            paired_by=paired_by)
    return token


def paired_counter(token):
    """The number of the counter the screen with this token is paired with, or None."""
    if not isinstance(token, str) or not token:
        return None
    screen = RatingScreen.get_or_none(RatingScreen.token_hash == _hash(token))
    return screen.counter_number if screen else None


def require_paired(token, counter_number):
    """Refuse a rating for ``counter_number`` from anything but the screen paired with it."""
    if counter_number is None or paired_counter(token) != counter_number:
        raise MotcuaError(f"Màn hình này chưa được ghép với quầy {counter_number}, nên không nhận đánh giá. "
                          "Cán bộ của quầy (hoặc kỹ thuật viên) cần ghép màn hình trước.", status=403)


def unpair(counter_number):
    return RatingScreen.delete().where(RatingScreen.counter_number == counter_number).execute()


def paired_screens():
    return list(RatingScreen.select().order_by(RatingScreen.counter_number))
