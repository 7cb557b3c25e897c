"""Working days and office hours: when a dossier is due.

Vietnam's public holidays (Tết and Hùng Kings day follow the lunar calendar, days off moved
by government decision, compensatory working Saturdays) come from the ``holidays`` package;
the hub adds extra days off and extra working days (the ``Holiday`` table). Times here are
the office's local wall-clock times (naive datetimes).
"""
import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta


@functools.cache
def _vietnam():
    """Vietnam's holidays, one object a process: made anew for every calendar, it cost 0.26 ms of
    CPU and worked out the year's lunar holidays again, on every ticket a kiosk issued (the office
    calendar says whether it is open). It fills in a year the first time that year is asked for."""
    import holidays  # ~9 MB: loaded by the processes that compute due dates only

    return holidays.Vietnam()


DEFAULT_HOURS = ((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0)))


def parse_hours(text):
    """``07:00-11:30,13:30-17:00`` -> office periods."""
    periods = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        start, _, end = part.partition("-")
        periods.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
    if not periods or any(a >= b for a, b in periods) or periods != sorted(periods):
        raise ValueError(f"office hours must be increasing periods like 07:00-11:30,13:30-17:00: {text!r}")
    return tuple(periods)


@dataclass
class WorkCalendar:
    days_off: frozenset = frozenset()  # extra days off decided above the commune
    working_days: frozenset = frozenset()  # extra working days (e.g. a swapped Saturday)
    hours: tuple = DEFAULT_HOURS
    _national: object = field(default_factory=_vietnam, repr=False)

    def is_working_day(self, day):
        if day in self.working_days:
            return True
        if day in self.days_off:
            return False
        return self._national.is_working_day(day)

    def next_working_day(self, day):
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def opening(self, day):
        return datetime.combine(day, self.hours[0][0])

    def closing(self, day):
        return datetime.combine(day, self.hours[-1][1])

    def effective_receipt_day(self, received):
        """The working day a receipt counts on: after closing or on a day off, the next one."""
        day = received.date()
        if not self.is_working_day(day) or received > self.closing(day):
            return self.next_working_day(day)
        return day

    def due_in_days(self, received, days, paused=()):
        """Closing time of the ``days``-th working day after the day of receipt (not counted),
        extended by the working days spent waiting for the citizen (``paused``: (from, to))."""
        start = self.closing(self.effective_receipt_day(received))
        return self.add_working_days(start, days + self.paused_working_days(paused))

    def due_in_calendar_days(self, received, days, paused=()):
        """A limit in calendar days ("15 ngày"): closing time of the ``days``-th day after the day of
        receipt, moved to the next working day when it falls on a day off; paused days added."""
        start = self.effective_receipt_day(received)
        waited = sum(((b.date() - a.date()).days for a, b in paused), 0)
        day = start + timedelta(days=days + waited)
        if not self.is_working_day(day):
            day = self.next_working_day(day)
        return self.closing(day)

    def due_in_months(self, received, months, paused=()):
        """A limit in months ("01 tháng"): the same day ``months`` later (or the month's last day),
        then as for calendar days."""
        start = self.effective_receipt_day(received)
        month = start.month - 1 + months
        year, month = start.year + month // 12, month % 12 + 1
        last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
        target = date(year, month, min(start.day, last))
        return self.due_in_calendar_days(datetime.combine(target, self.hours[0][0]), 0, paused)

    def add_working_days(self, moment, days):
        """The same time of day, ``days`` working days later."""
        day = moment.date()
        for _ in range(days):
            day = self.next_working_day(day)
        return datetime.combine(day, moment.time())

    def paused_working_days(self, paused):
        """Working days the clock stood still: those after a supplement request's day, up to
        and including the day the dossier came back complete."""
        total = 0
        for start, end in paused:
            day = start.date()
            while day < end.date():
                day += timedelta(days=1)
                total += self.is_working_day(day)
        return total

    def due_in_hours(self, received, hours, paused=()):
        """The moment ``hours`` working hours after receipt, counting office hours only."""
        remaining = timedelta(hours=hours) + sum((self.working_time(a, b) for a, b in paused), timedelta())
        moment = received
        while True:
            for start, end in self._periods_from(moment):
                length = end - start
                if remaining <= length:
                    return start + remaining
                remaining -= length
                moment = end

    def working_time(self, start, end):
        """Office time between two moments."""
        total = timedelta()
        for a, b in self._periods_from(start):
            if a >= end:
                return total
            total += min(b, end) - a

    def _periods_from(self, moment):
        """Office periods from ``moment`` on, the first one cut at ``moment``; endless."""
        day = moment.date()
        while True:
            if self.is_working_day(day):
                for open_at, close_at in self.hours:
                    start, end = datetime.combine(day, open_at), datetime.combine(day, close_at)
                    if end > moment:
                        yield max(start, moment), end
            day += timedelta(days=1)


def timeliness(due, finished):
    """early / on_time / late, as the national portal counts them (before the due day: early)."""
    if finished > due:
        return "late"
    if finished.date() < due.date():
        return "early"
    return "on_time"


def calendar_from(rows, hours=DEFAULT_HOURS):
    """A calendar with the hub's extra days: ``rows`` of (day 'YYYY-MM-DD', kind 'off'|'working')."""
    rows = list(rows)  # read once (a query read twice runs twice)
    off = frozenset(date.fromisoformat(d) for d, kind in rows if kind == "off")
    working = frozenset(date.fromisoformat(d) for d, kind in rows if kind == "working")
    return WorkCalendar(days_off=off, working_days=working, hours=hours)


@functools.lru_cache(maxsize=16)
def shared_calendar(rows, hours=DEFAULT_HOURS):
    """``calendar_from`` for a tuple of rows, made once for the same rows and hours and shared (not
    to be changed): the kiosk asks the calendar whether it may issue on every ticket."""
    return calendar_from(rows, hours)
