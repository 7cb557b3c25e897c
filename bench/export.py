"""Excel writers on the same rows: openpyxl (write-only), XlsxWriter (constant memory) and the
streaming writer the statistics use (``office.xlsx_stream`` through ``office.export``).

The rows have the shape of the overdue-dossier list (code, commune, procedure, stage, handler, three
dates, state, working days late), with Vietnamese text, built once in memory so only writing is timed.
Each writer makes the same sheet: title lines, a bold frozen header, the same number and date
formats, column widths. Every file is read back with openpyxl (row count, first and last row).
Then peak Python memory (tracemalloc) of each writer on ``--memory-rows`` rows.
Usage: .venv/bin/python bench/export.py [--rows 100000] [--memory-rows 20000] [--skip openpyxl]
Prints figures, asserts nothing. Target: 100,000 rows in < 8 s (the whole export, query included, is
timed in bench/stats.py).
"""
import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]  # bench/queue.py would shadow the stdlib's queue
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from office import export  # noqa: E402
from office.stats import OVERDUE_COLUMNS  # noqa: E402
from office.stats_period import Period, Table  # noqa: E402

TARGET_SECONDS = 8.0
HEADING = ("Trung tâm điều hành một cửa – các xã, phường", "Hồ sơ trễ hạn", "Kỳ báo cáo: Năm 2026")
NOW = datetime(2026, 11, 23, 10, 0)


def make_rows(count):
    start = datetime(2025, 1, 2, 7, 30)
    rows = []
    for i in range(count):
        received = start + timedelta(minutes=37 * i % (600 * 24 * 60))
        finished = None if i % 3 == 0 else received + timedelta(days=9, hours=i % 7)
        rows.append({"code": f"000.19.{5518 + i % 100:05d}-{received:%y%m%d}-{i % 9999:04d}",
                     "commune": f"UBND Phường Sông Công số {i % 100}",
                     "procedure": f"1.{i % 60:06d} – Đăng ký khai sinh có yếu tố nước ngoài số {i % 60}",
                     "stage": "Thẩm định hồ sơ", "handler": f"Nguyễn Thị Lan {i % 5}", "received_at": received,
                     "due_at": received + timedelta(days=5), "finished_at": finished,
                     "state": "Đã xong, trễ hạn" if finished else "Đang quá hạn", "days_late": 1 + i % 23})
    return rows


def table_of(rows):
    return Table(name="overdue", title="Hồ sơ trễ hạn", period=Period.year(2026), columns=OVERDUE_COLUMNS,
                 rows=iter(rows))


def widths():
    return [max(c.width if c.kind != "datetime" else max(c.width, 17), min(len(c.label) + 2, 30))
            for c in OVERDUE_COLUMNS]


def write_openpyxl(rows, path):
    """What office/export.py did before: openpyxl's write-only workbook, a WriteOnlyCell per styled cell."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Hồ sơ trễ hạn")
    for index, width in enumerate(widths(), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A5"
    bold, title, wrap = Font(bold=True), Font(bold=True, size=14), Alignment(wrap_text=True, vertical="top")

    def cell(value, font=None, number_format=None, alignment=None):
        c = WriteOnlyCell(sheet, value=value)
        if font is not None:
            c.font = font
        if number_format:
            c.number_format = number_format
        if alignment is not None:
            c.alignment = alignment
        return c

    for number, line in enumerate(HEADING):
        sheet.append([cell(line, title if number == 1 else bold)])
    sheet.append([cell(c.label, bold, alignment=wrap) for c in OVERDUE_COLUMNS])
    formats = [export.NUMBER_FORMATS.get(c.kind) for c in OVERDUE_COLUMNS]
    for row in rows:
        sheet.append([cell(row[c.key], number_format=f) if f else row[c.key] for c, f in zip(OVERDUE_COLUMNS, formats)])
    book.save(path)


def write_xlsxwriter(rows, path):
    """XlsxWriter in constant-memory mode, each cell through its typed method (its fastest path)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = book.add_worksheet("Hồ sơ trễ hạn")
    bold, title = book.add_format({"bold": True}), book.add_format({"bold": True, "font_size": 14})
    header = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    formats = {kind: book.add_format({"num_format": f}) for kind, f in export.NUMBER_FORMATS.items()}
    for index, width in enumerate(widths()):
        sheet.set_column(index, index, width)
    sheet.freeze_panes(4, 0)
    for number, line in enumerate(HEADING):
        sheet.write_string(number, 0, line, title if number == 1 else bold)
    for index, column in enumerate(OVERDUE_COLUMNS):
        sheet.write_string(3, index, column.label, header)
    plan = [(index, column.key, column.kind, formats.get(column.kind)) for index, column in enumerate(OVERDUE_COLUMNS)]
    for number, row in enumerate(rows, start=4):
        for index, key, kind, cell_format in plan:
            value = row[key]
            if value is None:
                continue
            if kind == "datetime":
                sheet.write_datetime(number, index, value, cell_format)
            elif kind == "int":
                sheet.write_number(number, index, value, cell_format)
            else:
                sheet.write_string(number, index, value)
    book.close()


def write_stream(rows, path):
    """office.export: the streaming writer (office.xlsx_stream), a summary sheet included."""
    export.write_to(export.table_workbook(table_of(rows), HEADING[0], NOW), path)


WRITERS = (("openpyxl write-only (before)", "openpyxl", write_openpyxl),
           ("XlsxWriter constant_memory", "xlsxwriter", write_xlsxwriter),
           ("office.xlsx_stream (chosen)", "stream", write_stream))


def check(path, count):
    """Rows of the overdue sheet read back by openpyxl (its last sheet), and its first data row."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    sheet = book.worksheets[-1]
    values = list(sheet.iter_rows(min_row=5, max_row=5, values_only=True))[0]
    data = sum(1 for r in sheet.iter_rows(min_row=5, values_only=True) if r and r[0] and str(r[0]).startswith("000."))
    book.close()
    return data == count and values[0].startswith("000.") and isinstance(values[5], datetime)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--memory-rows", type=int, default=20_000)
    parser.add_argument("--skip", action="append", default=[], choices=[w[1] for w in WRITERS])
    args = parser.parse_args()
    rows = make_rows(args.rows)
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    results = {}
    print(f"{args.rows:,} rows of the overdue list, {len(OVERDUE_COLUMNS)} columns; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    for label, name, write in WRITERS:
        if name in args.skip:
            continue
        path = work / f"{name}.xlsx"
        start, cpu = time.perf_counter(), time.process_time()
        write(rows, path)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        ok = check(path, args.rows)
        small = make_rows(args.memory_rows)
        tracemalloc.start()
        write(small, work / f"{name}-memory.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        results[name] = (label, seconds, cpu, path.stat().st_size, peak, ok)
        print(f"  {label:<32}{seconds:7.2f} s wall {cpu:7.2f} s CPU  {args.rows / seconds:>9,.0f} rows/s  "
              f"{path.stat().st_size / 1e6:5.1f} MB  peak {peak / 1e6:5.1f} MB ({args.memory_rows:,} rows)  "
              f"read back {'ok' if ok else 'WRONG'}", flush=True)
    print(f"\nWriting {args.rows:,} rows, seconds (target < {TARGET_SECONDS:.0f} s for the whole export; "
          "baseline: openpyxl, in this run)")
    base = results.get("openpyxl")
    for name, (label, seconds, cpu, size, peak, ok) in results.items():
        versus = f"{base[1] / seconds:5.1f}× faster than openpyxl" if base and name != "openpyxl" else ""
        verdict = "met" if seconds < TARGET_SECONDS else "NOT met"
        print(f"  {label:<32}{seconds:7.2f} s  target {verdict:<8}{versus}")
    for child in work.iterdir():
        child.unlink()
    work.rmdir()


if __name__ == "__main__":
    main()
