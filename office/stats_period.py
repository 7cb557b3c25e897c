"""Report periods (month, quarter, year, from–to: office-local dates, both ends included), the
filters of the statistics, and the tables they return (columns with Vietnamese headers)."""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from .errors import MotcuaError

QUARTERS = {1: "I", 2: "II", 3: "III", 4: "IV"}
MAX_DAYS = 5 * 366


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included
    kind: str = "custom"

    @classmethod
    def month(cls, year, month):
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(first, following - timedelta(days=1), "month")

    @classmethod
    def quarter(cls, year, quarter):
        first = date(year, 3 * quarter - 2, 1)
        last = Period.month(year, 3 * quarter).end
        return cls(first, last, "quarter")

    @classmethod
    def year(cls, year):
        return cls(date(year, 1, 1), date(year, 12, 31), "year")

    @classmethod
    def between(cls, start, end):
        return cls(start, end, "custom")

    def bounds(self):
        """[start, end) as local datetimes: midnight of the first day, midnight after the last."""
        return datetime.combine(self.start, time()), datetime.combine(self.end + timedelta(days=1), time())

    def utc_bounds(self, tz_name):
        """[start, end) in naive UTC, for rows stamped in UTC (ratings)."""
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(tz_name)
        return tuple(moment.replace(tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)
                     for moment in self.bounds())

    def days(self):
        """First and last day as ``YYYY-MM-DD`` (tickets keep their office-local day so)."""
        return self.start.isoformat(), self.end.isoformat()

    @property
    def label(self):
        if self.kind == "month":
            return f"Tháng {self.start:%m/%Y}"
        if self.kind == "quarter":
            return f"Quý {QUARTERS[(self.start.month + 2) // 3]} năm {self.start.year}"
        if self.kind == "year":
            return f"Năm {self.start.year}"
        return f"Từ ngày {self.start:%d/%m/%Y} đến ngày {self.end:%d/%m/%Y}"

    @property
    def slug(self):
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month + 2) // 3}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    def as_dict(self):
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "kind": self.kind, "label": self.label}


def _bad(message):
    return MotcuaError(message, status=400)


def _day(text, name):
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _bad(f"{name} “{text}” không hợp lệ: hãy nhập ngày theo dạng năm-tháng-ngày, "
                   "ví dụ 2026-03-31.") from None


def parse_period(values, today):
    """The period asked for by ``values`` (a mapping of the page's form): ``from``/``to``
    (YYYY-MM-DD), else ``quarter`` (YYYY-Q1..Q4), else ``month`` (YYYY-MM), else ``year``;
    nothing: the current month. A bad value raises a Vietnamese 400."""
    start, end = (values.get("from") or "").strip(), (values.get("to") or "").strip()
    if start or end:
        if not (start and end):
            raise _bad("Hãy nhập cả “từ ngày” và “đến ngày”.")
        first, last = _day(start, "Từ ngày"), _day(end, "Đến ngày")
        if first > last:
            raise _bad("“Từ ngày” phải trước hoặc bằng “đến ngày”.")
        if (last - first).days > MAX_DAYS:
            raise _bad("Khoảng thời gian dài quá 5 năm: hãy chọn khoảng ngắn hơn.")
        return Period.between(first, last)
    quarter = (values.get("quarter") or "").strip().upper()
    if quarter:
        year, _, number = quarter.partition("-Q")
        if not (year.isdigit() and len(year) == 4 and number in ("1", "2", "3", "4")):
            raise _bad(f"Quý “{quarter}” không hợp lệ: hãy chọn dạng 2026-Q1 (quý I đến quý IV).")
        return Period.quarter(int(year), int(number))
    month = (values.get("month") or "").strip()
    if month:
        year, _, number = month.partition("-")
        if not (year.isdigit() and len(year) == 4 and number.isdigit() and 1 <= int(number) <= 12):
            raise _bad(f"Tháng “{month}” không hợp lệ: hãy chọn dạng 2026-03.")
        return Period.month(int(year), int(number))
    year = (values.get("year") or "").strip()
    if year:
        if not (year.isdigit() and len(year) == 4 and int(year) >= 1900):
            raise _bad(f"Năm “{year}” không hợp lệ: hãy nhập 4 chữ số, ví dụ 2026.")
        return Period.year(int(year))
    return Period.month(today.year, today.month)


@dataclass(frozen=True)
class Filters:
    commune: str = ""  # GSO code
    field: str = ""  # lĩnh vực of the catalog
    procedure: str = ""  # procedure code
    agency: str = ""  # agency code holding the dossier


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # Vietnamese header
    kind: str = "text"  # text / int / pct / seconds / datetime
    width: int = 14  # characters, for the spreadsheet


@dataclass
class Table:
    """A statistics table: rows are dicts keyed by the columns' keys (``rows`` may be a generator)."""

    name: str
    title: str
    period: Period
    columns: tuple
    rows: object
    total: dict = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self):
        def value(column, row):
            v = row.get(column.key)
            return v.isoformat(sep=" ") if isinstance(v, datetime) else v

        def plain(row):
            return {c.key: value(c, row) for c in self.columns} | ({"key": row["key"]} if "key" in row else {})

        return {
            "table": self.name, "title": self.title, "period": self.period.as_dict(), "note": self.note,
            "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in self.columns],
            "rows": [plain(r) for r in self.rows], "total": plain(self.total) if self.total else None,
        }
