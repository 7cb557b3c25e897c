"""The replication tables every node keeps: its identity and clock, and its change log."""
from peewee import BigIntegerField, CharField, DateTimeField, IntegerField, TextField

from office.db import BaseModel


class SyncNode(BaseModel):
    """This node (one row): who it is, its clock, and where its replication stands."""

    node_id = CharField(unique=True)
    scope = CharField()  # the commune code of a box; "*" for the hub
    clock = BigIntegerField(default=0)  # last HLC stamp issued or observed
    last_seq = IntegerField(default=0)  # own change log: last entry's seq and hash
    last_hash = CharField(default="")
    hub_url = CharField(default="")
    hub_key = TextField(default="")  # the hub's public key, pinned
    acked_seq = IntegerField(default=0)  # highest own seq the hub confirmed
    pull_cursor = BigIntegerField(default=0)
    hub_offset_ms = BigIntegerField(null=True)  # hub time minus ours, at the last exchange
    last_success_at = DateTimeField(null=True)
    last_error = TextField(default="")
    last_error_at = DateTimeField(null=True)
    failures = IntegerField(default=0)
    # last, as migration 2 appends them to older databases:
    pruned_seq = IntegerField(default=0)  # own log entries up to this seq were deleted (confirmed, old) ...
    pruned_hash = CharField(default="")  # ... and this was the hash of the last one: the chain's anchor


class ChangeEntry(BaseModel):
    """One replicated write, in the same transaction as the write itself: the outbox."""

    origin = CharField()
    seq = IntegerField()
    hlc = BigIntegerField()
    table = CharField()
    pk = CharField()
    op = CharField()
    scope = CharField()
    data = TextField()  # canonical JSON of the written fields
    base = TextField(default="")  # shared tables: canonical JSON {field: stamp the writer saw}
    prev = CharField()
    hash = CharField()
    created_at = DateTimeField()

    class Meta:
        indexes = ((("origin", "seq"), True),
                   (("scope", "id"), False))  # a box's pull reads its commune's part of the hub's log


class FieldClock(BaseModel):
    """Stamp and writer of each field of shared rows, for last-writer-wins."""

    table = CharField()
    pk = CharField()
    field = CharField()
    hlc = BigIntegerField()
    node = CharField()

    class Meta:
        indexes = ((("table", "pk", "field"), True),)


class FieldWrite(BaseModel):
    """Every write ever made to a field of a shared row (the merge's memory at the hub)."""

    table = CharField()
    pk = CharField()
    field = CharField()
    hlc = BigIntegerField()
    origin = CharField()
    base = BigIntegerField()
    value = TextField()
    scope = CharField()

    class Meta:
        indexes = ((("table", "pk", "field", "hlc", "origin"), True),)


class Conflict(BaseModel):
    """A value overwritten by a concurrent edit, kept for a person to look at."""

    table = CharField()
    pk = CharField()
    field = CharField()
    scope = CharField(index=True)
    loser_value = TextField()
    loser_hlc = BigIntegerField()
    loser_origin = CharField()
    winner_value = TextField()
    winner_hlc = BigIntegerField()
    winner_origin = CharField()
    recorded_at = DateTimeField()

    class Meta:
        indexes = ((("table", "pk", "field", "loser_hlc", "loser_origin"), True),)


class CatalogVersion(BaseModel):
    """One row: moves in the transaction that takes in rows of the catalog (procedures, search
    synonyms) from elsewhere (``sync.apply``). A process keeping an index of the catalog rebuilds
    it when this moves; the pull cursor moves at nearly every pull (the hub skips it past other
    communes' entries), so it cannot tell."""

    version = BigIntegerField(default=0)


SYNC_MODELS = (SyncNode, ChangeEntry, FieldClock, FieldWrite, Conflict, CatalogVersion)
