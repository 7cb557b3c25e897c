"""Statistics of field reports (phản ánh) per commune for a period: received, still open, past a
target (acknowledge or answer), answered, answered on time (by the category's answer target)."""
from datetime import datetime, time, timedelta

from .reports import FieldReport, report_counts
from .stats import commune_names, every_commune
from .stats_period import Column, Filters, Table

REPORT_COLUMNS = (
    Column("total", "Phản ánh nhận", "int"),
    Column("open", "Chưa trả lời", "int"),
    Column("overdue", "Đang quá hạn", "int"),
    Column("answered", "Đã trả lời", "int"),
    Column("on_time", "Trả lời đúng hạn", "int"),
    Column("on_time_pct", "Tỉ lệ đúng hạn (%)", "pct"),
)


def _pct(part, whole):
    return round(100 * part / whole, 1) if whole else None


def report_stats(period, filters=Filters(), now=None):
    start = datetime.combine(period.start, time.min)
    end = datetime.combine(period.end + timedelta(days=1), time.min)
    query = FieldReport.select().where(FieldReport.created_at >= start, FieldReport.created_at < end)
    counts = report_counts(now or datetime.now(), filters.commune, query)
    name = commune_names()
    empty = {"total": 0, "open": 0, "overdue": 0, "answered": 0, "on_time": 0}
    rows = []
    for commune in sorted(set(every_commune(filters)) | set(counts)):
        tally = dict(counts.get(commune, empty))
        rows.append({"key": commune, "label": name(commune), **tally,
                     "on_time_pct": _pct(tally["on_time"], tally["answered"])})
    rows.sort(key=lambda r: r["label"] or "")
    total = {k: sum(r[k] for r in rows) for k in empty}
    return Table(
        name="reports", title="Phản ánh, kiến nghị theo xã/phường", period=period,
        columns=(Column("label", "Xã/phường", "text", 28),) + REPORT_COLUMNS, rows=rows,
        total={"key": None, "label": "Tổng cộng", **total, "on_time_pct": _pct(total["on_time"], total["answered"])},
        note="Phản ánh nhận trong kỳ. Quá hạn: chưa tiếp nhận sau số giờ làm việc, hoặc chưa trả lời sau số ngày "
             "làm việc quy định cho lĩnh vực. Đúng hạn: trả lời trước hạn trả lời.",
    )
