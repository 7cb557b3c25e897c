"""Tables of the commune office. Times are naive UTC; the office's local day is a string."""
from datetime import datetime, timezone

from peewee import (
    BooleanField,
    CharField,
    CompositeKey,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .db import BaseModel


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Office(BaseModel):
    """The one office this box serves (a commune or ward people's committee)."""

    commune_code = CharField(unique=True)
    name = CharField()
    province_name = CharField(default="")


class Service(BaseModel):
    code = CharField(unique=True)
    name = CharField()
    prefix = CharField(max_length=3, unique=True)
    sort_order = IntegerField(default=0)
    active = BooleanField(default=True)


class Officer(BaseModel):
    username = CharField(unique=True)
    full_name = CharField()
    password_hash = CharField()
    active = BooleanField(default=True)


class Counter(BaseModel):
    number = IntegerField(unique=True)
    name = CharField(default="")
    officer = ForeignKeyField(Officer, null=True, on_delete="SET NULL")
    signed_in_at = DateTimeField(null=True)

    @property
    def label(self):
        return self.name or f"Quầy số {self.number}"


class CounterService(BaseModel):
    counter = ForeignKeyField(Counter, backref="service_links", on_delete="CASCADE")
    service = ForeignKeyField(Service, on_delete="CASCADE")

    class Meta:
        primary_key = CompositeKey("counter", "service")


class TicketSequence(BaseModel):
    """Last number handed out per prefix and office-local day."""

    day = CharField()
    prefix = CharField(max_length=3)
    last = IntegerField(default=0)

    class Meta:
        primary_key = CompositeKey("day", "prefix")


class Ticket(BaseModel):
    ISSUED, CALLED, SERVING = "issued", "called", "serving"
    DONE, NO_SHOW, CANCELLED = "done", "no_show", "cancelled"
    OPEN_STATES = (ISSUED, CALLED, SERVING)

    day = CharField()
    prefix = CharField(max_length=3)
    seq = IntegerField()
    number = CharField()
    service = ForeignKeyField(Service)
    priority = CharField(null=True)
    state = CharField(default=ISSUED, index=True)
    tracking_code = CharField(unique=True)
    phone = CharField(null=True)
    counter = ForeignKeyField(Counter, null=True, backref="tickets")
    officer = ForeignKeyField(Officer, null=True)
    target_counter = ForeignKeyField(Counter, null=True)
    issued_at = DateTimeField()
    queued_at = DateTimeField()
    called_at = DateTimeField(null=True)
    serving_at = DateTimeField(null=True)
    ended_at = DateTimeField(null=True)
    recalls = IntegerField(default=0)
    transfers = IntegerField(default=0)

    class Meta:
        indexes = ((("day", "prefix", "seq"), True), (("day", "state"), False))

    @property
    def wait_seconds(self):
        return _seconds(self.issued_at, self.called_at)

    @property
    def walk_seconds(self):
        return _seconds(self.called_at, self.serving_at)

    @property
    def service_seconds(self):
        return _seconds(self.serving_at, self.ended_at)


class TicketEvent(BaseModel):
    """Every transition of a ticket, in order: who did what, where, when."""

    ticket = ForeignKeyField(Ticket, backref="events", on_delete="CASCADE")
    action = CharField()
    at = DateTimeField()
    counter = ForeignKeyField(Counter, null=True)
    officer = ForeignKeyField(Officer, null=True)
    detail = CharField(default="")


class Rating(BaseModel):
    VERY_SATISFIED, SATISFIED, DISSATISFIED = 3, 2, 1
    LABELS = {3: "Rất hài lòng", 2: "Hài lòng", 1: "Chưa hài lòng"}

    ticket = ForeignKeyField(Ticket, unique=True, backref="rating")
    officer = ForeignKeyField(Officer, null=True)
    counter = ForeignKeyField(Counter, null=True)
    score = IntegerField()
    reason = TextField(default="")
    source = CharField(default="screen")
    created_at = DateTimeField()

    @property
    def label(self):
        return self.LABELS[self.score]


class PrintJob(BaseModel):
    PENDING, DONE, FAILED = "pending", "done", "failed"

    ticket = ForeignKeyField(Ticket, null=True, on_delete="SET NULL")
    payload = TextField()
    state = CharField(default=PENDING, index=True)
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    created_at = DateTimeField()
    next_attempt_at = DateTimeField()
    printed_at = DateTimeField(null=True)


def _seconds(start, end):
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


MODELS = (
    Office,
    Service,
    Officer,
    Counter,
    CounterService,
    TicketSequence,
    Ticket,
    TicketEvent,
    Rating,
    PrintJob,
)
