"""Statistics as Excel workbooks, streamed: rows go to the file as they come (``office.xlsx_stream``).

One sheet per table, Vietnamese headers in a bold frozen row, real dates (dd/mm/yyyy hh:mm)
and numbers, column widths set; a summary sheet first. ``periodic_report`` is the monthly or
quarterly workbook the leaders file: summary, per commune, per field, overdue dossiers,
satisfaction and the queue, each under title rows naming the unit and the period.

A workbook here is a ``Book``: what to write, written by ``save`` into a temporary file, with the
rows done reported on the way (``progress``) for the hub's background exports
(``central.export_jobs``). ``bench/export.py`` measured the writers on the same 100,000 rows.
"""
import re
import tempfile
from datetime import datetime

from . import stats, stats_queue
from .stats_period import Column, Filters
from .xlsx_stream import MAX_ROWS, Cell, Workbook, row_writer, style

DATE_FORMAT = "dd/mm/yyyy hh:mm"
NUMBER_FORMATS = {"int": "#,##0", "pct": "0.0", "minutes": "0.0", "datetime": DATE_FORMAT}
WRITER_KINDS = {"int": "number", "pct": "number", "minutes": "number", "datetime": "date"}
TAB = re.compile(r"[\[\]:*?/\\]")
PROGRESS_EVERY = 1000  # rows between two progress reports


class Progress:
    """Rows written so far; ``report(done)`` every ``PROGRESS_EVERY`` rows and at the end."""

    def __init__(self, report=None):
        self.report = report
        self.done = 0

    def step(self):
        self.done += 1
        if self.report is not None and self.done % PROGRESS_EVERY == 0:
            self.report(self.done)

    def finish(self):
        if self.report is not None:
            self.report(self.done)


class Book:
    """A workbook to make: ``write(workbook, progress)`` adds its sheets (see ``save``)."""

    def __init__(self, write):
        self.write = write


def _value(column, row):
    value = row.get(column.key)
    if column.kind in ("int", "pct", "minutes") and isinstance(value, str):
        return float(value)
    return value


def _sheet_name(name, taken):
    name = TAB.sub("-", name)[:31]
    base, number = name, 2
    while name in taken:
        suffix = f" ({number})"
        name, number = base[:31 - len(suffix)] + suffix, number + 1
    return name


def add_table_sheet(book, table, sheet_name, heading=(), progress=None, max_rows=MAX_ROWS):
    """A sheet for ``table``: the ``heading`` lines (unit, title, period), the header row (bold,
    frozen), then the rows as they come (a generator is never held whole) and the total row. A
    table longer than a sheet holds goes on in more sheets, each with the header row."""
    progress = progress or Progress()
    widths = [max(column.width if column.kind != "datetime" else max(column.width, 17),
                  min(len(column.label) + 2, 30)) for column in table.columns]
    formats = [NUMBER_FORMATS.get(c.kind) for c in table.columns]
    write = row_writer([WRITER_KINDS.get(c.kind, "text") for c in table.columns],
                       [style(number_format=f) for f in formats])
    keys = [(c.key, c.kind in ("int", "pct", "minutes")) for c in table.columns]
    header = [Cell(c.label, bold=True, wrap=True) for c in table.columns]

    def open_sheet(name):
        sheet = book.add_sheet(_sheet_name(name, book.sheets), widths, freeze_rows=len(heading) + 1)
        for number, line in enumerate(heading):
            sheet.append([Cell(line, bold=True, size=14 if number == 1 else 11)])
        sheet.append(header)
        return sheet

    sheet, count = open_sheet(sheet_name), 0
    last = max_rows - 3  # room for the total and the note
    for row in table.rows:
        if sheet.rows >= last:
            sheet = open_sheet(f"{sheet_name} (tiếp)")
        get = row.get
        write(sheet, [float(v) if numeric and isinstance(v, str) else v for v, numeric in
                      ((get(key), numeric) for key, numeric in keys)])
        count += 1
        progress.step()
    if table.total:
        sheet.append([Cell(_value(c, table.total), bold=True, number_format=f) for c, f in zip(table.columns, formats)])
    if table.note:
        sheet.append([])
        sheet.append([f"Ghi chú: {table.note}"])
    return count


def _heading(unit_name, title, period):
    return (unit_name, title, f"Kỳ báo cáo: {period.label}")


def _summary_sheet(book, unit_name, title, period, lines, now):
    sheet = book.add_sheet("Tổng hợp", widths=(46, 18))
    sheet.append([Cell(unit_name, bold=True)])
    sheet.append([Cell(title, bold=True, size=14)])
    sheet.append([f"Kỳ báo cáo: {period.label}"])
    sheet.append(["Từ ngày", Cell(datetime.combine(period.start, datetime.min.time()), number_format="dd/mm/yyyy")])
    sheet.append(["Đến ngày", Cell(datetime.combine(period.end, datetime.min.time()), number_format="dd/mm/yyyy")])
    sheet.append(["Lập lúc", Cell(now, number_format=DATE_FORMAT)])
    sheet.append([])
    sheet.append([Cell("Chỉ tiêu", bold=True), Cell("Giá trị", bold=True)])
    for label, value, kind in lines:
        sheet.append([label, Cell(value, number_format=NUMBER_FORMATS.get(kind)) if value is not None else "—"])


def _total_lines(table):
    if not table.total:
        return []
    return [(f"{table.title}: {c.label}", table.total.get(c.key), c.kind) for c in table.columns
            if c.kind in NUMBER_FORMATS and c.kind != "datetime"]


def save(book, progress=None):
    """The workbook in a temporary file (rewound), to stream as a download; ``progress(rows)``
    hears how many table rows are written as it goes."""
    out = tempfile.TemporaryFile()
    try:
        write_to(book, out, progress)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def write_to(book, file, progress=None):
    """Write ``book`` into ``file`` (a path or a binary file open for writing)."""
    counter = Progress(progress)
    with Workbook(file) as workbook:
        book.write(workbook, counter)
    counter.finish()
    return counter.done


def table_workbook(table, unit_name, now=None):
    """One table as a workbook: a summary sheet (its totals), then the table's sheet."""
    now = now or datetime.now()

    def write(workbook, progress):
        _summary_sheet(workbook, unit_name, table.title, table.period, _total_lines(table), now)
        add_table_sheet(workbook, table, table.title, _heading(unit_name, table.title, table.period), progress)

    return Book(write)


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

    def write(workbook, progress):
        _summary_sheet(workbook, unit_name, title, period, lines, now)
        for name, table in (("Theo xã, phường", by_commune), ("Theo lĩnh vực", by_field), ("Chỉ số 766", index),
                            ("Hồ sơ trễ hạn", overdue), ("Hài lòng", satisfaction), ("Xếp hàng", queue)):
            add_table_sheet(workbook, table, name, _heading(unit_name, table.title, period), progress)

    return Book(write)


def download_name(title, period):
    return f"{title} – {period.slug}.xlsx".replace("/", "-")


__all__ = ["Book", "Column", "add_table_sheet", "download_name", "periodic_report", "save", "table_workbook",
           "write_to"]
