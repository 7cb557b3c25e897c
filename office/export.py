"""Statistics as Excel workbooks (openpyxl, write-only: rows stream to disk as they come).

One sheet per table, Vietnamese headers in a bold frozen row, real dates (dd/mm/yyyy hh:mm)
and numbers, column widths set; a summary sheet first. ``periodic_report`` is the monthly or
quarterly workbook the leaders file: summary, per commune, per field, overdue dossiers,
satisfaction and the queue, each under title rows naming the unit and the period.
"""
import re
import tempfile
from datetime import datetime
from functools import cache

from . import stats, stats_queue
from .stats_period import Column, Filters

DATE_FORMAT = "dd/mm/yyyy hh:mm"
NUMBER_FORMATS = {"int": "#,##0", "pct": "0.0", "minutes": "0.0", "datetime": DATE_FORMAT}
# openpyxl (and Pillow under it) is imported by the first export, not by every process that
# imports this module: the box's web and worker stay lighter by ~10 MB and ~0.1-1 s of start.
BOLD = ("Font", (("bold", True),))
TITLE = ("Font", (("bold", True), ("size", 14)))
WRAP = ("Alignment", (("vertical", "top"), ("wrap_text", True)))
TAB = re.compile(r"[\[\]:*?/\\]")


@cache
def _style(spec):
    """An openpyxl style from one of the specs above (BOLD, TITLE, WRAP), made once."""
    from openpyxl import styles

    kind, values = spec
    return getattr(styles, kind)(**dict(values))


def _workbook():
    from openpyxl import Workbook

    return Workbook(write_only=True)


def _cell(sheet, value, font=None, number_format=None, alignment=None):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if font is not None:
        cell.font = _style(font)
    if number_format:
        cell.number_format = number_format
    if alignment is not None:
        cell.alignment = _style(alignment)
    return cell


def _value(column, row):
    value = row.get(column.key)
    if column.kind in ("int", "pct", "minutes") and isinstance(value, str):
        return float(value)
    return value


def add_table_sheet(book, table, sheet_name, heading=()):
    """A sheet for ``table``: the ``heading`` lines (unit, title, period), the header row (bold,
    frozen), then the rows as they come (a generator is never held whole) and the total row."""
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(TAB.sub("-", sheet_name)[:31])
    for index, column in enumerate(table.columns, start=1):
        width = column.width if column.kind != "datetime" else max(column.width, 17)
        sheet.column_dimensions[get_column_letter(index)].width = max(width, min(len(column.label) + 2, 30))
    header_row = len(heading) + 1
    sheet.freeze_panes = f"A{header_row + 1}"
    for number, line in enumerate(heading):
        sheet.append([_cell(sheet, line, TITLE if number == 1 else BOLD)])
    sheet.append([_cell(sheet, c.label, BOLD, alignment=WRAP) for c in table.columns])
    formats = [NUMBER_FORMATS.get(c.kind) for c in table.columns]
    count = 0
    for row in table.rows:
        sheet.append([_cell(sheet, _value(c, row), number_format=f) if f else _value(c, row)
                      for c, f in zip(table.columns, formats)])
        count += 1
    if table.total:
        sheet.append([_cell(sheet, _value(c, table.total), BOLD, f) for c, f in zip(table.columns, formats)])
    if table.note:
        sheet.append([])
        sheet.append([_cell(sheet, f"Ghi chú: {table.note}")])
    return count


def _heading(unit_name, title, period):
    return (unit_name, title, f"Kỳ báo cáo: {period.label}")


def _summary_sheet(book, unit_name, title, period, lines, now):
    sheet = book.create_sheet("Tổng hợp")
    sheet.column_dimensions["A"].width = 46
    sheet.column_dimensions["B"].width = 18
    sheet.append([_cell(sheet, unit_name, BOLD)])
    sheet.append([_cell(sheet, title, TITLE)])
    sheet.append([_cell(sheet, f"Kỳ báo cáo: {period.label}")])
    sheet.append([_cell(sheet, "Từ ngày"), _cell(sheet, datetime.combine(period.start, datetime.min.time()),
                                                    number_format="dd/mm/yyyy")])
    sheet.append([_cell(sheet, "Đến ngày"), _cell(sheet, datetime.combine(period.end, datetime.min.time()),
                                                     number_format="dd/mm/yyyy")])
    sheet.append([_cell(sheet, "Lập lúc"), _cell(sheet, now, number_format=DATE_FORMAT)])
    sheet.append([])
    sheet.append([_cell(sheet, "Chỉ tiêu", BOLD), _cell(sheet, "Giá trị", BOLD)])
    for label, value, kind in lines:
        sheet.append([label, _cell(sheet, value, number_format=NUMBER_FORMATS.get(kind)) if value is not None
                      else "—"])


def _total_lines(table):
    if not table.total:
        return []
    return [(f"{table.title}: {c.label}", table.total.get(c.key), c.kind) for c in table.columns
            if c.kind in NUMBER_FORMATS and c.kind != "datetime"]


def save(book):
    """The workbook in a temporary file (rewound), to stream as a download."""
    out = tempfile.TemporaryFile()
    book.save(out)
    out.seek(0)
    return out


def table_workbook(table, unit_name, now=None):
    """One table as a workbook: a summary sheet (its totals), then the table's sheet."""
    now = now or datetime.now()
    book = _workbook()
    _summary_sheet(book, unit_name, table.title, table.period, _total_lines(table), now)
    add_table_sheet(book, table, table.title, _heading(unit_name, table.title, table.period))
    return book


def periodic_report(period, filters=Filters(), unit_name="", now=None, calendar=None,
                    tz_name=stats_queue.DEFAULT_TIMEZONE):
    """The periodic report (monthly / quarterly) as a workbook the leaders can file."""
    now = now or datetime.now()
    by_commune = stats.summary(period, filters, "commune", now)
    by_field = stats.summary(period, filters, "field", now)
    index = stats.index766(period, filters, now)
    satisfaction = stats_queue.satisfaction(period, filters, "officer", tz_name)
    queue = stats_queue.queue_stats(period, filters, "service")
    overdue = stats.overdue(period, filters, now, calendar)
    title = f"Báo cáo tình hình giải quyết thủ tục hành chính – {period.label}"
    total = by_commune.total
    lines = [(c.label, total.get(c.key), c.kind) for c in stats.SUMMARY_COLUMNS]
    lines += [(c.label, index.total.get(c.key), c.kind) for c in stats.INDEX_COLUMNS
              if c.key in ("on_time_ratio", "dissatisfied", "satisfaction_index")]
    lines += [("Số lượt đánh giá", satisfaction.total["total"], "int"),
              ("Tỉ lệ hài lòng (%)", satisfaction.total["satisfied_pct"], "pct"),
              ("Số lượt lấy số thứ tự", queue.total["tickets"], "int"),
              ("Thời gian chờ trung bình (phút)", queue.total["wait_avg"], "minutes"),
              ("Tỉ lệ vắng mặt khi gọi (%)", queue.total["no_show_pct"], "pct")]
    book = _workbook()
    _summary_sheet(book, unit_name, title, period, lines, now)
    for name, table in (("Theo xã, phường", by_commune), ("Theo lĩnh vực", by_field), ("Chỉ số 766", index),
                        ("Hồ sơ trễ hạn", overdue), ("Hài lòng", satisfaction), ("Xếp hàng", queue)):
        add_table_sheet(book, table, name, _heading(unit_name, table.title, period))
    return book


def download_name(title, period):
    return f"{title} – {period.slug}.xlsx".replace("/", "-")


__all__ = ["Column", "add_table_sheet", "download_name", "periodic_report", "save", "table_workbook"]
