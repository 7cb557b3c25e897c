"""The hub's one outbox: every message to a citizen, handler or leader, on every channel.

A message is keyed by (event, channel, recipient): enqueuing it again does nothing, so a
notice that arrives twice, a reminder slot looked at twice, or a gateway that re-posts an
inbound text never sends twice.
"""
import json
import re

from peewee import CharField, DateTimeField, IntegerField, TextField

from office.clock import utcnow
from office.db import BaseModel

SECRET_PURPOSES = {"citizen_code"}  # messages whose text operators never see whole
CHANNELS = {"sms": "SMS", "zalo": "Zalo ZNS", "email": "Thư điện tử", "log": "Nhật ký (thử)"}


class Outbox(BaseModel):
    PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"

    key = CharField(unique=True)  # "{event}|{channel}|{recipient}"
    channel = CharField()
    recipient = CharField()  # 84xxxxxxxxx for sms/zalo, an address for email
    purpose = CharField(default="")  # notice kind, "reminder", "sms_reply"
    commune = CharField(default="", index=True)
    subject = CharField(default="")
    text = TextField()
    template = CharField(default="")  # Zalo ZNS template id
    fields = TextField(default="{}")  # named template fields
    state = CharField(default=PENDING)
    attempts = IntegerField(default=0)
    next_at = DateTimeField()
    claimed_at = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    provider_ref = CharField(default="")  # the gateway's message id
    last_error = TextField(default="")
    created_at = DateTimeField()

    class Meta:
        indexes = ((("state", "next_at"), False),)

    @property
    def values(self):
        return json.loads(self.fields)

    @property
    def shown_text(self):
        """The text as operators see it: a citizen's one-time code is hidden."""
        return re.sub(r"\d{6}", "******", self.text) if self.purpose in SECRET_PURPOSES else self.text


def message_key(event, channel, recipient):
    return f"{event}|{channel}|{recipient}"


def enqueue(event, channel, recipient, text, *, purpose="", commune="", subject="", template="",
            fields=None, now=None):
    """Add a message unless (event, channel, recipient) is already there; True when added."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    now = now or utcnow()
    inserted = (Outbox.insert(key=message_key(event, channel, recipient), channel=channel, recipient=recipient,
                              purpose=purpose, commune=commune, subject=subject, text=text, template=template,
                              fields=json.dumps(fields or {}, ensure_ascii=False, sort_keys=True),
                              next_at=now, created_at=now)
                .on_conflict_ignore().as_rowcount().execute())  # SQLite's last row id survives an ignore
    return bool(inserted)


def normalise_phone(phone):
    """Digits in the form SMS brandname and Zalo gateways want: 84xxxxxxxxx; None if it is no mobile number."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if digits.startswith("84") and len(digits) == 11:
        return digits
    if digits.startswith("0") and len(digits) == 10:
        return "84" + digits[1:]
    if len(digits) == 9 and digits[0] in "35789":
        return "84" + digits
    return None
