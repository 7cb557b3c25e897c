"""The hub's tables for software releases: what was published to whom, and what each box runs."""
from peewee import CharField, DateTimeField, IntegerField, TextField

from office.db import BaseModel


class Release(BaseModel):
    """A published release: its signed manifest and the communes (or waves) it is meant for."""

    version = CharField(unique=True)
    manifest = TextField()  # canonical JSON, exactly the bytes signed
    signature = TextField()
    published_at = DateTimeField()
    published_by = CharField(default="")
    communes = TextField(default="")  # GSO codes, comma-separated
    wave = IntegerField(null=True)  # every commune in waves 1..wave


class ReleaseWave(BaseModel):
    """The rollout wave of a commune (1: the pilot)."""

    commune = CharField(unique=True)
    wave = IntegerField()


class BoxSoftware(BaseModel):
    """What a box said at its last hello: the version it runs and where its last rollout stands."""

    node_id = CharField(unique=True)
    version = CharField(default="")
    rollout_version = CharField(default="")
    state = CharField(default="")
    reason = TextField(default="")
    state_at = CharField(default="")  # the box's time of the state (ISO)
    reported_at = DateTimeField()


RELEASE_MODELS = (Release, ReleaseWave, BoxSoftware)
