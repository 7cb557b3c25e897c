"""The hub's own tables: the boxes it knows, what it refused, the conflicts it kept."""
from peewee import BigIntegerField, BooleanField, CharField, DateTimeField, IntegerField, TextField

from office.db import BaseModel


class BoxNode(BaseModel):
    """A box registered for a commune, with where its replication stands."""

    ACTIVE, REVOKED, QUARANTINED = "active", "revoked", "quarantined"

    node_id = CharField(unique=True)
    commune = CharField(index=True)
    public_key = TextField()
    status = CharField(default=ACTIVE)
    status_reason = TextField(default="")
    registered_at = DateTimeField()
    last_seen_at = DateTimeField(null=True)
    acked_seq = IntegerField(default=0)
    last_hash = CharField(default="")
    pending_estimate = IntegerField(default=0)  # what the box said it still holds
    clock_offset_ms = BigIntegerField(null=True)  # box clock minus hub clock, at the last push
    pull_cursor = BigIntegerField(default=0)


class Rejection(BaseModel):
    """A batch, or part of one, the hub refused, and why."""

    at = DateTimeField(index=True)
    origin = CharField(index=True)
    reason = CharField()
    message = TextField()


class Alert(BaseModel):
    at = DateTimeField(index=True)
    kind = CharField()
    origin = CharField()
    message = TextField()
    acknowledged = BooleanField(default=False)


class HeldEntry(BaseModel):
    """An entry accepted in its chain but not applied (e.g. stamped in the future)."""

    origin = CharField()
    seq = IntegerField()
    reason = CharField()
    entry = TextField()
    held_at = DateTimeField()

    class Meta:
        indexes = ((("origin", "seq"), True),)


class RequestNonce(BaseModel):
    """The nonce of a signed box request, kept while a replay of it could still be in time."""

    origin = CharField(max_length=64)
    nonce = CharField(max_length=64)
    seen_ms = BigIntegerField(index=True)  # hub clock

    class Meta:
        indexes = ((("origin", "nonce"), True),)


class RefusalCount(BaseModel):
    """Refused requests that proved nothing (no valid signature), counted per origin and reason:
    one row each, whatever an attacker sends."""

    origin = CharField(max_length=64)  # "?" for names the hub does not know
    reason = CharField(max_length=32)
    count = IntegerField(default=0)
    first_at = DateTimeField()
    last_at = DateTimeField()
    last_message = CharField(max_length=200, default="")

    class Meta:
        indexes = ((("origin", "reason"), True),)


class EnrolToken(BaseModel):
    """The one-time token of a provisioning bundle (only its sha256 is kept)."""

    bundle_id = CharField(unique=True)
    commune = CharField(index=True)
    token_hash = CharField(unique=True)
    created_at = DateTimeField()
    expires_at = DateTimeField()
    consumed_at = DateTimeField(null=True)
    consumed_by = CharField(default="")  # node id of the box that enrolled with it


class Enrolment(BaseModel):
    """Every enrolment attempt of a box with a bundle's token: taken or refused, and why."""

    at = DateTimeField(index=True)
    commune = CharField(default="")
    bundle_id = CharField(default="")
    node_id = CharField(default="")
    outcome = CharField()  # enrolled, refused
    message = TextField(default="")
    replaced = TextField(default="")  # node ids revoked by this enrolment, comma-separated
    address = CharField(default="")


from .outbox import Outbox  # noqa: E402  (the outbox is a hub-only table too)
from .dispatch import LogCursor  # noqa: E402
from .reminder_models import Contact, ReminderRule  # noqa: E402

HUB_ONLY_MODELS = (BoxNode, Rejection, Alert, HeldEntry, EnrolToken, Enrolment, Outbox, LogCursor, Contact,
                   ReminderRule, RequestNonce, RefusalCount)

