"""Who is reminded of near-due and overdue dossiers, and when (hub-only tables)."""
from peewee import BooleanField, CharField, DateTimeField, IntegerField

from office.db import BaseModel


class Contact(BaseModel):
    """A person reminders go to: a dossier handler, or the leader of a commune or an agency."""

    HANDLER, LEADER = "handler", "leader"
    ROLES = {HANDLER: "Cán bộ xử lý", LEADER: "Lãnh đạo"}

    name = CharField()
    commune = CharField(default="", index=True)  # GSO code; "" = every commune
    role = CharField(default=HANDLER)
    handler = CharField(default="")  # handler: the name or username written on dossiers; "" = ``name``
    agency = CharField(default="")  # leader: code of the agency led; "" = the commune's leader
    phone = CharField(default="")
    email = CharField(default="")
    active = BooleanField(default=True)


class ReminderRule(BaseModel):
    """When to remind whom of what: near-due (within ``lead`` working days or hours) or overdue dossiers."""

    NEAR_DUE, OVERDUE, BOTH = "near_due", "overdue", "both"
    WHAT = {NEAR_DUE: "Hồ sơ sắp đến hạn", OVERDUE: "Hồ sơ quá hạn", BOTH: "Sắp đến hạn và quá hạn"}
    UNITS = {"days": "ngày làm việc", "hours": "giờ làm việc"}
    AUDIENCES = {"handler": "Cán bộ xử lý", "leader": "Lãnh đạo", "both": "Cán bộ xử lý và lãnh đạo"}

    name = CharField()
    what = CharField(default=NEAR_DUE)
    lead = IntegerField(default=1)  # near-due horizon, in ``lead_unit``
    lead_unit = CharField(default="days")
    audience = CharField(default="both")
    channels = CharField(default="log")  # comma list of sms, zalo, email, log
    times = CharField(default="08:00")  # office-local times of day, comma list
    weekdays = CharField(default="0,1,2,3,4")  # Monday = 0
    communes = CharField(default="")  # GSO codes, comma list; "" = every commune
    active = BooleanField(default=True)
    created_at = DateTimeField()

    def listed(self, field):
        return [part.strip() for part in getattr(self, field).split(",") if part.strip()]

    @property
    def near_due(self):
        return self.what in (self.NEAR_DUE, self.BOTH)

    @property
    def overdue(self):
        return self.what in (self.OVERDUE, self.BOTH)
