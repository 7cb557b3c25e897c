"""A long Excel export at the hub in Chromium: the page shows the rows written on a progress bar while
the hub's worker makes the file, then the file downloads; the hub and its worker run as processes."""
import sqlite3
from datetime import datetime, timedelta

import openpyxl
import pytest

from central.app import HUB_MODELS
from tests.e2e.accessibility import assert_accessible
from tests.e2e.hub_signin import sign_in
from tests.sync.conftest import HubProcess
from tests.sync.notify_support import WorkerProcess

ROWS = 60_000
COMMUNE = "05518"


def defaults(table, given):
    """The columns a row leaves out, with the model's defaults."""
    model = next(m for m in HUB_MODELS if m._meta.table_name == table)
    extra = {}
    for field in model._meta.sorted_fields:
        if field.column_name in given or field.null:
            continue
        value = field.default() if callable(field.default) else field.default
        extra[field.column_name] = field.db_value(value if value is not None else "x")
    return extra


def overdue_dossiers(db_path, count):
    """``count`` dossiers of 2026 open past their due date, written straight into the hub's database."""
    columns = ("id", "commune", "code", "procedure_code", "procedure_name", "applicant_name", "status", "stage",
               "handler", "agency", "received_at", "due_at", "timeliness")
    extra = defaults("dossier", columns)
    start = datetime(2026, 1, 5, 8, 0)
    rows = []
    for i in range(count):
        received = start + timedelta(minutes=(7 * i) % (200 * 24 * 60))
        rows.append((f"e2e-{i:06d}", COMMUNE, f"000.19.{COMMUNE}-{received:%y%m%d}-{i:05d}", "1.001193",
                     "Đăng ký khai sinh", "Nguyễn Văn An", 4, "Thẩm định hồ sơ", f"Cán bộ {i % 5}",
                     f"000.19.{COMMUNE}", str(received), str(received + timedelta(days=5)), "",
                     *extra.values()))
    names = ", ".join(f'"{c}"' for c in (*columns, *extra))
    office = {"id": "office-e2e", "commune": COMMUNE, "name": "UBND Phường Sông Công", "agency_code": f"000.19.{COMMUNE}"}
    office.update(defaults("office", office))
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"INSERT INTO office ({', '.join(office)}) VALUES ({', '.join('?' for _ in office)})",
                     tuple(office.values()))
        conn.executemany(f"INSERT INTO dossier ({names}) VALUES ({', '.join('?' for _ in (*columns, *extra))})", rows)


@pytest.fixture
def hub_with_overdue(tmp_path):
    hub = HubProcess(tmp_path / "hub")
    hub.args += ["--stats-export-background-rows", "1000", "--worker-period-seconds", "5"]
    hub.start()
    worker = WorkerProcess(hub.dir, hub.args)
    try:
        overdue_dossiers(hub.dir / "hub.db", ROWS)
        worker.start()
        yield hub
    finally:
        worker.close()
        hub.close()


def test_a_long_export_shows_its_progress_then_downloads(browser, shots, hub_with_overdue, tmp_path):
    hub = hub_with_overdue
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN", accept_downloads=True)
    page = context.new_page()
    try:
        sign_in(page, hub.url, *hub.account(), then="/stats")
        page.goto(f"{hub.url}/stats?table=overdue&year=2026")
        assert "Hồ sơ trễ hạn – Năm 2026" in page.inner_text("h2")
        with page.expect_download(timeout=120_000) as downloading:
            page.get_by_role("button", name="Tải Excel").click()
            page.wait_for_selector("#export-progress:not([hidden])", timeout=30_000)
            page.wait_for_function("() => document.getElementById('export-bar').value > 0", timeout=60_000)
            counted = page.inner_text("#export-count")
            assert f"/ {ROWS:,}".replace(",", ".") in counted, counted  # rows written / rows in all
            if "(100%)" not in counted:  # caught while the worker writes
                assert "Đang tạo tệp" in page.inner_text("#export-status")
                assert page.is_hidden("#export-download")
            shots(page, "hub-stats-export-progress")
            assert_accessible(page)
        download = downloading.value
        assert download.suggested_filename == "Hồ sơ trễ hạn – 2026.xlsx"
        page.wait_for_selector("#export-download:not([hidden])")
        assert "Đã tạo xong" in page.inner_text("#export-status")
        assert page.inner_text("#export-count") == f"Đã ghi {ROWS:,} / {ROWS:,} dòng (100%)".replace(",", ".")
        assert page.get_attribute("#export-bar", "value") == "100"
        shots(page, "hub-stats-export-done")
        path = tmp_path / "export.xlsx"
        download.save_as(path)
        book = openpyxl.load_workbook(path, read_only=True)
        sheet = book.worksheets[1]
        codes = [r[0] for r in sheet.iter_rows(min_row=5, values_only=True) if r and r[0] and r[0].startswith("000.")]
        assert len(codes) == ROWS and len(set(codes)) == ROWS
        book.close()
    finally:
        context.close()
