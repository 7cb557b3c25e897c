"""Queue statistics rolled up per commune and day, then per commune and month (the hub's own
tables, never replicated), so a year over a hundred communes reads a few rows per month and service
instead of every ticket.

``queue_rollup`` (days) and ``queue_rollup_month`` (months) hold, per commune and service (kind ``s``),
counter (``c``) or officer (``o``): tickets, no-shows and every waiting and service time in seconds
(sorted float64 values), so sums and the exact 90th percentile of any grouping and period come out
as from the tickets themselves. ``queue_rollup_day`` has one row per (commune, day) with tickets and
says whether that day is stale. A month's rows carry a marker (kind ``*``) counting the days they
were made of.

Triggers on ``ticket`` mark its day stale whenever one of its tickets is written, whatever path
writes it (a push, a snapshot, a repair), and a trigger on ``queue_rollup_day`` then drops the day's
rolled-up rows and its month's. So a box that was offline for a week and pushes its tickets now
makes those past days stale: the statistics read them from the tickets until the worker rolls them
up again (``roll_up``, every few minutes; finished days and finished months only, so today is always
read live).

The figures never depend on when the rollup ran: ``tallies`` takes a month's rows only when the
month has no stale day and its marker counts all its days, a day's rows only when the day is not
stale, and the tickets of every other day; all feed the same arithmetic.
"""
import sys
import time
from array import array
from datetime import date, timedelta

from peewee import BlobField, CharField, IntegerField, PostgresqlDatabase, fn

from .db import BaseModel, database
from .models import Ticket

DAY_TABLE, TABLE, MONTH_TABLE = "queue_rollup_day", "queue_rollup", "queue_rollup_month"
KINDS = {"service": "s", "counter": "c", "officer": "o", "commune": "s"}  # the rows a grouping reads
MARKER = "*"  # a month's marker row: ``tickets`` = the days it was made of


class QueueRollupDay(BaseModel):
    commune = CharField()
    day = CharField()  # office-local YYYY-MM-DD, as tickets keep it
    stale = IntegerField(default=1)  # 1: its tickets changed since they were rolled up (or never were)

    class Meta:
        table_name = DAY_TABLE
        indexes = ((("commune", "day"), True), (("stale", "day"), False), (("day", "commune", "stale"), False))


class QueueRollup(BaseModel):
    commune = CharField()
    day = CharField()
    kind = CharField(max_length=1)  # s: per service id (merged by code when shown), c: counter, o: officer
    key = CharField(null=True)  # the service's, counter's or officer's id (none: nobody called the ticket)
    tickets = IntegerField()
    no_show = IntegerField()
    waits = BlobField()  # sorted float64 seconds of the called tickets, issued → called
    services = BlobField()  # sorted float64 seconds of the served tickets, serving → ended

    class Meta:
        table_name = TABLE
        indexes = ((("kind", "day", "commune"), False), (("commune", "day"), False))


class QueueRollupMonth(BaseModel):
    commune = CharField()
    month = CharField()  # YYYY-MM
    kind = CharField(max_length=1)
    key = CharField(null=True)
    tickets = IntegerField()
    no_show = IntegerField()
    waits = BlobField()
    services = BlobField()

    class Meta:
        table_name = MONTH_TABLE
        indexes = ((("kind", "month", "commune"), False), (("commune", "month"), False))


ROLLUP_MODELS = (QueueRollupDay, QueueRollup, QueueRollupMonth)
WATCHED = ("commune", "day", "service_id", "counter_id", "officer_id", "state", "issued_at", "called_at",
           "serving_at", "ended_at")


def _mark(row):
    return (f"INSERT INTO {DAY_TABLE} (commune, day, stale) VALUES ({row}.commune, {row}.day, 1) "
            f"ON CONFLICT (commune, day) DO UPDATE SET stale = 1 WHERE {DAY_TABLE}.stale = 0")


def _unless_stale(row):
    """SQLite: skip the write when the day is stale already (most ticket writes of a day; one writer,
    so nothing can roll it up in between). PostgreSQL always upserts: that locks the day's row, so a
    rollup reading the day's tickets at the same time finishes first and the day is marked again."""
    return (f"WHEN NOT EXISTS (SELECT 1 FROM {DAY_TABLE} WHERE commune = {row}.commune AND day = {row}.day "
            "AND stale = 1)")


DROP_DAY = f"DELETE FROM {TABLE} WHERE commune = NEW.commune AND day = NEW.day"
DROP_MONTH = f"DELETE FROM {MONTH_TABLE} WHERE commune = NEW.commune AND month = substr(NEW.day, 1, 7)"
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER IF NOT EXISTS queue_rollup_day_stale AFTER UPDATE OF stale ON {DAY_TABLE} "
    f"WHEN NEW.stale = 1 AND OLD.stale = 0 BEGIN {DROP_DAY}; {DROP_MONTH}; END",
    f"CREATE TRIGGER IF NOT EXISTS queue_rollup_day_new AFTER INSERT ON {DAY_TABLE} BEGIN {DROP_MONTH}; END",
    f"CREATE TRIGGER IF NOT EXISTS ticket_rollup_insert AFTER INSERT ON ticket {_unless_stale('NEW')} "
    f"BEGIN {_mark('NEW')}; END",
    f"CREATE TRIGGER IF NOT EXISTS ticket_rollup_update AFTER UPDATE OF {', '.join(WATCHED)} ON ticket "
    f"{_unless_stale('NEW')} OR OLD.commune IS NOT NEW.commune OR OLD.day IS NOT NEW.day BEGIN {_mark('NEW')}; "
    f"INSERT INTO {DAY_TABLE} (commune, day, stale) SELECT OLD.commune, OLD.day, 1 "
    f"WHERE OLD.commune IS NOT NEW.commune OR OLD.day IS NOT NEW.day "
    f"ON CONFLICT (commune, day) DO UPDATE SET stale = 1 WHERE {DAY_TABLE}.stale = 0; END",
    f"CREATE TRIGGER IF NOT EXISTS ticket_rollup_delete AFTER DELETE ON ticket BEGIN {_mark('OLD')}; END",
)
POSTGRES_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION queue_rollup_day_stale() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP = 'UPDATE' THEN {DROP_DAY}; END IF; {DROP_MONTH}; RETURN NULL; END $$",
    f"CREATE OR REPLACE TRIGGER queue_rollup_day_stale AFTER UPDATE OF stale ON {DAY_TABLE} FOR EACH ROW "
    "WHEN (NEW.stale = 1 AND OLD.stale = 0) EXECUTE FUNCTION queue_rollup_day_stale()",
    f"CREATE OR REPLACE TRIGGER queue_rollup_day_new AFTER INSERT ON {DAY_TABLE} FOR EACH ROW "
    "EXECUTE FUNCTION queue_rollup_day_stale()",
    "CREATE OR REPLACE FUNCTION ticket_rollup_stale() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP <> 'INSERT' THEN {_mark('OLD')}; END IF; "
    "IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND (OLD.commune, OLD.day) IS DISTINCT FROM (NEW.commune, NEW.day)) "
    f"THEN {_mark('NEW')}; END IF; RETURN NULL; END $$",
    f"CREATE OR REPLACE TRIGGER ticket_rollup_stale AFTER INSERT OR DELETE OR UPDATE OF {', '.join(WATCHED)} "
    "ON ticket FOR EACH ROW EXECUTE FUNCTION ticket_rollup_stale()",
)
INSTALL_LOCK = 7314  # PostgreSQL advisory lock: one process at a time installs


def is_postgres():
    return isinstance(database.obj, PostgresqlDatabase)


def install(db):
    """Make the rollup tables and the triggers on ``ticket`` (the hub, at every start; a no-op once
    there). The first time, every (commune, day) with tickets is marked stale: read live until rolled up."""
    postgres = isinstance(db, PostgresqlDatabase)
    with db.atomic():
        if postgres:
            db.execute_sql(f"SELECT pg_advisory_xact_lock({INSTALL_LOCK})")
        new = DAY_TABLE not in db.get_tables()
        db.create_tables(ROLLUP_MODELS, safe=True)
        for sql in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
            db.execute_sql(sql)
        if new:
            db.execute_sql(f"INSERT INTO {DAY_TABLE} (commune, day, stale) SELECT DISTINCT commune, day, 1 FROM ticket "
                           "WHERE true ON CONFLICT (commune, day) DO UPDATE SET stale = 1")


def installed():
    return database.table_exists(DAY_TABLE)


# ---- values ----------------------------------------------------------------------------------------

def ticket_seconds(start, end):
    """Seconds between two ticket times: the same expression for live figures and the rollup."""
    if is_postgres():
        return fn.date_part("epoch", end - start)
    return (fn.julianday(end) - fn.julianday(start)) * 86400


def ticket_rows(select):
    """``select`` (e.g. ``Ticket.select``) of (commune, day, service, counter, officer, state, wait,
    service time)."""
    return select(Ticket.commune, Ticket.day, Ticket.service, Ticket.counter, Ticket.officer, Ticket.state,
                  ticket_seconds(Ticket.issued_at, Ticket.called_at), ticket_seconds(Ticket.serving_at, Ticket.ended_at))


def pack(values):
    values = array("d", sorted(values))
    if sys.byteorder == "big":
        values.byteswap()
    return values.tobytes()


def unpack_into(target, blob):
    """Append the values of a packed blob to the ``array('d')`` ``target``."""
    if sys.byteorder == "big":
        extra = array("d")
        extra.frombytes(blob)
        extra.byteswap()
        target.extend(extra)
    elif blob:
        target.frombytes(blob)


class Tallies(dict):
    """{group key: [tickets, no-shows, waits, service times]} (the times as ``array('d')``)."""

    def group(self, key):
        tally = self.get(key)
        if tally is None:
            tally = self[key] = [0, 0, array("d"), array("d")]
        return tally

    def add_packed(self, rows):
        """Rolled-up rows: (key, tickets, no-shows, packed waits, packed service times)."""
        for key, tickets, shows, waits, services in rows:
            tally = self.get(key)
            if tally is None:
                tally = self[key] = [0, 0, array("d"), array("d")]
            tally[0] += tickets
            tally[1] += shows
            unpack_into(tally[2], waits)
            unpack_into(tally[3], services)

    def add_tickets(self, rows, position, keep=None):
        """Ticket rows of ``ticket_rows``, grouped by the column at ``position``; with ``keep``, only
        those whose (commune, day) is in it."""
        no_show = Ticket.NO_SHOW
        for row in rows:
            if keep is not None and (row[0], row[1]) not in keep:
                continue
            tally = self.get(row[position])
            if tally is None:
                tally = self[row[position]] = [0, 0, array("d"), array("d")]
            tally[0] += 1
            if row[5] == no_show:
                tally[1] += 1
            if row[6] is not None:
                tally[2].append(row[6])
            if row[7] is not None:
                tally[3].append(row[7])


# ---- reading ---------------------------------------------------------------------------------------

def _months(first, last):
    """The months (YYYY-MM) whose every day lies in [first, last]."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    months = []
    day = start.replace(day=1)
    while day <= end:
        following = (day + timedelta(days=32)).replace(day=1)
        if day >= start and following - timedelta(days=1) <= end:
            months.append(f"{day:%Y-%m}")
        day = following
    return months


def tallies(by, first, last, tickets_query, commune=""):
    """The tallies of the days [first, last] (YYYY-MM-DD) grouped ``by`` service (id), counter,
    officer or commune: from month rows, day rows, and ``tickets_query`` (the period's tickets as
    ``ticket_rows``) for the days that are not rolled up."""
    position = ("commune", "day", "service", "counter", "officer").index(by)
    kind = KINDS[by]
    days = QueueRollupDay.select(QueueRollupDay.commune, QueueRollupDay.day, QueueRollupDay.stale).where(
        QueueRollupDay.day >= first, QueueRollupDay.day <= last)
    if commune:
        days = days.where(QueueRollupDay.commune == commune)
    per_month, stale = {}, set()
    for commune_code, day, is_stale in database.execute(days):
        counts = per_month.get((commune_code, day[:7]))
        if counts is None:
            counts = per_month[(commune_code, day[:7])] = [0, 0]
        counts[0] += 1
        if is_stale:
            counts[1] += 1
            stale.add((commune_code, day))
    months = _months(first, last)
    usable = set()
    if months:
        markers = QueueRollupMonth.select(QueueRollupMonth.commune, QueueRollupMonth.month,
                                          QueueRollupMonth.tickets).where(QueueRollupMonth.kind == MARKER,
                                                                          QueueRollupMonth.month.in_(months))
        if commune:
            markers = markers.where(QueueRollupMonth.commune == commune)
        for commune_code, month, covered in markers.tuples():
            counts = per_month.get((commune_code, month))
            if counts is not None and counts[1] == 0 and counts[0] == covered:
                usable.add((commune_code, month))
    result = Tallies()
    if usable:
        key = QueueRollupMonth.commune if by == "commune" else QueueRollupMonth.key
        query = QueueRollupMonth.select(QueueRollupMonth.commune, QueueRollupMonth.month, key, QueueRollupMonth.tickets,
                                        QueueRollupMonth.no_show, QueueRollupMonth.waits, QueueRollupMonth.services
                                        ).where(QueueRollupMonth.kind == kind, QueueRollupMonth.month.in_(months))
        if commune:
            query = query.where(QueueRollupMonth.commune == commune)
        result.add_packed(row[2:] for row in database.execute(query) if (row[0], row[1]) in usable)
    key = QueueRollup.commune if by == "commune" else QueueRollup.key
    for low, high, communes in _day_ranges(first, last, months, usable, per_month):
        query = QueueRollup.select(QueueRollup.commune, QueueRollup.day, key, QueueRollup.tickets, QueueRollup.no_show,
                                   QueueRollup.waits, QueueRollup.services).where(
            QueueRollup.kind == kind, QueueRollup.day >= low, QueueRollup.day <= high)
        if commune:
            query = query.where(QueueRollup.commune == commune)
        elif communes is not None:
            query = query.where(QueueRollup.commune.in_(communes))
        result.add_packed(row[2:] for row in database.execute(query) if (row[0], row[1]) not in stale)
    if stale:
        live = tickets_query.where(Ticket.day.in_(sorted({day for _, day in stale})))
        result.add_tickets(database.execute(live), position, keep=stale)
    return result


def _day_ranges(first, last, months, usable, per_month):
    """(first day, last day, communes or None for all) whose day rows to read: the days outside the
    period's whole months, and in each whole month the communes whose month rows are not usable."""
    ranges = []
    whole = set(months)
    start = date.fromisoformat(first)
    end = date.fromisoformat(last)
    day = start
    while day <= end:
        month = f"{day:%Y-%m}"
        month_end = min((day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1), end)
        if month not in whole:
            ranges.append((day.isoformat(), month_end.isoformat(), None))
        else:
            communes = sorted(c for (c, m) in per_month if m == month and (c, m) not in usable)
            if communes:
                ranges.append((day.isoformat(), month_end.isoformat(), communes))
        day = month_end + timedelta(days=1)
    return ranges


def live_tallies(by, tickets_query):
    result = Tallies()
    result.add_tickets(database.execute(tickets_query), ("commune", "day", "service", "counter", "officer").index(by))
    return result


# ---- rolling up ------------------------------------------------------------------------------------

def _aggregate(rows):
    """{(commune, kind, key): [tickets, no_show, waits, services]} of ticket rows: each ticket
    counts once in each kind."""
    groups = {}
    no_show = Ticket.NO_SHOW
    for commune, _day, service, counter, officer, state, wait, service_time in rows:
        for kind, key in (("s", service), ("c", counter), ("o", officer)):
            group = groups.get((commune, kind, key))
            if group is None:
                group = groups[(commune, kind, key)] = [0, 0, [], []]
            group[0] += 1
            if state == no_show:
                group[1] += 1
            if wait is not None:
                group[2].append(float(wait))
            if service_time is not None:
                group[3].append(float(service_time))
    return groups


def roll_up(today, max_seconds=None):
    """Roll up every stale (commune, day) before ``today`` (YYYY-MM-DD, the office's), oldest first,
    one day's communes per transaction (a push waits at most that long); then every finished month
    whose days are all rolled up and whose month rows are missing or short of a day. Returns
    (days, months) rolled up. ``max_seconds`` bounds one run (the next one goes on)."""
    started = time.monotonic()

    def in_time():
        return max_seconds is None or time.monotonic() - started < max_seconds

    days = months = 0
    while in_time():
        with database.atomic():
            pending = (QueueRollupDay.select(QueueRollupDay.day).where(QueueRollupDay.stale == 1,
                                                                       QueueRollupDay.day < today)
                       .order_by(QueueRollupDay.day).limit(1).tuples().first())
            if pending is None:
                break
            marks = QueueRollupDay.select(QueueRollupDay.commune).where(QueueRollupDay.day == pending[0],
                                                                      QueueRollupDay.stale == 1)
            if is_postgres():  # a push writing this day's tickets now waits for us, then marks it again
                marks = marks.for_update()
            days += _roll_up_day(pending[0], [c for (c,) in marks.tuples()])
    for month in _months_to_build(today[:7] + "-01"):
        if not in_time():
            break
        with database.atomic():
            months += _build_month(*month)
    return days, months


def _roll_up_day(day, communes):
    fields = [QueueRollup.commune, QueueRollup.day, QueueRollup.kind, QueueRollup.key, QueueRollup.tickets,
              QueueRollup.no_show, QueueRollup.waits, QueueRollup.services]
    for start in range(0, len(communes), 500):
        chunk = communes[start:start + 500]
        QueueRollup.delete().where(QueueRollup.commune.in_(chunk), QueueRollup.day == day).execute()
        rows = database.execute(ticket_rows(Ticket.select).where(Ticket.day == day, Ticket.commune.in_(chunk)))
        values = [(commune, day, kind, key, tickets, shows, pack(waits), pack(services))
                  for (commune, kind, key), (tickets, shows, waits, services) in _aggregate(rows).items()]
        for at in range(0, len(values), 500):
            QueueRollup.insert_many(values[at:at + 500], fields=fields).execute()
        QueueRollupDay.update(stale=0).where(QueueRollupDay.commune.in_(chunk), QueueRollupDay.day == day).execute()
    return len(communes)


def _months_to_build(before):
    """(commune, month) of finished months (before the day ``before``) with no stale day whose
    marker is missing or counts other days than there are."""
    month = fn.substr(QueueRollupDay.day, 1, 7)
    complete = (QueueRollupDay.select(QueueRollupDay.commune, month, fn.COUNT(QueueRollupDay.id))
                .where(QueueRollupDay.day < before).group_by(QueueRollupDay.commune, month)
                .having(fn.MAX(QueueRollupDay.stale) == 0))
    built = dict(((c, m), n) for c, m, n in QueueRollupMonth.select(
        QueueRollupMonth.commune, QueueRollupMonth.month, QueueRollupMonth.tickets).where(
        QueueRollupMonth.kind == MARKER).tuples())
    return sorted(((c, m) for c, m, n in complete.tuples() if built.get((c, m)) != n), key=lambda p: (p[1], p[0]))


def _build_month(commune, month):
    """The month's rows from its day rows, under a lock on its days (PostgreSQL; SQLite has one
    writer): a push marking one of them stale waits, then drops what this made."""
    marks = QueueRollupDay.select(QueueRollupDay.stale).where(
        QueueRollupDay.commune == commune, QueueRollupDay.day >= f"{month}-01", QueueRollupDay.day <= f"{month}-31")
    if is_postgres():
        marks = marks.for_update()
    states = [s for (s,) in marks.tuples()]
    if not states or any(states):
        return 0
    QueueRollupMonth.delete().where(QueueRollupMonth.commune == commune, QueueRollupMonth.month == month).execute()
    merged = {}
    rows = QueueRollup.select(QueueRollup.kind, QueueRollup.key, QueueRollup.tickets, QueueRollup.no_show,
                              QueueRollup.waits, QueueRollup.services).where(
        QueueRollup.commune == commune, QueueRollup.day >= f"{month}-01", QueueRollup.day <= f"{month}-31")
    for kind, key, tickets, shows, waits, services in database.execute(rows):
        group = merged.get((kind, key))
        if group is None:
            group = merged[(kind, key)] = [0, 0, array("d"), array("d")]
        group[0] += tickets
        group[1] += shows
        unpack_into(group[2], waits)
        unpack_into(group[3], services)
    values = [(commune, month, kind, key, tickets, shows, pack(waits), pack(services))
              for (kind, key), (tickets, shows, waits, services) in merged.items()]
    values.append((commune, month, MARKER, None, len(states), 0, b"", b""))
    fields = [QueueRollupMonth.commune, QueueRollupMonth.month, QueueRollupMonth.kind, QueueRollupMonth.key,
              QueueRollupMonth.tickets, QueueRollupMonth.no_show, QueueRollupMonth.waits, QueueRollupMonth.services]
    for at in range(0, len(values), 500):
        QueueRollupMonth.insert_many(values[at:at + 500], fields=fields).execute()
    return 1
