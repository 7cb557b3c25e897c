"""What the lobby, the kiosk and the counters see: waiting counts, estimates, calls."""
from peewee import JOIN, fn

from .db import database, scalars
from .models import Counter, CounterService, Officer, Service, Ticket, TicketEvent, utcnow


def average_service_minutes(policy, service):
    """Mean service time over the service's last finished tickets (any day)."""
    p = database.param
    rows = database.execute_sql(  # on every ticket issued: one plain statement
        f"SELECT serving_at, ended_at FROM ticket WHERE service_id = {p} AND state = {p}"
        f" AND serving_at IS NOT NULL ORDER BY ended_at DESC LIMIT {p}",
        (_id(service), Ticket.DONE, policy.estimate_window)).fetchall()
    durations = [(_moment(end) - _moment(start)).total_seconds() for start, end in rows]
    if not durations:
        return policy.default_service_minutes
    return max(sum(durations) / len(durations) / 60.0, 0.5)


def open_counters(service):
    """Counters serving ``service`` with an officer seated now."""
    return scalars(open_counters_query(service))[0]


def open_counters_query(service):
    """``open_counters`` as a query for ``office.db.scalars``."""
    p = database.param
    return (f"SELECT COUNT(*) FROM counter c JOIN counter_service cs ON cs.counter_id = c.id"
            f" WHERE cs.service_id = {p} AND c.officer_id IS NOT NULL", (_id(service),))


def _id(row_or_id):
    return getattr(row_or_id, "id", row_or_id)


def _moment(value):
    """A stored DATETIME as peewee reads it (text on SQLite, datetime on PostgreSQL)."""
    return Ticket.serving_at.python_value(value)


def estimate_wait_minutes(policy, service, ahead, counters=None):
    """Minutes until someone with ``ahead`` people in front of them is called, from the counters
    open for the service now; None when none is open (nobody can say)."""
    counters = open_counters(service) if counters is None else counters
    if not counters:
        return None
    return round(ahead * average_service_minutes(policy, service) / counters)


def waiting_ahead(ticket):
    """Tickets of the same service and day waiting, queued before ``ticket``."""
    return scalars(waiting_ahead_query(ticket))[0]


def waiting_ahead_query(ticket):
    """``waiting_ahead`` as a query for ``office.db.scalars``."""
    p = database.param
    return (f"SELECT COUNT(*) FROM ticket WHERE day = {p} AND state = {p} AND service_id = {p} AND queued_at < {p}",
            (ticket.day, Ticket.ISSUED, ticket.service_id, Ticket.queued_at.db_value(ticket.queued_at)))


def services_overview(policy, now=None):
    day = policy.local_day(now or utcnow())
    counts = dict(
        Ticket.select(Ticket.service, fn.COUNT(Ticket.id))
        .where(Ticket.day == day, Ticket.state == Ticket.ISSUED)
        .group_by(Ticket.service)
        .tuples()
    )
    rows = []
    for service in Service.select().where(Service.active == True).order_by(Service.sort_order, Service.id):  # noqa: E712
        waiting = counts.get(service.id, 0)
        counters = open_counters(service)
        rows.append({
            "code": service.code,
            "name": service.name,
            "prefix": service.prefix,
            "waiting": waiting,
            "open_counters": counters,
            "estimated_wait_min": estimate_wait_minutes(policy, service, waiting, counters),
        })
    return rows


def counters_overview():
    current = {
        t.counter_id: t
        for t in Ticket.select().where(Ticket.state.in_((Ticket.CALLED, Ticket.SERVING)))
    }
    services = {}
    for link in CounterService.select(CounterService, Service).join(Service):
        services.setdefault(link.counter_id, []).append(link.service.code)
    rows = []
    for counter in Counter.select(Counter, Officer).join(Officer, JOIN.LEFT_OUTER).order_by(Counter.number):
        ticket = current.get(counter.id)
        rows.append({
            "id": counter.id,
            "number": counter.number,
            "label": counter.label,
            "open": counter.officer_id is not None,
            "officer": counter.officer.full_name if counter.officer_id else None,
            "services": services.get(counter.id, []),
            "ticket": ticket.number if ticket else None,
            "state": ticket.state if ticket else None,
        })
    return rows


def _calls_today(policy, now=None):
    day = policy.local_day(now or utcnow())
    return (
        TicketEvent.select(TicketEvent, Ticket, Counter)
        .join(Ticket)
        .switch(TicketEvent)
        .join(Counter)
        .where(TicketEvent.action.in_(("call", "recall")), Ticket.day == day)
    )


def _call_row(event):
    return {
        "id": event.id,
        "number": event.ticket.number,
        "prefix": event.ticket.prefix,
        "seq": event.ticket.seq,
        "counter": event.counter.number,
        "recall": event.action == "recall",
        "at": event.at.isoformat() + "Z",
    }


def recent_calls(policy, after_id="", limit=10, now=None):
    """Calls and recalls of today, newest last; ``after_id`` pages for the lobby (ids grow)."""
    query = (
        _calls_today(policy, now)
        .where(TicketEvent.id > after_id)
        .order_by(TicketEvent.id.desc())
        .limit(limit)
    )
    return [_call_row(e) for e in reversed(list(query))]


def current_call(policy, now=None, look_back=20):
    """The call the lobby's banner shows, or None (the banner is cleared).

    Today's newest call or recall whose ticket is still called, not yet served, at the counter
    that called it: once the ticket is finished, marked absent, transferred or its citizen is
    being served, that invitation is over and an older one still open (or none) is shown.
    """
    for event in _calls_today(policy, now).order_by(TicketEvent.id.desc()).limit(look_back):
        ticket = event.ticket
        if ticket.state == Ticket.CALLED and ticket.counter_id == event.counter_id:
            return _call_row(event)
    return None
