"""What the lobby, the kiosk and the counters see: waiting counts, estimates, calls."""
from peewee import JOIN, fn

from .models import Counter, CounterService, Officer, Service, Ticket, TicketEvent, utcnow


def average_service_minutes(policy, service):
    """Mean service time over the service's last finished tickets (any day)."""
    recent = (
        Ticket.select(Ticket.serving_at, Ticket.ended_at)
        .where(Ticket.service == service, Ticket.state == Ticket.DONE, Ticket.serving_at.is_null(False))
        .order_by(Ticket.ended_at.desc())
        .limit(policy.estimate_window)
    )
    durations = [(t.ended_at - t.serving_at).total_seconds() for t in recent]
    if not durations:
        return policy.default_service_minutes
    return max(sum(durations) / len(durations) / 60.0, 0.5)


def open_counters(service):
    return (
        Counter.select()
        .join(CounterService)
        .where(CounterService.service == service, Counter.officer.is_null(False))
        .count()
    )


def estimate_wait_minutes(policy, service, ahead):
    """Minutes until someone with ``ahead`` people in front of them is called."""
    counters = max(open_counters(service), 1)
    return round(ahead * average_service_minutes(policy, service) / counters)


def waiting_ahead(ticket):
    return (
        Ticket.select()
        .where(
            Ticket.day == ticket.day,
            Ticket.state == Ticket.ISSUED,
            Ticket.service == ticket.service_id,
            Ticket.queued_at < ticket.queued_at,
        )
        .count()
    )


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
        rows.append({
            "code": service.code,
            "name": service.name,
            "prefix": service.prefix,
            "waiting": waiting,
            "open_counters": open_counters(service),
            "estimated_wait_min": estimate_wait_minutes(policy, service, waiting),
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
