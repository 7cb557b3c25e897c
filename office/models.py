"""Tables of the commune office. Times are naive UTC; the office's local day is a string.

Replicated tables derive from ``ReplicatedModel``: text ids ordered by time, a ``commune``
column (the row's scope), and every write captured in the change log. Unique keys include
the commune, because the hub holds the rows of all its communes.
"""
from peewee import (
    BooleanField,
    CharField,
    CompositeKey,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from sync.capture import ReplicatedModel
from sync.models import SYNC_MODELS
from sync.policy import APPEND, HUB, SHARED

from .clock import utcnow  # noqa: F401  (re-exported for callers)
from .db import BaseModel


class Office(ReplicatedModel):
    """The office a box serves (a commune or ward people's committee); one per commune."""

    name = CharField()
    province_name = CharField(default="")
    agency_code = CharField(default="")  # electronic id of the agency: prefix of dossier codes

    class Meta:
        indexes = ((("commune",), True),)


class Service(ReplicatedModel):
    code = CharField()
    name = CharField()
    prefix = CharField(max_length=3)
    sort_order = IntegerField(default=0)
    active = BooleanField(default=True)

    class Meta:
        indexes = ((("commune", "code"), True), (("commune", "prefix"), True))


class Officer(ReplicatedModel):
    username = CharField()
    full_name = CharField()
    password_hash = CharField()
    active = BooleanField(default=True)

    class Meta:
        indexes = ((("commune", "username"), True),)


class Counter(ReplicatedModel):
    number = IntegerField()
    name = CharField(default="")
    officer = ForeignKeyField(Officer, null=True, on_delete="SET NULL")
    signed_in_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("commune", "number"), True),)

    @property
    def label(self):
        return self.name or f"Quầy số {self.number}"


class CounterService(ReplicatedModel):
    counter = ForeignKeyField(Counter, backref="service_links", on_delete="CASCADE")
    service = ForeignKeyField(Service, on_delete="CASCADE")

    class Meta:
        indexes = ((("counter", "service"), True),)


class TicketSequence(BaseModel):
    """Last number handed out per prefix and office-local day (local to the box)."""

    day = CharField()
    prefix = CharField(max_length=3)
    last = IntegerField(default=0)

    class Meta:
        primary_key = CompositeKey("day", "prefix")


class Ticket(ReplicatedModel):
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
    tracking_code = CharField(unique=True)  # random, unique across communes
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
    booking = CharField(default="")  # id of the online booking it was issued for (office.bookings)
    booked_for = DateTimeField(null=True)  # the booking's slot start: called ahead of walk-ins from then

    class Meta:
        indexes = ((("commune", "day", "prefix", "seq"), True),
                   (("day", "state", "service", "queued_at"), False),  # the people ahead (office.board)
                   (("service", "state", "ended_at"), False))  # the service's last finished tickets

    @property
    def wait_seconds(self):
        return _seconds(self.issued_at, self.called_at)

    @property
    def walk_seconds(self):
        return _seconds(self.called_at, self.serving_at)

    @property
    def service_seconds(self):
        return _seconds(self.serving_at, self.ended_at)


class TicketEvent(ReplicatedModel):
    """Every transition of a ticket after its issue (the ticket's own row), in order: who did what,
    where, when. Earlier versions also wrote an "issue" event; theirs are kept and merged as before."""

    replication = APPEND

    ticket = ForeignKeyField(Ticket, backref="events", on_delete="CASCADE")
    action = CharField()
    at = DateTimeField()
    counter = ForeignKeyField(Counter, null=True)
    officer = ForeignKeyField(Officer, null=True)
    detail = CharField(default="")


class Rating(ReplicatedModel):
    VERY_SATISFIED, SATISFIED, DISSATISFIED = 3, 2, 1
    LABELS = {3: "Rất hài lòng", 2: "Hài lòng", 1: "Chưa hài lòng"}
    replication = APPEND

    ticket = ForeignKeyField(Ticket, unique=True, backref="rating")
    officer = ForeignKeyField(Officer, null=True)
    counter = ForeignKeyField(Counter, null=True)
    score = IntegerField()
    reason = TextField(default="")
    source = CharField(default="screen")
    created_at = DateTimeField()

    class Meta:
        # the satisfaction statistics (office.stats_queue) read ratings by period, all or one commune
        indexes = ((("created_at", "commune", "officer", "counter", "score"), False),
                   (("commune", "created_at", "officer", "counter", "score"), False))

    @property
    def label(self):
        return self.LABELS[self.score]


class Place(ReplicatedModel):
    """Local information: an office, school, health station, market, red address...

    Edited by the commune on its box and by the hub: per-field last-writer-wins."""

    replication = SHARED

    name = CharField()
    category = CharField(default="")
    address = CharField(default="")
    description = TextField(default="")
    phone = CharField(default="")
    opening_hours = CharField(default="")
    active = BooleanField(default=True)


class Holiday(ReplicatedModel):
    """A day off, or a compensatory working day, decided above the commune (hub-owned)."""

    OFF, WORKING = "off", "working"
    replication = HUB

    day = CharField()
    name = CharField()
    kind = CharField(default=OFF)

    class Meta:
        indexes = ((("commune", "day"), True),)


class PrintJob(BaseModel):
    """A ticket to print on this box's printer (local, not replicated)."""

    PENDING, DONE, FAILED = "pending", "done", "failed"

    ticket = ForeignKeyField(Ticket, null=True, on_delete="SET NULL")
    payload = TextField()
    state = CharField(default=PENDING, index=True)
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    created_at = DateTimeField()
    next_attempt_at = DateTimeField()
    printed_at = DateTimeField(null=True)


# The newest job tried since the last one printed (``edge.printing.printer_trouble``, on every ticket
# issued) is found through this index: without it the jobs not yet tried were read one by one, a
# printer's whole backlog on every ticket while the worker catches up (migration 9).
PrintJob.add_index(PrintJob.index(PrintJob.id, name="print_job_tried", where=(PrintJob.attempts > 0)))


def _seconds(start, end):
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


from .catalog import Procedure  # noqa: E402  (the catalog and dossiers build on the models above)
from .dossiers import Agency, Dossier, DossierEvent, DossierSequence  # noqa: E402
from .notices import Notice  # noqa: E402
from .limits import Hit  # noqa: E402
from .sessions import WebSession  # noqa: E402
from .rating_screens import RatingScreen  # noqa: E402
from .synonyms import SearchSynonym  # noqa: E402
from .attachments import Attachment, SentBlob  # noqa: E402
from .bookings import Booking  # noqa: E402
from .reports import FieldReport, ReportCategory  # noqa: E402

REPLICATED = (Office, Service, Officer, Counter, CounterService, Ticket, TicketEvent, Rating, Place, Holiday,
              Procedure, Agency, Dossier, DossierEvent, Notice, SearchSynonym, Attachment, Booking,
              ReportCategory, FieldReport)

MODELS = SYNC_MODELS + (
    Office,
    Service,
    Officer,
    Counter,
    CounterService,
    TicketSequence,
    Ticket,
    TicketEvent,
    Rating,
    Place,
    Holiday,
    PrintJob,
    Procedure,
    Agency,
    Dossier,
    DossierEvent,
    DossierSequence,
    Notice,
    WebSession,
    Hit,
    RatingScreen,
    SearchSynonym,
    Attachment,
    Booking,
    SentBlob,
    ReportCategory,
    FieldReport,
)
