"""The hub's Excel buttons: a short file at once; a long one (here: longer than 2 rows) made by the
worker as a job with rows done / rows in all, then downloaded; only by the account that asked."""
import io
import re
from html import unescape

import pytest
from openpyxl import load_workbook

from central import export_jobs
from central.app import create_app
from motcua.settings import load_settings
from office.db import database
from tests.central.hub_accounts import token_client
from tests.stats_data import NOW, load

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def hub(tmp_path):
    settings = load_settings("hub", environ={}, overrides={"data_dir": str(tmp_path / "hub"),
                                                         "operator_password": "first-operator",
                                                         "stats_export_background_rows": 2})
    app = create_app(settings)
    app.config["TESTING"] = True
    app.extensions["dossier_clock"] = lambda: NOW
    load()
    yield app
    database.close()


@pytest.fixture
def client(hub):
    return token_client(hub, "operator")


def run_queued(hub):
    """What the worker does: take the queued task and run it."""
    huey = hub.extensions["hub"].tasks["stats_export"].huey
    message = huey.dequeue()
    assert message is not None, "no task was queued"
    return huey.execute(message)


def rows_of(data):
    book = load_workbook(io.BytesIO(data))
    return [list(r) for r in book.worksheets[-1].iter_rows(values_only=True)]


def text(response):
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_a_long_excel_export_is_a_background_job_with_progress_and_a_download(hub, client):
    huey = hub.extensions["hub"].tasks["stats_export"].huey
    huey.flush()
    direct = client.get("/stats/overdue.xlsx?month=2026-03")
    expected = rows_of(direct.get_data())
    direct.close()

    response = client.post("/stats/exports", data={"table": "overdue", "month": "2026-03"})
    assert response.status_code == 303
    status_url = response.headers["Location"]
    token = status_url.rsplit("/", 1)[-1]
    page = client.get(status_url)
    assert page.status_code == 200 and "Đang chờ" in text(page) and "Đã ghi 0 / 3 dòng (0%)" in text(page)
    assert '<meta http-equiv="refresh" content="2">' in page.get_data(as_text=True)
    assert client.get(f"/stats/exports/{token}/file").status_code == 409  # not made yet

    assert run_queued(hub) == {"rows": 3}
    job = client.get(f"/api/v1/stats/exports/{token}").get_json()["job"]
    assert (job["state"], job["rows_done"], job["rows_total"], job["percent"]) == ("done", 3, 3, 100)
    assert job["download_url"] == f"/stats/exports/{token}/file" and job["file_name"] == "Hồ sơ trễ hạn – 2026-03.xlsx"
    page = client.get(status_url)
    assert "Đã xong" in text(page) and "Tải tệp về" in text(page) and "refresh" not in page.get_data(as_text=True)
    download = client.get(job["download_url"])
    assert download.status_code == 200 and download.mimetype == XLSX
    assert rows_of(download.get_data()) == expected  # the same file the direct download gives
    download.close()

    other = token_client(hub, "operator", name="operator2")
    assert other.get(status_url).status_code == 404  # another account's job
    assert other.get(f"/stats/exports/{token}/file").status_code == 404


def test_the_page_script_gets_a_job_or_a_direct_address(hub, client):
    hub.extensions["hub"].tasks["stats_export"].huey.flush()
    small = client.post("/api/v1/stats/exports", data={"table": "summary", "month": "2026-03", "group": "commune"})
    assert small.status_code == 200
    assert small.get_json() == {"ok": True, "download_url": "/stats/summary.xlsx?month=2026-03&group=commune"}
    report = client.post("/api/v1/stats/exports", data={"table": "report", "quarter": "2026-Q1"})
    assert report.status_code == 202
    job = report.get_json()["job"]
    assert job["state"] == "queued" and job["rows_total"] == 4 and job["download_url"] is None
    run_queued(hub)
    done = client.get(job["status_url"].replace("/stats/", "/api/v1/stats/")).get_json()["job"]
    assert done["state"] == "done" and done["rows_done"] > 4  # every sheet's rows: the overdue ones and the rest
    download = client.get(done["download_url"])
    book = load_workbook(io.BytesIO(download.get_data()))
    download.close()
    assert book.sheetnames[4] == "Hồ sơ trễ hạn"


def test_a_short_export_downloads_at_once(hub, client):
    response = client.post("/stats/exports", data={"table": "lateness", "month": "2026-03"})
    assert response.status_code == 200 and response.mimetype == XLSX
    response.close()
    assert not export_jobs.ExportJob.select().exists()


def test_a_job_whose_worker_stopped_shows_as_failed(hub, client):
    response = client.post("/stats/exports", data={"table": "overdue", "month": "2026-03"})
    token = response.headers["Location"].rsplit("/", 1)[-1]
    job = export_jobs.ExportJob.get(export_jobs.ExportJob.token == token)
    later = job.updated_at + export_jobs.timedelta(minutes=export_jobs.STALLED_MINUTES + 1)
    state = export_jobs.state_of(job, now=later)
    assert state["state"] == "failed" and "Hãy tạo lại" in state["error"]
