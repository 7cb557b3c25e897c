"""Reminders of near-due and overdue dossiers to their handlers and leaders, on a schedule.

A ``ReminderRule`` says what to remind of (dossiers due within N working days or hours, overdue
dossiers, or both), to whom (handlers, leaders or both, from the ``Contact`` rows), on which
channels and at which office-local times of which weekdays. A slot is sent only on a working
day of the calendar (national holidays, the hub's ``Holiday`` rows; a compensatory working
Saturday counts; a commune's own day off silences that commune's dossiers), and once: every message is keyed by rule, slot and contact in the outbox, so
the worker looking at the same slot twice, or coming back a few minutes late, sends it once.
The outbox's sender delivers the messages; nothing here talks to a gateway.
"""
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from office.calendar import calendar_from
from office.clock import local_clock
from office.dossiers import OPEN, Dossier
from office.models import Holiday, Officer
from office.reports import category_names, overdue_reports
from sync.policy import GLOBAL_SCOPE

from .outbox import enqueue, normalise_phone
from .reminder_models import Contact, ReminderRule
from .texts import for_channel

REMINDED_STATUSES = tuple(s for s in OPEN if s != 5)  # 5: waiting for the citizen's papers, clock stopped
TIME_OF_DAY = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
PHONE_CHANNELS = ("sms", "zalo")

log = logging.getLogger("motcua.hub.reminders")


# ---- the schedule -------------------------------------------------------------------------------

def parse_times(text):
    """``08:00,14:00`` -> sorted times of day; ValueError on anything else."""
    times = set()
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        match = TIME_OF_DAY.match(part)
        if not match:
            raise ValueError(part)
        times.add(time(int(match[1]), int(match[2])))
    return sorted(times)


def parse_weekdays(text):
    days = set()
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        if not part.isdigit() or int(part) > 6:
            raise ValueError(part)
        days.add(int(part))
    return sorted(days)


def scheduled_day(rule, day, calendar):
    """A working day on one of the rule's weekdays, or a weekend day made a working day
    (a compensatory working Saturday stands in for the weekday it was swapped with)."""
    if not calendar.is_working_day(day):
        return False
    return day.weekday() in parse_weekdays(rule.weekdays) or day.weekday() >= 5


def _slots_in_window(rule, now_local, catchup_minutes):
    window = timedelta(minutes=max(1, catchup_minutes))
    for day in (now_local.date() - timedelta(days=1), now_local.date()):
        for at in parse_times(rule.times):
            slot = datetime.combine(day, at)
            if slot <= now_local < slot + window:
                yield slot


def due_slots(rule, now_local, calendar, catchup_minutes=30):
    """The rule's slots (office-local datetimes, earliest first) due at ``now_local``: a slot is
    due from its time until ``catchup_minutes`` later, so a worker that was down at 08:00 and is
    back at 08:10 still sends the 08:00 reminders, but not at 09:00."""
    return [slot for slot in _slots_in_window(rule, now_local, catchup_minutes)
            if scheduled_day(rule, slot.date(), calendar)]


def hub_calendar():
    """Working days as every commune keeps them: national holidays and the hub's days for all."""
    rows = Holiday.select(Holiday.day, Holiday.kind).where(Holiday.commune == GLOBAL_SCOPE).tuples()
    calendar = calendar_from(rows)
    return calendar


# ---- the dossiers -------------------------------------------------------------------------------

@dataclass
class Item:
    """A dossier to remind of, with how late it is or how long is left (working time)."""

    code: str
    commune: str
    procedure: str
    stage: str
    handler: str
    agency: str
    due_at: datetime
    kind: str  # near_due / overdue
    days: int  # working days late (overdue) or left (near due), the due day's or today's not counted
    minutes: int  # working minutes left; late: only when less than a working day (else 0)
    what: str = "dossier"  # or "report": a field report past its target

    def to_dict(self):
        return {"what": self.what, "code": self.code, "commune": self.commune, "procedure": self.procedure, "stage": self.stage,
                "handler": self.handler, "agency": self.agency, "due_at": self.due_at.isoformat(sep=" "),
                "kind": self.kind, "days": self.days, "minutes": self.minutes}


def horizon(rule, now_local, calendar):
    """The latest due time counted as near due."""
    if rule.lead_unit == "hours":
        return calendar.due_in_hours(now_local, rule.lead)
    return calendar.add_working_days(now_local, rule.lead)


def _day_counter(calendar, days):
    """A function counting working days d with a < d <= b, for a and b within ``days``
    (prefix sums: a dossier years overdue costs one pass over the calendar, not one per dossier)."""
    first, last = min(days), max(days)
    cumulative, total, day = {}, 0, first
    while day <= last:
        total += calendar.is_working_day(day)
        cumulative[day] = total
        day += timedelta(days=1)
    return lambda a, b: cumulative[b] - cumulative[a]


def select_dossiers(rule, now_local, calendar, closed=()):
    """Open dossiers (not those paused for papers) near due or overdue at ``now_local``, in the
    rule's communes but not the ``closed`` ones, ordered by due time (the latest first)."""
    query = Dossier.select().where(Dossier.status.in_(REMINDED_STATUSES))
    communes = rule.listed("communes")
    if communes:
        query = query.where(Dossier.commune.in_(communes))
    if closed:
        query = query.where(Dossier.commune.not_in(list(closed)))
    conditions = []
    if rule.overdue:
        conditions.append(Dossier.due_at < now_local)
    if rule.near_due and rule.lead > 0:
        conditions.append((Dossier.due_at > now_local) & (Dossier.due_at <= horizon(rule, now_local, calendar)))
    if not conditions:
        return []
    where = conditions[0]
    for condition in conditions[1:]:
        where = where | condition
    rows = list(query.where(where).order_by(Dossier.due_at, Dossier.code))
    if not rows:
        return []
    between = _day_counter(calendar, [now_local.date()] + [d.due_at.date() for d in rows])
    items = []
    for d in rows:
        if d.due_at < now_local:
            kind, days = "overdue", between(d.due_at.date(), now_local.date())
            span = calendar.working_time(d.due_at, now_local) if not days else timedelta()
        else:
            kind, days = "near_due", between(now_local.date(), d.due_at.date())
            span = calendar.working_time(now_local, d.due_at)
        items.append(Item(d.code, d.commune, d.procedure_name, d.stage, d.handler, d.agency, d.due_at, kind, days,
                          int(span.total_seconds() // 60)))
    return items


def select_reports(rule, now_local, calendar, closed=()):
    """Field reports past a target (acknowledge, answer) at ``now_local``, as overdue items: the
    commune's leaders are reminded of them, a handler of those assigned to them."""
    if not rule.overdue:
        return []
    names = category_names()
    items = []
    for r in overdue_reports(now_local, rule.listed("communes"), closed):
        missed = r.overdue(now_local)
        due = r.answer_due if missed == "answer" else r.ack_due
        days = max(0, len([1 for _ in _working_days_between(calendar, due.date(), now_local.date())]))
        span = calendar.working_time(due, now_local) if not days else timedelta()
        target = "chưa trả lời" if missed == "answer" else "chưa tiếp nhận"
        items.append(Item(r.code, r.commune, f"Phản ánh: {names.get(r.category, r.category)}", target,
                          r.assigned_to, "", due, "overdue", days, int(span.total_seconds() // 60), "report"))
    return items


def _working_days_between(calendar, a, b):
    day = a
    while day < b:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            yield day


# ---- who gets what ------------------------------------------------------------------------------

def _norm(text):
    return " ".join(unicodedata.normalize("NFC", text or "").split()).casefold()


def _handler_names(contact):
    """(commune or None, name) pairs a handler contact answers to: the text it gives, and for
    an officer whose username or full name it is, both of them in that officer's commune."""
    text = _norm(contact.handler or contact.name)
    if not text:
        return set()
    pairs = {(contact.commune or None, text)}
    officers = Officer.select(Officer.commune, Officer.username, Officer.full_name)
    if contact.commune:
        officers = officers.where(Officer.commune == contact.commune)
    for commune, username, full_name in officers.tuples():
        if text in (_norm(username), _norm(full_name)):
            pairs |= {(commune, _norm(username)), (commune, _norm(full_name))}
    return pairs


def dossiers_of(contact, items):
    """The items a contact is reminded of: a handler its own, a leader its commune's or agency's."""
    if contact.commune:
        items = [i for i in items if i.commune == contact.commune]
    if contact.role == Contact.LEADER:
        if contact.agency:
            items = [i for i in items if i.agency == contact.agency]
        return items
    names = _handler_names(contact)
    return [i for i in items if (i.commune, _norm(i.handler)) in names or (None, _norm(i.handler)) in names]


def addresses(contact, channels):
    """(channel, recipient) for each of the rule's channels this contact can be reached on."""
    found = []
    for channel in channels:
        if channel in PHONE_CHANNELS:
            recipient = normalise_phone(contact.phone)
        elif channel == "email":
            recipient = contact.email.strip() if "@" in contact.email else None
        elif channel == "log":
            recipient = contact.name
        else:
            recipient = None
        if recipient:
            found.append((channel, recipient))
    return found


# ---- the words ----------------------------------------------------------------------------------

def span_text(minutes):
    hours, rest = divmod(max(0, minutes), 60)
    if hours and rest:
        return f"{hours} giờ {rest} phút"
    return f"{hours} giờ" if hours else f"{rest} phút"


def item_text(item, leader=False, long=False):
    if item.kind == "overdue":
        if item.days:
            state = f"quá hạn {item.days} ngày làm việc"
        elif item.minutes:
            state = f"quá hạn {span_text(item.minutes)}"
        else:  # past its closing time, no office time since
            state = "đã quá hạn"
        state += f" (hạn {item.due_at:%H:%M %d/%m/%Y})" if long or not (item.days or item.minutes) else ""
    else:
        left = f"còn {item.days} ngày làm việc" if item.days else f"còn {span_text(item.minutes)} làm việc"
        state = f"hạn {item.due_at:%H:%M %d/%m/%Y}, {left}"
    parts = [f"- {item.code}{' (phản ánh)' if item.what == 'report' else ''}: {state}"]
    if long:
        parts.append(f"; {item.procedure}; {item.stage}" if item.what == "report"
                     else f"; {item.procedure}; bước: {item.stage}")
    if leader and item.handler:
        parts.append(f"; cán bộ: {item.handler}")
    return "".join(parts)


def totals_text(items):
    near = sum(i.kind == "near_due" for i in items)
    late_reports = sum(i.what == "report" for i in items)
    late = len(items) - near - late_reports
    parts = []
    if near:
        parts.append(f"{near} hồ sơ sắp đến hạn")
    if late:
        parts.append(f"{late} hồ sơ quá hạn")
    if late_reports:
        parts.append(f"{late_reports} phản ánh quá hạn")
    return ", ".join(parts)


def message_text(contact, items, now_local, long=False):
    leader = contact.role == Contact.LEADER
    lines = [f"Nhắc việc một cửa {now_local:%H:%M %d/%m/%Y} gửi {contact.name}: {totals_text(items)}."]
    late = [i for i in items if i.kind == "overdue"]
    near = [i for i in items if i.kind == "near_due"]
    if late:
        lines.append("Quá hạn:")
        lines += [item_text(i, leader, long) for i in late]
    if near:
        lines.append("Sắp đến hạn:")
        lines += [item_text(i, leader, long) for i in near]
    if long:
        lines.append("Xem và xử lý hồ sơ trên phần mềm một cửa.")
    return "\n".join(lines)


@dataclass
class Planned:
    """One message to send: a contact, on one channel."""

    contact_id: int
    name: str
    role: str
    channel: str
    recipient: str
    commune: str
    subject: str
    text: str
    codes: list
    fields: dict = field(default_factory=dict)
    template: str = ""

    def to_dict(self):
        return {"contact": self.contact_id, "name": self.name, "role": self.role, "channel": self.channel,
                "recipient": self.recipient, "commune": self.commune, "subject": self.subject, "text": self.text,
                "codes": self.codes}


def _audience(rule):
    roles = {"handler": (Contact.HANDLER,), "leader": (Contact.LEADER,)}.get(rule.audience)
    return roles or (Contact.HANDLER, Contact.LEADER)


def compose(rule, now_local, calendar, zalo_template="", closed=()):
    """The messages the rule makes at ``now_local``: per contact of its audience with at least
    one dossier, one message per channel it can be reached on, naming every dossier (of the
    communes not ``closed`` today)."""
    items = select_dossiers(rule, now_local, calendar, closed) + select_reports(rule, now_local, calendar, closed)
    if not items:
        return []
    channels = rule.listed("channels")
    contacts = (Contact.select().where(Contact.active == True, Contact.role.in_(_audience(rule)))  # noqa: E712
                .order_by(Contact.role, Contact.name, Contact.id))
    planned = []
    for contact in contacts:
        mine = dossiers_of(contact, items)
        if not mine:
            continue
        totals = totals_text(mine)
        fields = {"ten": contact.name, "sap_den_han": sum(i.kind == "near_due" for i in mine),
                  "qua_han": sum(i.kind == "overdue" for i in mine), "ma_ho_so": ", ".join(i.code for i in mine)}
        for channel, recipient in addresses(contact, channels):
            long = channel in ("email", "log")
            planned.append(Planned(contact.id, contact.name, contact.role, channel, recipient, contact.commune,
                                   f"Nhắc việc: {totals}", message_text(contact, mine, now_local, long),
                                   [i.code for i in mine], fields,
                                   zalo_template if channel == "zalo" else ""))
    return planned


def preview(rule, now_local, calendar=None, zalo_template=""):
    """What the rule would send now, whatever its schedule (nothing is enqueued)."""
    return compose(rule, now_local, calendar or hub_calendar(), zalo_template)


def closed_communes(day):
    """Communes with a day off of their own (a hub ``Holiday`` row for that commune) on ``day``."""
    return {c for (c,) in Holiday.select(Holiday.commune).where(
        Holiday.day == day.isoformat(), Holiday.kind == Holiday.OFF, Holiday.commune != GLOBAL_SCOPE).tuples()}


def event_key(rule, slot, contact_id):
    return f"reminder:{rule.id}:{slot:%Y-%m-%dT%H:%M}:{contact_id}"


def run_reminders(now_utc, settings):
    """Enqueue the messages of every active rule's due slot (once per rule, slot and contact);
    returns what was added to the outbox now."""
    now_local = local_clock(settings["timezone"])(now_utc).replace(second=0, microsecond=0)
    catchup = settings.get("reminder_catchup_minutes", 30)
    rules = list(ReminderRule.select().where(ReminderRule.active == True).order_by(ReminderRule.id))  # noqa: E712
    calendar = None
    added = []
    for rule in rules:
        try:
            parse_times(rule.times)
            parse_weekdays(rule.weekdays)
        except ValueError:
            continue  # a rule written around the forms; the pages refuse such values
        if not any(_slots_in_window(rule, now_local, catchup)):
            continue  # most minutes: no calendar, no dossier read
        calendar = calendar or hub_calendar()
        slots = due_slots(rule, now_local, calendar, catchup)
        for slot in slots[-1:]:  # back after missing 08:00 and 08:15, send the state of things once
            closed = closed_communes(slot.date())
            for message in compose(rule, now_local, calendar, settings.get("reminder_zalo_template", ""), closed):
                event = event_key(rule, slot, message.contact_id)
                text = for_channel(message.channel, message.text, settings, cut=False)  # every code stays
                if enqueue(event, message.channel, message.recipient, text, purpose="reminder",
                           commune=message.commune, subject=message.subject, template=message.template,
                           fields=message.fields, now=now_utc):
                    added.append(dict(message.to_dict(), rule=rule.id, slot=slot.isoformat(sep=" "), event=event))
    if added:
        log.info("reminders: %d messages into the outbox (%s)", len(added),
                 ", ".join(sorted({f"rule {a['rule']} at {a['slot'][:16]}" for a in added})))
    return added
