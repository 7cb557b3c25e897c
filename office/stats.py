"""Statistics of dossiers for a period (thống kê hồ sơ): received, resolved, on time, overdue.

Every figure counts the dossiers **received in the period** (a cohort): of those, how many are
resolved (finished, whether returned yet or not), still open, early / on time / late, and open
past their due date at ``now``. Times are the office's local wall-clock times, as dossiers hold
them; ``now`` is local too. Aggregation happens in SQL (one GROUP BY with CASE sums on an indexed
range of ``received_at``), so a year of a hundred communes stays well under a second.

Filters: commune (GSO code), field (lĩnh vực, from the catalog), procedure code, agency code.
Queue and satisfaction figures are in ``office.stats_queue``; the period and tables in
``office.stats_period``.
"""
from datetime import datetime, timedelta

from peewee import JOIN, SQL, Case, PostgresqlDatabase, fn

from .catalog import Procedure
from .db import database
from .dossiers import IN_HAND, Dossier
from .models import Office, Rating
from .stats_period import Column, Filters, Period, Table, parse_period  # noqa: F401  (callers import them here)

NO_FIELD = "(Chưa phân lĩnh vực)"
GROUPS = {
    "month": "Tháng", "day": "Ngày", "commune": "Xã/phường", "field": "Lĩnh vực", "procedure": "Thủ tục",
    "stage": "Bước xử lý", "handler": "Người xử lý", "agency": "Cơ quan",
}
SUMMARY_COLUMNS = (
    Column("received", "Tiếp nhận", "int"),
    Column("resolved", "Đã giải quyết", "int"),
    Column("early", "Trước hạn", "int"),
    Column("on_time", "Đúng hạn", "int"),
    Column("late", "Quá hạn (đã xong)", "int"),
    Column("pending", "Đang giải quyết", "int"),
    Column("overdue_open", "Đang quá hạn", "int"),
    Column("other", "Từ chối/rút/dừng", "int"),
    Column("on_time_pct", "Tỉ lệ đúng hạn (%)", "pct"),
)
COUNTS = tuple(c.key for c in SUMMARY_COLUMNS[:-1])


def is_postgres():
    return isinstance(database.obj, PostgresqlDatabase)


def _count(condition):
    return fn.COUNT(SQL("*")).filter(condition)


def _open():
    return Dossier.status.in_(IN_HAND)


def _overdue_open(now):
    return _open() & (Dossier.due_at < now)


def _late_or_overdue(now):
    return (Dossier.timeliness == "late") | _overdue_open(now)


def fields_of_procedures():
    """{procedure code: field} from the catalog (the hub's rows for every commune first)."""
    fields = {}
    for code, field, commune in Procedure.select(Procedure.code, Procedure.field, Procedure.commune).tuples():
        if commune == "*" or code not in fields:
            fields[code] = field or ""
    return fields


def dossier_filter(query, period, filters):
    start, end = period.bounds()
    # a dossier submitted online counts once the commune accepted it (status 1: not received yet)
    query = query.where(Dossier.received_at >= start, Dossier.received_at < end, Dossier.status != 1)
    if filters.commune:  # what it received, and what it decides for the commune that received it
        query = query.where((Dossier.commune == filters.commune) | (Dossier.decided_by == filters.commune))
    if filters.procedure:
        query = query.where(Dossier.procedure_code == filters.procedure)
    if filters.agency:
        query = query.where(Dossier.agency == filters.agency)
    if filters.field:
        codes = [c for c, f in fields_of_procedures().items() if (f or NO_FIELD) == filters.field]
        query = query.where(Dossier.procedure_code.in_(codes or ["-"]))
    return query


def _group_key(by):
    return {"commune": Dossier.commune, "procedure": Dossier.procedure_code, "field": Dossier.procedure_code,
            "stage": Dossier.stage, "handler": Dossier.handler, "agency": Dossier.agency}[by]


def commune_names():
    from .communes import find_commune

    names = {o.commune: o.name for o in Office.select(Office.commune, Office.name)}

    def name(code):
        if code in names:
            return names[code]
        found = find_commune(code)
        return found.full_name if found else code

    return name


def every_commune(filters):
    """The communes a per-commune table lists, those without a dossier or a ticket included (an
    office that received nothing must show as 0, not vanish): the offices known here, or the
    commune the filter names."""
    if filters.commune:
        return [filters.commune]
    return [c for (c,) in Office.select(Office.commune).where(Office.commune != "*").tuples()]


def _label_function(by):
    if by == "commune":
        return commune_names()
    if by == "procedure":
        names = dict(Procedure.select(Procedure.code, Procedure.name).tuples())
        return lambda code: f"{code} – {names[code]}" if code in names else code
    if by in ("day", "month"):
        return lambda key: "-".join(reversed(key.split("-"))).replace("-", "/")
    return lambda key: key or "(trống)"


def _with_pct(counts):
    resolved = counts["resolved"]
    pct = round(100 * (counts["early"] + counts["on_time"]) / resolved, 1) if resolved else None
    return {**counts, "on_time_pct": pct}


def communes_with_dossiers():
    """The communes that have dossiers, by one index seek each (SQLite has no skip scan)."""
    cursor = database.execute_sql(
        "WITH RECURSIVE c(x) AS (SELECT min(commune) FROM dossier UNION ALL "
        "SELECT (SELECT min(commune) FROM dossier WHERE commune > x) FROM c WHERE x IS NOT NULL) "
        "SELECT x FROM c WHERE x IS NOT NULL")
    return [row[0] for row in cursor.fetchall()]


def _decider():
    """The commune whose office decides the dossier: another one when received there for it (phi
    địa giới), else the one that received it."""
    return Case(None, [(Dossier.decided_by != "", Dossier.decided_by)], Dossier.commune)


def _tallies(now, commune=None, resolved_by=None):
    """Received, early, on time, late, open, open past due: COUNT(*) FILTER (WHERE ...), which
    both databases evaluate faster than SUM(CASE ...). A dossier counts as received where it was
    received and as resolved (or pending) where it is decided: with ``commune``, for that commune;
    ``resolved_by``: an extra condition on the resolution counts."""
    received = _count(Dossier.commune == commune) if commune else fn.COUNT(SQL("*"))
    mine = (_decider() == commune) if commune else resolved_by

    def count(condition):
        return _count(condition & mine) if mine is not None else _count(condition)

    return (received, count(Dossier.timeliness == "early"), count(Dossier.timeliness == "on_time"),
            count(Dossier.timeliness == "late"), count(_open()), count(_overdue_open(now)))


def _counts(numbers):
    received, early, on_time, late, pending, overdue_open = (int(n or 0) for n in numbers)
    resolved = early + on_time + late  # a finished dossier always has its timeliness
    # "other" (refused, withdrawn, stopped): received here and neither resolved nor pending here; a
    # commune deciding for another (phi địa giới) resolves what it did not receive
    return {"received": received, "resolved": resolved, "early": early, "on_time": on_time, "late": late,
            "pending": pending, "overdue_open": overdue_open, "other": max(received - resolved - pending, 0)}


def _buckets(period, by):
    """(key, sub-period) of each day or month of ``period``."""
    day = period.start
    while day <= period.end:
        if by == "day":
            yield day.isoformat(), Period.between(day, day)
            day += timedelta(days=1)
        else:
            last = min(Period.month(day.year, day.month).end, period.end)
            yield f"{day:%Y-%m}", Period.between(day, last)
            day = last + timedelta(days=1)


def _grouped(period, filters, by, now):
    """{key: tallies}: one aggregate per day or month (each an index range, nothing to sort), or
    one GROUP BY; per commune on SQLite the communes are listed, so rows come in index order."""
    if by in ("day", "month"):
        groups = {}
        for key, part in _buckets(period, by):
            numbers = dossier_filter(Dossier.select(*_tallies(now, filters.commune)), part, filters).tuples().get()
            if any(numbers):
                groups[key] = numbers
        return groups
    key = _group_key(by)
    if by == "commune" and not filters.commune:
        return _grouped_by_commune(period, filters, now)
    if by == "commune":  # one commune: what it received and what it decides for others
        numbers = dossier_filter(Dossier.select(*_tallies(now, filters.commune)), period, filters).tuples().get()
        return {filters.commune: numbers} if any(numbers) else {}
    query = dossier_filter(Dossier.select(key, *_tallies(now, filters.commune)), period, filters).group_by(key)
    return {key_value: numbers for key_value, *numbers in query.tuples()}


def _grouped_by_commune(period, filters, now):
    """Per commune: received where received, resolved where decided (phi địa giới moves the second)."""
    query = dossier_filter(Dossier.select(Dossier.commune, *_tallies(now, resolved_by=Dossier.decided_by == "")),
                           period, filters).group_by(Dossier.commune)
    if not is_postgres():
        query = query.where(Dossier.commune.in_(communes_with_dossiers()))
    groups = {key: list(numbers) for key, *numbers in query.tuples()}
    # ``> ""`` (the same rows as ``!= ""``) lets SQLite seek the few routed dossiers in their index
    routed = dossier_filter(Dossier.select(Dossier.decided_by, *_tallies(now)), period, filters).where(
        Dossier.decided_by > "").group_by(Dossier.decided_by)
    for decider, _received, *resolution in routed.tuples():
        numbers = groups.setdefault(decider, [0] * 6)
        for i, n in enumerate(resolution, start=1):
            numbers[i] = int(numbers[i] or 0) + int(n or 0)
    return groups


def summary(period, filters=Filters(), by="commune", now=None):
    """Dossiers received in ``period`` grouped by ``by`` (month, day, commune, field, procedure,
    stage, handler, agency), with a total row last."""
    now = now or datetime.now()
    if by not in GROUPS:
        raise ValueError(f"unknown grouping {by!r}")
    groups = {k: _counts(numbers) for k, numbers in _grouped(period, filters, by, now).items()}
    if by == "commune" and not (filters.field or filters.procedure or filters.agency):
        for commune in every_commune(filters):
            groups.setdefault(commune, _counts((0,) * 6))
    if by == "field":
        fields = fields_of_procedures()
        merged = {}
        for code, counts in groups.items():
            name = fields.get(code) or NO_FIELD
            merged[name] = {k: merged.get(name, {}).get(k, 0) + v for k, v in counts.items()}
        groups = merged
    label = (lambda k: k) if by == "field" else _label_function(by)
    order = (lambda k: (k is None, label(k) or "", str(k))) if by == "commune" else (lambda k: (k is None, str(k)))
    rows = [{"key": k, "label": label(k), **_with_pct(groups[k])} for k in sorted(groups, key=order)]
    total = {k: sum(r[k] for r in rows) for k in COUNTS}
    return Table(
        name="summary", title=f"Tình hình giải quyết hồ sơ theo {GROUPS[by].lower()}", period=period,
        columns=(Column("label", GROUPS[by], "text", 28),) + SUMMARY_COLUMNS, rows=rows,
        total={"key": None, "label": "Tổng cộng", **_with_pct(total)},
        note="Tính trên các hồ sơ tiếp nhận trong kỳ; “đang quá hạn”: chưa xong và đã quá hẹn trả "
             f"tại thời điểm {now:%H:%M %d/%m/%Y}.",
    )


# ---- overdue dossiers, one row each ----------------------------------------------------------------

OVERDUE_COLUMNS = (
    Column("code", "Mã hồ sơ", "text", 26),
    Column("commune", "Xã/phường", "text", 24),
    Column("procedure", "Thủ tục", "text", 36),
    Column("stage", "Bước xử lý", "text", 20),
    Column("handler", "Người xử lý", "text", 20),
    Column("received_at", "Ngày tiếp nhận", "datetime"),
    Column("due_at", "Hạn trả", "datetime"),
    Column("finished_at", "Ngày xong", "datetime"),
    Column("state", "Tình trạng", "text", 16),
    Column("days_late", "Số ngày trễ (ngày làm việc)", "int"),
)


class WorkingDays:
    """Working days between two days in O(1) after one pass over the span (holidays included)."""

    def __init__(self, calendar):
        self.calendar = calendar
        self.first = None
        self.prefix = []

    def _cover(self, first, last):
        if self.first is not None and first >= self.first and (last - self.first).days < len(self.prefix):
            return
        first = min(first, self.first or first)
        last = max(last, (self.first + timedelta(days=len(self.prefix) - 1)) if self.prefix else last)
        self.first, self.prefix, total = first, [], 0
        for offset in range((last - first).days + 1):
            total += self.calendar.is_working_day(first + timedelta(days=offset))
            self.prefix.append(total)

    def late(self, due, moment):
        """Working days after ``due``'s day up to ``moment``'s day; a few hours late the same day is 0."""
        if moment <= due:
            return 0
        start, end = due.date(), moment.date()
        self._cover(start, end)
        return self.prefix[(end - self.first).days] - self.prefix[(start - self.first).days]


def _seconds_between(start, end):
    if is_postgres():
        return fn.date_part("epoch", end - start)
    return (fn.julianday(end) - fn.julianday(start)) * 86400


def overdue(period, filters=Filters(), now=None, calendar=None, limit=None):
    """Dossiers received in ``period`` that finished late or are open past due at ``now``, the
    latest first. ``rows`` is a generator (streams to an export); ``limit`` caps it for a page."""
    from .calendar import WorkCalendar

    now = now or datetime.now()
    days = WorkingDays(calendar or WorkCalendar())
    lateness = _seconds_between(Dossier.due_at, fn.COALESCE(Dossier.finished_at, now))
    query = dossier_filter(Dossier.select(
        Dossier.code, Dossier.commune, Dossier.procedure_code, Dossier.procedure_name, Dossier.stage,
        Dossier.handler, Dossier.received_at, Dossier.due_at, Dossier.finished_at, Dossier.status,
    ), period, filters).where(_late_or_overdue(now)).order_by(lateness.desc(), Dossier.code)
    if limit:
        query = query.limit(limit)
    names = commune_names()

    def rows():
        for code, commune, pcode, pname, stage, handler, received, due, finished, status in query.tuples().iterator():
            yield {"code": code, "commune": names(commune), "procedure": f"{pcode} – {pname}", "stage": stage,
                   "handler": handler, "received_at": received, "due_at": due, "finished_at": finished,
                   "state": "Đã xong, trễ hạn" if finished else "Đang quá hạn",
                   "days_late": days.late(due, finished or now)}

    return Table(
        name="overdue", title="Hồ sơ trễ hạn", period=period, columns=OVERDUE_COLUMNS, rows=rows(),
        note="Số ngày trễ tính theo ngày làm việc (trừ thứ Bảy, Chủ nhật và ngày nghỉ lễ), từ ngày hẹn trả "
             f"đến ngày xong hoặc đến {now:%d/%m/%Y} nếu chưa xong; sắp xếp theo thời gian trễ giảm dần.",
    )


def overdue_count(period, filters=Filters(), now=None):
    """How many dossiers ``overdue`` lists (for an export's progress)."""
    now = now or datetime.now()
    return dossier_filter(Dossier.select(fn.COUNT(SQL("*"))), period, filters).where(_late_or_overdue(now)).scalar()


def lateness_by_handler(period, filters=Filters(), now=None):
    """Per handler: dossiers finished late and dossiers open past due (received in ``period``)."""
    now = now or datetime.now()
    query = dossier_filter(Dossier.select(
        Dossier.commune, Dossier.handler, _count(Dossier.timeliness == "late"), _count(_overdue_open(now)),
        fn.COUNT(SQL("*")),
    ), period, filters).where(_late_or_overdue(now)).group_by(Dossier.commune, Dossier.handler)
    names = commune_names()
    rows = [{"handler": handler or "(chưa giao)", "commune": names(commune), "late": int(late or 0),
             "overdue_open": int(open_ or 0), "total": int(total)}
            for commune, handler, late, open_, total in query.tuples()]
    rows.sort(key=lambda r: (-r["total"], r["commune"], r["handler"]))
    return Table(
        name="lateness", title="Hồ sơ trễ hạn theo người xử lý", period=period, rows=rows,
        columns=(Column("handler", "Người xử lý", "text", 24), Column("commune", "Xã/phường", "text", 24),
                 Column("late", "Đã xong nhưng trễ hạn", "int"), Column("overdue_open", "Đang quá hạn", "int"),
                 Column("total", "Tổng số trễ hạn", "int")),
        total={"handler": "Tổng cộng", "commune": "", **{k: sum(r[k] for r in rows) for k in
                                                          ("late", "overdue_open", "total")}},
        note="Người xử lý là người đang giữ hồ sơ (bước hiện tại).",
    )


# ---- Decision 766/QĐ-TTg: the components the data supports -------------------------------------

INDEX_COLUMNS = (
    Column("label", "Xã/phường", "text", 28),
    Column("dossiers", "Hồ sơ tiếp nhận", "int"),
    Column("resolved", "Đã giải quyết", "int"),
    Column("on_time", "Giải quyết đúng, trước hạn", "int"),
    Column("on_time_ratio", "Tỉ lệ đúng hạn (%)", "pct"),
    Column("dissatisfied", "Hồ sơ bị đánh giá chưa hài lòng", "int"),
    Column("late", "Hồ sơ trễ hạn", "int"),
    Column("deducted", "Hồ sơ bị trừ điểm", "int"),
    Column("satisfaction_index", "Chỉ số hài lòng (%)", "pct"),
)


def _index_numbers(row):
    dossiers, resolved, on_time, late, dissatisfied, both = row
    deducted = dissatisfied + late - both
    return {
        "dossiers": dossiers, "resolved": resolved, "on_time": on_time,
        "on_time_ratio": round(100 * on_time / resolved, 1) if resolved else None,
        "dissatisfied": dissatisfied, "late": late, "deducted": deducted,
        "satisfaction_index": round(100 * (dossiers - deducted) / dossiers, 1) if dossiers else None,
    }


def index766(period, filters=Filters(), now=None):
    """Per commune and in total: on-time ratio (finished early or on time ÷ finished) and the
    satisfaction index (dossiers − dossiers rated dissatisfied or late) ÷ dossiers × 100, each
    dossier deducted once. A dossier is rated through the queue ticket it came from."""
    now = now or datetime.now()
    late = _late_or_overdue(now)
    base = dossier_filter(Dossier.select(
        Dossier.commune, fn.COUNT(SQL("*")), _count(Dossier.timeliness != ""),
        _count(Dossier.timeliness.in_(("early", "on_time"))), _count(late),
    ), period, filters).group_by(Dossier.commune)
    counts = {commune: [int(n or 0) for n in numbers] + [0, 0] for commune, *numbers in base.tuples()}
    # from the few dissatisfied ratings to their dossiers (CROSS JOIN keeps that order on SQLite,
    # whose planner would otherwise walk every dossier of the period looking for a rating)
    rated = dossier_filter(
        Rating.select(Dossier.commune, fn.COUNT(SQL("*")), _count(late)).join(Dossier, JOIN.CROSS)
        .where(Rating.score == Rating.DISSATISFIED, Dossier.ticket == Rating.ticket),
        period, filters).group_by(Dossier.commune)
    for commune, dissatisfied, both in rated.tuples():
        counts[commune][4:6] = [int(dissatisfied), int(both or 0)]
    names = commune_names()
    rows = [{"key": c, "label": names(c), **_index_numbers(n)} for c, n in sorted(counts.items())]
    total = [sum(n[i] for n in counts.values()) for i in range(6)]
    return Table(
        name="index766", title="Chỉ số phục vụ (Quyết định 766/QĐ-TTg)", period=period, columns=INDEX_COLUMNS,
        rows=rows, total={"key": None, "label": "Tổng cộng", **_index_numbers(total)},
        note="Theo các thành phần của Bộ chỉ số 766 mà dữ liệu hộp một cửa có: tỉ lệ giải quyết đúng hạn = "
             "hồ sơ xong trước hạn hoặc đúng hạn ÷ hồ sơ đã giải quyết; chỉ số hài lòng = (hồ sơ − hồ sơ bị "
             "đánh giá chưa hài lòng − hồ sơ trễ hạn) ÷ hồ sơ × 100, mỗi hồ sơ chỉ bị trừ một lần. Hồ sơ "
             "trễ hạn gồm hồ sơ đã xong quá hạn và hồ sơ đang quá hạn. Phản ánh, kiến nghị chưa được ghi "
             "nhận trên hệ thống nên chưa trừ vào chỉ số.",
    )
