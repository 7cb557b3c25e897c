"""Excel workbooks of the statistics: they open, headers are Vietnamese, cells are real dates
and numbers, and a long table streams to disk instead of being held in memory."""
import tracemalloc
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook

from office import export, stats
from office.db import bind, database, open_database
from office.models import MODELS
from office.stats_period import Column, Filters, Period, Table
from sync.capture import init_node
from tests.stats_data import NOW, load

MARCH = Period.month(2026, 3)


@pytest.fixture
def data(tmp_path):
    handle = bind(open_database(str(tmp_path / "stats.db")), MODELS)
    init_node("hub-stats-test", "*")
    load()
    yield handle
    handle.close()
    database.initialize(None)


def saved(book, tmp_path, name="t.xlsx"):
    path = tmp_path / name
    with export.save(book) as out, open(path, "wb") as file:
        file.write(out.read())
    return load_workbook(path)


def test_a_table_workbook_has_a_summary_then_the_table(data, tmp_path):
    table = stats.summary(MARCH, Filters(), "commune", NOW)
    book = saved(export.table_workbook(table, "UBND Phường Sông Công", NOW), tmp_path)
    assert book.sheetnames == ["Tổng hợp", "Tình hình giải quyết hồ sơ theo"]  # 31 characters at most
    summary = {r[0]: r[1] for r in book["Tổng hợp"].iter_rows(values_only=True) if r and len(r) > 1}
    assert summary["Từ ngày"] == datetime(2026, 3, 1) and summary["Lập lúc"] == NOW
    assert summary["Tình hình giải quyết hồ sơ theo xã/phường: Tiếp nhận"] == 7
    sheet = book.worksheets[1]
    assert [c.value for c in sheet[4]] == ["Xã/phường", "Tiếp nhận", "Đã giải quyết", "Trước hạn", "Đúng hạn",
                                            "Quá hạn (đã xong)", "Đang giải quyết", "Đang quá hạn",
                                            "Từ chối/rút/dừng", "Tỉ lệ đúng hạn (%)"]
    assert all(c.font.b for c in sheet[4]) and sheet.freeze_panes == "A5"
    assert sheet["A1"].value == "UBND Phường Sông Công" and sheet["A3"].value == "Kỳ báo cáo: Tháng 03/2026"
    first = [c.value for c in sheet[5]]
    assert first == ["UBND Phường Sông Công", 6, 3, 1, 1, 1, 2, 1, 1, 66.7]
    assert isinstance(sheet["B5"].value, int) and sheet["J5"].number_format == "0.0"
    assert [c.value for c in sheet[7]][:2] == ["Tổng cộng", 7] and sheet["A7"].font.b
    assert sheet.column_dimensions["A"].width == 28


def test_dates_are_dates(data, tmp_path):
    table = stats.overdue(MARCH, Filters(), NOW)
    sheet = saved(export.table_workbook(table, "Trung tâm", NOW), tmp_path).worksheets[1]
    row = [c for c in sheet[5]]
    assert row[0].value == "X-d2" and row[5].value == datetime(2026, 3, 31, 23, 59, 59)
    assert row[5].number_format == "dd/mm/yyyy hh:mm" and row[7].value is None and row[9].value == 5


def test_a_long_table_streams(tmp_path):
    columns = (Column("code", "Mã hồ sơ", "text", 24), Column("at", "Ngày tiếp nhận", "datetime"),
               Column("days", "Số ngày", "int"))
    made = {"n": 0}

    def rows(count):
        start = datetime(2026, 1, 1)
        for number in range(count):
            made["n"] += 1
            yield {"code": f"000.19.05518-260101-{number:06d}", "at": start + timedelta(minutes=number), "days": number}

    def peak(count):
        table = Table("overdue", "Hồ sơ trễ hạn", MARCH, columns, rows(count))
        tracemalloc.start()
        book = export.table_workbook(table, "Trung tâm", NOW)
        with export.save(book):
            pass
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return top

    small, large = peak(1_000), peak(12_000)
    assert made["n"] == 13_000
    assert large < small + 2_000_000  # twelve times the rows, about the same memory: nothing is held

    table = Table("overdue", "Hồ sơ trễ hạn", MARCH, columns, rows(3))
    sheet = saved(export.table_workbook(table, "Trung tâm", NOW), tmp_path, "small.xlsx").worksheets[1]
    assert [c.value for c in sheet[6]] == ["000.19.05518-260101-000001", datetime(2026, 1, 1, 0, 1), 1]
