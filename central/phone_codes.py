"""A citizen proves a phone number with a one-time code sent by SMS through the hub's outbox.

A code is 6 digits, kept only as an HMAC (the hub's secret key), valid ``citizen_code_minutes``,
ended by ``MAX_TRIES`` wrong tries or by a newer code. Codes asked for are limited per number and
per client address (``LIMITS``), counted for every web worker at once (``motcua.ratelimit``).
The code never goes to a log: the log names the phone masked (09******78).
"""
import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from peewee import CharField, DateTimeField, IntegerField, PostgresqlDatabase

from motcua.logs import mask_phone
from motcua.ratelimit import RateLimiter
from office.clock import utcnow
from office.db import BaseModel, database
from office.errors import MotcuaError

from .outbox import enqueue, normalise_phone

log = logging.getLogger("motcua.hub.citizens")

MAX_TRIES = 5
# (bucket, what it counts, at most, within seconds): a number is texted at most 3 times in 15 minutes
# and 10 times a day; one address (a family's or a café's connection) asks at most 10 / 30 times.
LIMITS = (("citizen-code-phone-15m", "phone", 3, 900), ("citizen-code-phone-day", "phone", 10, 86400),
          ("citizen-code-address-15m", "address", 10, 900), ("citizen-code-address-day", "address", 30, 86400))


class PhoneCode(BaseModel):
    """A one-time code sent to a phone (hub-only)."""

    phone = CharField(index=True)
    code_hash = CharField()
    created_at = DateTimeField()
    expires_at = DateTimeField()
    tries = IntegerField(default=0)
    used_at = DateTimeField(null=True)


def _digest(secret, phone, code):
    return hmac.new(secret.encode() if isinstance(secret, str) else secret, f"{phone}:{code}".encode(),
                    hashlib.sha256).hexdigest()


def _wait_text(seconds):
    minutes = max((seconds + 59) // 60, 1)
    return f"{minutes // 60} giờ {minutes % 60} phút" if minutes >= 60 else f"{minutes} phút"


def send_code(phone, address, secret, minutes, now=None, channel="sms"):
    """Make a code for ``phone`` (0xxxxxxxxx), put its SMS in the outbox; returns the PhoneCode.
    Refused (429) when the number or the address asked too often."""
    now = now or utcnow()
    for bucket, kind, limit, seconds in LIMITS:
        wait = RateLimiter(limit, seconds, bucket=bucket).hit(phone if kind == "phone" else address)
        if wait:
            log.warning("citizen code refused (%s limit) for %s", kind, mask_phone(phone))
            who = "số điện thoại này" if kind == "phone" else "máy của quý khách"
            raise MotcuaError(f"Đã gửi mã cho {who} nhiều lần. Xin thử lại sau {_wait_text(wait)}.", status=429,
                              detail={"retry_after": wait})
    code = f"{secrets.randbelow(10 ** 6):06d}"
    with database.atomic():
        # a newer code ends the ones before it
        PhoneCode.update(used_at=now).where(PhoneCode.phone == phone, PhoneCode.used_at.is_null()).execute()
        row = PhoneCode.create(phone=phone, code_hash=_digest(secret, phone, code), created_at=now,
                               expires_at=now + timedelta(minutes=minutes))
        enqueue(f"citizen-code-{row.id}", channel, normalise_phone(phone),
                f"Ma xac thuc cong dan cua quy khach: {code}. Ma co hieu luc {minutes} phut. "
                "Khong dua ma nay cho bat ky ai.", purpose="citizen_code", now=now)
    log.info("citizen code sent to %s", mask_phone(phone))
    return row


def check_code(phone, typed, secret, now=None):
    """True when ``typed`` is the phone's current code (which is then used up); else a MotcuaError
    saying why: no code, expired, too many tries, wrong (with the tries left)."""
    now = now or utcnow()
    typed = "".join(ch for ch in str(typed or "") if ch.isdigit())
    with database.atomic():
        query = PhoneCode.select().where(PhoneCode.phone == phone, PhoneCode.used_at.is_null())
        if isinstance(database.obj, PostgresqlDatabase):
            query = query.for_update()  # two tries at once count as two
        row = query.order_by(PhoneCode.id.desc()).first()
        if row is None:
            raise MotcuaError("Chưa có mã còn hiệu lực cho số này. Xin bấm “Gửi lại mã”.")
        if now > row.expires_at:
            raise MotcuaError("Mã đã hết hạn. Xin bấm “Gửi lại mã” để nhận mã mới.")
        if row.tries >= MAX_TRIES:
            raise MotcuaError(f"Đã nhập sai {MAX_TRIES} lần. Xin bấm “Gửi lại mã” để nhận mã mới.")
        if len(typed) == 6 and hmac.compare_digest(row.code_hash, _digest(secret, phone, typed)):
            claimed = (PhoneCode.update(used_at=now)
                       .where(PhoneCode.id == row.id, PhoneCode.used_at.is_null()).execute())
            if claimed:
                return True
            raise MotcuaError("Mã này vừa được dùng. Xin bấm “Gửi lại mã”.")
        PhoneCode.update(tries=PhoneCode.tries + 1).where(PhoneCode.id == row.id).execute()
    left = MAX_TRIES - row.tries - 1
    log.info("wrong citizen code for %s (%d tries left)", mask_phone(phone), left)
    if left <= 0:
        raise MotcuaError(f"Mã không đúng. Đã nhập sai {MAX_TRIES} lần: xin bấm “Gửi lại mã” để nhận mã mới.")
    raise MotcuaError(f"Mã không đúng. Quý khách còn {left} lần thử.")
