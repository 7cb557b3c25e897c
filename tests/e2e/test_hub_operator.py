"""The hub's operator in Chromium: a commune's dossier arrives, the citizen's message goes out,
the operator sets up a reminder rule and its contact with the forms and previews what it sends."""
from datetime import datetime, timedelta

import openpyxl
import pytest

from office import dossiers
from office.calendar import WorkCalendar
from office.models import Procedure
from tests.e2e.hub_signin import sign_in
from tests.sync.conftest import Box, HubProcess
from tests.sync.notify_support import WorkerProcess, wait_for
from tests.sync.test_dossier_convergence import COMMUNE, OFFICE_CODE, hub_import_catalog, write_catalog


@pytest.fixture
def hub_with_dossier(tmp_path):
    hub = HubProcess(tmp_path / "hub").start()
    worker = WorkerProcess(hub.dir, [*hub.args, "--citizen-channels", "log"])
    box = None
    try:
        hub_import_catalog(hub.dir, "", write_catalog(tmp_path))
        box = Box(tmp_path / "box", COMMUNE, hub)
        hub.register(box)
        assert box.sync()["ok"]
        received = datetime.now().replace(microsecond=0) - timedelta(days=30)  # long overdue by now
        with box:
            dossier = dossiers.receive(WorkCalendar(), Procedure.get(Procedure.code == "1.001193"),
                                       {"name": "Trần Thị Bình", "phone": "0912345678"}, OFFICE_CODE,
                                       officer="Nguyễn Thị Lan", now=received)
        assert box.sync()["ok"]
        worker.start()
        yield hub, dossier.code
    finally:
        worker.close()
        if box is not None:
            box.db.close()
        hub.close()


def test_operator_sees_the_citizen_message_and_sets_up_a_reminder(browser, shots, hub_with_dossier, tmp_path):
    hub, code = hub_with_dossier
    wait_for(lambda: hub.query("select count(*) from outbox where state = 'sent'")[0][0] == 1, 60,
             what="the citizen's message sent by the worker")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    try:
        sign_in(page, hub.url, *hub.account(), then="/notifications")
        row = page.inner_text("table tbody tr")
        assert code in row and "Đã gửi" in row and "84912***678" in row  # the number masked on screen
        shots(page, "hub-notifications", full_page=True)

        page.goto(f"{hub.url}/reminders")
        page.fill("#c-name", "Nguyễn Thị Lan")
        page.fill("#c-commune", COMMUNE)
        page.fill("#c-phone", "0987 654 321")
        page.locator("form.contact-form button").click()
        page.wait_for_load_state()
        assert "Nguyễn Thị Lan" in page.content()

        page.fill("#r-name", "Nhắc hồ sơ quá hạn")
        page.select_option("#r-what", "overdue")
        page.select_option("#r-audience", "handler")
        page.check("input[name=channels][value=log]")
        page.fill("#r-times", "25:00")  # a bad time first: the form says so and keeps the input
        page.locator("form.rule-form button").click()
        page.wait_for_load_state()
        assert "25:00" in page.inner_text("body") and page.input_value("#r-name") == "Nhắc hồ sơ quá hạn"
        shots(page, "hub-reminder-bad-time", full_page=True)
        page.fill("#r-times", "08:00,14:00")
        for day in range(5):
            page.check(f"input[name=weekdays][value='{day}']")
        page.locator("form.rule-form button").click()
        page.wait_for_load_state()
        assert "Nhắc hồ sơ quá hạn" in page.content()
        shots(page, "hub-reminders", full_page=True)

        rule_id = hub.query("select id from reminder_rule")[0][0]
        page.goto(f"{hub.url}/reminders/{rule_id}/preview")
        text = page.inner_text("body")
        assert code in text and "Nguyễn Thị Lan" in text and "quá hạn" in text
        shots(page, "hub-reminder-preview", full_page=True)

        month = (datetime.now() - timedelta(days=30)).strftime("%Y-%m")  # the month the dossier came in
        page.goto(f"{hub.url}/stats?table=summary&group=commune&month={month}")
        assert page.locator("svg").count() >= 1  # the chart, drawn on the server
        cells = page.locator("table.stats-table tbody tr").first.locator("td").all_inner_texts()
        assert cells[0] == "UBND Phường Sông Công" and "1" in cells[1:]
        shots(page, "hub-stats-summary", full_page=True)
        with page.expect_download() as download:
            page.click("text=Tải Excel")
        assert download.value.suggested_filename.endswith(".xlsx")
        page.wait_for_selector("#export-status.done")  # a short file: the page says it is downloading it
        assert "Tải Excel" in page.inner_text("#export-status") and "về máy" in page.inner_text("#export-status")
        path = tmp_path / "summary.xlsx"
        download.value.save_as(path)
        book = openpyxl.load_workbook(path)
        assert book.sheetnames[0] == "Tổng hợp"
        sheet = book.worksheets[1]
        rows = [r for r in sheet.iter_rows(values_only=True) if r and r[0] == "UBND Phường Sông Công"]
        assert len(rows) == 1 and rows[0][1] == 1  # received: one dossier, a number, as on the page
        page.goto(f"{hub.url}/stats?table=overdue&month={month}")
        assert code in page.inner_text("table.stats-table")
        shots(page, "hub-stats-overdue", full_page=True)
    finally:
        context.close()
