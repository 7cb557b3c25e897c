"""Statistics of the queue and of citizens' ratings for a period (office-local days).

Waiting time runs from issuing the ticket to its call, service time from the start of service
to its end (seconds). The 90th percentile is PostgreSQL's ``percentile_cont(0.9)`` (linear
between the two nearest ranks), computed with every other figure in one GROUPING SETS pass.
SQLite would sort the rows for every GROUP BY and percentile: there one pass reads the needed
columns and the same arithmetic is done here (``p90``). At the hub (SQLite or PostgreSQL) the
values come from the rollup of ``office.stats_rollup`` (months and days rolled up, the rest from
the tickets) and the same arithmetic.
"""
import math
from array import array

from peewee import SQL, fn

from . import stats_rollup
from .db import database
from .models import Counter, Officer, Rating, Service, Ticket
from .stats import commune_names, every_commune, is_postgres
from .stats_period import Column, Filters, Table
from .stats_rollup import ticket_seconds

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
QUEUE_GROUPS = {"service": "Dịch vụ", "counter": "Quầy", "officer": "Cán bộ", "commune": "Xã/phường"}
RATING_GROUPS = {"officer": "Cán bộ", "commune": "Xã/phường", "counter": "Quầy"}
QUEUE_COLUMNS = (
    Column("tickets", "Số thứ tự đã cấp", "int"),
    Column("called", "Đã gọi", "int"),
    Column("no_show", "Vắng mặt", "int"),
    Column("no_show_pct", "Tỉ lệ vắng mặt (%)", "pct"),
    Column("wait_avg", "Chờ trung bình (phút)", "minutes"),
    Column("wait_p90", "Chờ P90 (phút)", "minutes"),
    Column("service_avg", "Phục vụ trung bình (phút)", "minutes"),
    Column("service_p90", "Phục vụ P90 (phút)", "minutes"),
)
RATING_COLUMNS = (
    Column("very", "Rất hài lòng", "int"),
    Column("satisfied", "Hài lòng", "int"),
    Column("dissatisfied", "Chưa hài lòng", "int"),
    Column("total", "Số lượt đánh giá", "int"),
    Column("satisfied_pct", "Tỉ lệ hài lòng (%)", "pct"),
)


def _ticket_filter(query, period, filters):
    first, last = period.days()
    query = query.where(Ticket.day >= first, Ticket.day <= last)
    if filters.commune:
        query = query.where(Ticket.commune == filters.commune)
    return query


def _queue_key(by):
    if by == "service":
        return Service.code
    return {"counter": Ticket.counter, "officer": Ticket.officer, "commune": Ticket.commune}[by]


def _ticket_select(by, *columns):
    query = Ticket.select(_queue_key(by).alias("k"), *columns)
    if by == "service":
        query = query.join(Service, on=(Service.id == Ticket.service))
    return query


def p90(values, is_sorted=False):
    """The 90th percentile as ``percentile_cont(0.9)``: linear between the two nearest ranks."""
    if not values:
        return None
    if not is_sorted:
        values = sorted(values)
    position = 0.9 * (len(values) - 1)
    low = int(position)
    upper = values[min(low + 1, len(values) - 1)]
    return values[low] + (upper - values[low]) * (position - low)


def _minutes(seconds):
    return None if seconds is None else round(float(seconds) / 60, 1)


def _labels(by, scoped):
    names = commune_names()
    if by == "service":
        services = {}
        for code, name in Service.select(Service.code, Service.name).tuples():
            services.setdefault(code, name)
        return lambda key: services.get(key, key)
    if by == "commune":
        return names
    if by == "counter":
        rows = {c.id: (c.label, c.commune) for c in Counter.select()}
    else:
        rows = {o.id: (o.full_name, o.commune) for o in Officer.select(Officer.id, Officer.full_name, Officer.commune)}

    def label(key):
        if key not in rows:
            return "(không rõ)"
        name, commune = rows[key]
        return name if scoped else f"{name} – {names(commune)}"

    return label


def _queue_groups_sql(by, period, filters):
    """PostgreSQL: every figure of every group and of the total in one pass (GROUPING SETS)."""
    inner = _ticket_filter(_ticket_select(by, Ticket.state.alias("st"),
                                          ticket_seconds(Ticket.issued_at, Ticket.called_at).alias("w"),
                                          ticket_seconds(Ticket.serving_at, Ticket.ended_at).alias("sv")), period, filters)
    sql, params = inner.sql()
    cursor = database.execute_sql(
        "SELECT k, GROUPING(k), count(*), count(w), count(*) FILTER (WHERE st = %s), avg(w), "
        "percentile_cont(0.9) WITHIN GROUP (ORDER BY w), avg(sv), percentile_cont(0.9) WITHIN GROUP (ORDER BY sv) "
        f"FROM ({sql}) AS t GROUP BY GROUPING SETS ((k), ())", [Ticket.NO_SHOW, *params])
    groups, total = {}, (0, 0, 0, None, None, None, None)
    for key, is_total, *numbers in cursor.fetchall():
        numbers = tuple(float(n) if n is not None and not isinstance(n, int) else n for n in numbers)
        if is_total:
            total = numbers
        else:
            groups[key] = numbers
    return groups, total


def _queue_groups_fetched(by, period, filters):
    """SQLite, or the hub's rollup: it would sort every row for a GROUP BY and for each percentile;
    one pass over the needed columns (key, state, wait, service) and the arithmetic here is faster.
    With the rollup (``office.stats_rollup``), rolled-up months and days come from their rows and
    the days changed since (today, late pushes) from the tickets: the same values, the same sums."""
    tickets = _ticket_filter(stats_rollup.ticket_rows(Ticket.select), period, filters)
    if stats_rollup.installed():
        first, last = period.days()
        tallies = stats_rollup.tallies(by, first, last, tickets, filters.commune)
    else:
        tallies = stats_rollup.live_tallies(by, tickets)
    if by == "service":  # services of every commune, merged by code
        codes = dict(Service.select(Service.id, Service.code).tuples())
        merged = {}
        for key_value, tally in tallies.items():
            into = merged.setdefault(codes.get(key_value, key_value), [0, 0, array("d"), array("d")])
            into[0] += tally[0]
            into[1] += tally[1]
            into[2] += tally[2]
            into[3] += tally[3]
        tallies = merged
    groups = {}
    total_waits, total_services = [], []
    for key_value, (count, shows, waits, services) in tallies.items():
        waits, services = sorted(waits), sorted(services)
        total_waits += waits
        total_services += services
        groups[key_value] = (count, len(waits), shows, _mean(waits), p90(waits, True), _mean(services),
                             p90(services, True))
    total_waits.sort()  # runs already sorted: a merge
    total_services.sort()
    total = (sum(t[0] for t in tallies.values()), len(total_waits), sum(t[1] for t in tallies.values()),
             _mean(total_waits), p90(total_waits, True), _mean(total_services), p90(total_services, True))
    return groups, total


def _mean(values):
    """The exact mean (``fsum``: the same whatever order the values come in)."""
    return math.fsum(values) / len(values) if values else None


def queue_stats(period, filters=Filters(), by="service"):
    """Tickets per service (code), counter, officer or commune: counts, no-show rate, average and
    90th percentile of waiting and service time, with a total row."""
    if is_postgres() and not stats_rollup.installed():
        groups, total = _queue_groups_sql(by, period, filters)
    else:
        groups, total = _queue_groups_fetched(by, period, filters)
    label = _labels(by, bool(filters.commune))
    if by == "commune":
        groups = {**{c: (0,) + (None,) * 6 for c in every_commune(filters)}, **groups}
    rows = [{"key": key, "label": label(key), **_queue_numbers(*numbers)} for key, numbers in groups.items()]
    rows.sort(key=lambda r: (r["label"] or "", str(r["key"])))
    return Table(
        name="queue", title=f"Xếp hàng theo {QUEUE_GROUPS[by].lower()}", period=period,
        columns=(Column("label", QUEUE_GROUPS[by], "text", 28),) + QUEUE_COLUMNS, rows=rows,
        total={"key": None, "label": "Tổng cộng", **_queue_numbers(*total)},
        note="Thời gian chờ: từ lúc lấy số đến lúc được gọi; thời gian phục vụ: từ lúc bắt đầu đến lúc xong. "
             "P90: 90% lượt không quá thời gian này. Tỉ lệ vắng mặt = số thứ tự vắng mặt ÷ số thứ tự đã gọi.",
    )


def _queue_numbers(tickets, called, shows, wait_avg, wait_p90, service_avg, service_p90):
    called, shows = int(called or 0), int(shows or 0)
    return {"tickets": int(tickets or 0), "called": called, "no_show": shows,
            "no_show_pct": round(100 * shows / called, 1) if called else None,
            "wait_avg": _minutes(wait_avg), "wait_p90": _minutes(wait_p90),
            "service_avg": _minutes(service_avg), "service_p90": _minutes(service_p90)}


def _rating_numbers(very, satisfied, dissatisfied):
    very, satisfied, dissatisfied = int(very or 0), int(satisfied or 0), int(dissatisfied or 0)
    total = very + satisfied + dissatisfied
    return {"very": very, "satisfied": satisfied, "dissatisfied": dissatisfied, "total": total,
            "satisfied_pct": round(100 * (very + satisfied) / total, 1) if total else None}


def satisfaction(period, filters=Filters(), by="officer", tz_name=DEFAULT_TIMEZONE):
    """Ratings given in ``period`` (office-local days of ``tz_name``) per officer, counter or
    commune: counts per level and the share rated satisfied or very satisfied."""
    key = {"officer": Rating.officer, "counter": Rating.counter, "commune": Rating.commune}[by]

    def score(value):
        return fn.COUNT(SQL("*")).filter(Rating.score == value)

    start, end = period.utc_bounds(tz_name)
    query = Rating.select(key, score(3), score(2), score(1)).where(Rating.created_at >= start, Rating.created_at < end)
    if filters.commune:
        query = query.where(Rating.commune == filters.commune)
    query = query.group_by(key)
    label = _labels(by, bool(filters.commune))
    found = {k: numbers for k, *numbers in query.tuples()}
    if by == "commune":
        found = {**{c: (0, 0, 0) for c in every_commune(filters)}, **found}
    rows = [{"key": k, "label": label(k), **_rating_numbers(*numbers)} for k, numbers in found.items()]
    rows.sort(key=lambda r: (r["label"], str(r["key"])))
    total = _rating_numbers(*(sum(r[k] for r in rows) for k in ("very", "satisfied", "dissatisfied")))
    return Table(
        name="satisfaction", title=f"Mức độ hài lòng theo {RATING_GROUPS[by].lower()}", period=period,
        columns=(Column("label", RATING_GROUPS[by], "text", 28),) + RATING_COLUMNS, rows=rows,
        total={"key": None, "label": "Tổng cộng", **total},
        note="Đánh giá của người dân sau mỗi lượt phục vụ (màn hình hoặc bàn phím tại quầy), theo ngày đánh giá. "
             "Tỉ lệ hài lòng = (rất hài lòng + hài lòng) ÷ số lượt đánh giá.",
    )
