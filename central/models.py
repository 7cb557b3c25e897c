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


HUB_ONLY_MODELS = (BoxNode, Rejection, Alert, HeldEntry)
