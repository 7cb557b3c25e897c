"""Citizen notices become outbox messages at the hub.

Notices reach the hub inside box batches (or are written at the hub when an agency acts on
its web pages); either way each one is an entry of the hub's change log. The dispatcher
follows that log by its autoincrement id with a cursor kept in the same transaction as the
messages it queues. On PostgreSQL the log's writers are serialized
(``office.db.serialize_log_writes``), so ids become visible in order and a cursor never
passes an entry that commits later. A notice seen twice queues nothing new: messages are
keyed by (notice id, channel, recipient).
"""
import logging
from datetime import timedelta

from peewee import CharField, IntegerField, PostgresqlDatabase, fn

from office.clock import utcnow
from office.db import BaseModel, database
from office.communes import authority_name
from office.models import Office
from office.notices import Notice
from sync.models import ChangeEntry

from .channels.zalo import templates
from .outbox import enqueue, normalise_phone
from .texts import for_channel, render, subject

log = logging.getLogger("motcua.hub.dispatch")

CHANNEL_NAMES = ("sms", "zalo", "email", "log")
TURN_NEAR_FRESH = timedelta(minutes=30)


class LogCursor(BaseModel):
    """How far a hub reader of the change log has got (hub-only)."""

    name = CharField(unique=True)
    position = IntegerField(default=0)  # last change_entry id handled
    skipped = IntegerField(default=0)  # notices with no usable mobile number, so far


def citizen_channels(settings):
    names = [c.strip() for c in settings["citizen_channels"].split(",") if c.strip()]
    unknown = [c for c in names if c not in CHANNEL_NAMES]
    if unknown:
        log.error("citizen_channels: kênh không biết %s (bỏ qua)", ", ".join(unknown))
    return [c for c in names if c in CHANNEL_NAMES]


def _cursor():
    LogCursor.insert(name="notice").on_conflict_ignore().execute()
    query = LogCursor.select().where(LogCursor.name == "notice")
    if isinstance(database.obj, PostgresqlDatabase):
        query = query.for_update()  # two dispatchers take turns
    return query.get()


def dispatch(settings, limit=500, now=None):
    """Queue the messages of notices logged since the cursor; returns counts.

    A "turn near" notice that arrives late (its box was offline) is dropped as stale: the
    citizen has been called or has left by then."""
    channels = citizen_channels(settings)
    zns = templates(settings)
    stale_before = (now or utcnow()) - TURN_NEAR_FRESH
    counts = {"notices": 0, "queued": 0, "skipped": 0, "stale": 0}
    with database.atomic():
        cursor = _cursor()
        top = ChangeEntry.select(fn.MAX(ChangeEntry.id)).scalar() or 0
        if top <= cursor.position:
            return counts
        entries = list(ChangeEntry.select(ChangeEntry.id, ChangeEntry.pk)
                       .where(ChangeEntry.table == "notice", ChangeEntry.id > cursor.position, ChangeEntry.id <= top)
                       .order_by(ChangeEntry.id).limit(limit))
        position = entries[-1].id if len(entries) == limit else top
        notices = {n.id: n for n in Notice.select().where(Notice.id.in_([e.pk for e in entries]))} if entries else {}
        for entry in entries:
            notice = notices.get(entry.pk)
            if notice is None:
                continue
            counts["notices"] += 1
            if notice.kind == "turn_near" and notice.created_at < stale_before:
                counts["stale"] += 1
                continue
            queued, usable = _queue(notice, channels, zns, settings)
            counts["queued"] += queued
            counts["skipped"] += 0 if usable else 1
        LogCursor.update(position=position, skipped=LogCursor.skipped + counts["skipped"]) \
            .where(LogCursor.id == cursor.id).execute()
    if counts["notices"]:
        log.info("thông báo: %(notices)d, tin xếp hàng: %(queued)d, bỏ qua (số không hợp lệ): %(skipped)d, "
                 "quá muộn: %(stale)d", counts)
    return counts


def authority_of(commune):
    """The commune's people's committee as its office calls itself (its box's office name), else
    from the national list of units: a phường is never called a xã."""
    office = Office.get_or_none(Office.commune == commune) if commune else None
    return office.name if office and office.name.startswith("UBND ") else authority_name(commune)


def _queue(notice, channels, zns, settings):
    """Messages of one notice; (how many were new, whether the phone was a usable mobile number)."""
    phone = normalise_phone(notice.phone)
    if phone is None:
        return 0, False
    fields = {"co_quan": authority_of(notice.commune), **notice.values}
    text = render(notice.kind, fields)
    queued = 0
    for channel in channels:
        if channel == "email":
            continue  # a citizen notice carries a phone, no address
        template = ""
        if channel == "zalo":
            template = zns.get(notice.kind, "")
            if not template:
                continue  # no ZNS template registered for this kind: the other channels carry it
        queued += enqueue(notice.id, channel, phone, for_channel(channel, text, settings), purpose=notice.kind,
                          commune=notice.commune, subject=subject(notice.kind, fields), template=template,
                          fields=fields)
    return queued, True
