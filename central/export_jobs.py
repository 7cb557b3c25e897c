"""Big Excel exports of the statistics as background jobs of the hub's worker.

The page asks for a file (``POST /stats/exports``); a list longer than ``stats_export_background_rows``
becomes a job: a row here with what to make (section, period, filters, grouping, the moment asked),
the rows it will hold and the rows written so far, which the page shows as a progress bar. The
worker (``stats_export`` in ``central.tasks``) writes the workbook to ``<data_dir>/exports/`` under a
temporary name, renames it when whole, and the page offers it for download. A job only its own
account sees; files and jobs are removed after ``EXPORT_KEEP_HOURS``. A job whose worker stopped
(no progress for ``STALLED_MINUTES``) shows as failed, to be asked again.
"""
import json
import logging
import os
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path

from peewee import CharField, DateTimeField, IntegerField, TextField

from office.clock import utcnow
from office.db import BaseModel
from office.errors import NotFound
from office.stats_period import Filters, Period

log = logging.getLogger("motcua.hub.exports")

EXPORT_KEEP_HOURS = 24
STALLED_MINUTES = 5
STATES = {"queued": "Đang chờ", "running": "Đang tạo tệp", "done": "Đã xong", "failed": "Không tạo được"}


class ExportJob(BaseModel):
    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"

    token = CharField(unique=True)  # in the URLs: not guessable
    account = IntegerField()  # the account that asked; only it sees the job
    spec = TextField()  # JSON: section, group, period, filters, now, unit name, time zone
    title = CharField()
    file_name = CharField()  # the download's name
    state = CharField(default=QUEUED)
    rows_total = IntegerField(default=0)
    rows_done = IntegerField(default=0)
    error = TextField(default="")
    created_at = DateTimeField()
    updated_at = DateTimeField()
    finished_at = DateTimeField(null=True)


EXPORT_MODELS = (ExportJob,)


def folder(data_dir):
    return Path(data_dir) / "exports"


def file_path(data_dir, job):
    return folder(data_dir) / f"{job.token}.xlsx"


def spec_of(section, group, period, filters, now, unit_name, tz_name):
    return {"section": section, "group": group, "period": [period.start.isoformat(), period.end.isoformat(), period.kind],
            "filters": [filters.commune, filters.field, filters.procedure, filters.agency],
            "now": now.isoformat(), "unit_name": unit_name, "tz": tz_name}


def create(account_id, spec, title, file_name, rows_total, data_dir, now=None):
    """A queued job (and the old jobs of every account removed)."""
    now = now or utcnow()
    prune(data_dir, now)
    return ExportJob.create(token=secrets.token_hex(12), account=account_id, spec=json.dumps(spec, ensure_ascii=False),
                            title=title, file_name=file_name, rows_total=rows_total, created_at=now, updated_at=now)


def find(token, account_id):
    job = ExportJob.get_or_none(ExportJob.token == token, ExportJob.account == account_id)
    if job is None:
        raise NotFound("Không tìm thấy tệp xuất này (tệp chỉ giữ trong 24 giờ).")
    return job


def state_of(job, now=None):
    """The job as the page and the JSON show it (a running job silent for too long has failed)."""
    now = now or utcnow()
    state, error = job.state, job.error
    if state in (ExportJob.QUEUED, ExportJob.RUNNING) and now - job.updated_at > timedelta(minutes=STALLED_MINUTES):
        state, error = ExportJob.FAILED, "Việc tạo tệp bị gián đoạn (máy chủ tác vụ không chạy). Hãy tạo lại."
    total = max(job.rows_total, job.rows_done)
    return {"token": job.token, "title": job.title, "file_name": job.file_name, "state": state,
            "state_label": STATES[state], "rows_done": job.rows_done, "rows_total": total,
            "percent": 100 if state == ExportJob.DONE else (int(100 * job.rows_done / total) if total else 0),
            "error": error, "status_url": f"/stats/exports/{job.token}",
            "download_url": f"/stats/exports/{job.token}/file" if state == ExportJob.DONE else None}


def prune(data_dir, now=None):
    limit = (now or utcnow()) - timedelta(hours=EXPORT_KEEP_HOURS)
    for job in ExportJob.select().where(ExportJob.created_at < limit):
        try:
            file_path(data_dir, job).unlink(missing_ok=True)
        except OSError:
            log.warning("could not remove the export file of job %s", job.id, exc_info=True)
        job.delete_instance()


def run(job_id, data_dir, calendar_of, build_table):
    """Write the job's workbook (the worker). ``build_table(section, period, filters, now, group, tz)``
    and ``calendar_of(commune)`` come from the statistics pages, so the file is the page's."""
    from office import export

    job = ExportJob.get_or_none(ExportJob.id == job_id)
    if job is None or job.state not in (ExportJob.QUEUED, ExportJob.RUNNING):
        return None
    spec = json.loads(job.spec)
    first, last, kind = spec["period"]
    period = Period(date.fromisoformat(first), date.fromisoformat(last), kind)
    filters = Filters(*spec["filters"])
    now = datetime.fromisoformat(spec["now"])
    ExportJob.update(state=ExportJob.RUNNING, rows_done=0, updated_at=utcnow()).where(ExportJob.id == job.id).execute()

    def progress(done):
        ExportJob.update(rows_done=done, updated_at=utcnow()).where(ExportJob.id == job.id).execute()

    target = file_path(data_dir, job)
    partial = target.with_suffix(".part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if spec["section"] == "report":
            book = export.periodic_report(period, filters, spec["unit_name"], now, calendar_of(filters.commune),
                                          spec["tz"])
        else:
            table = build_table(spec["section"], period, filters, now, spec["group"], spec["tz"])
            book = export.table_workbook(table, spec["unit_name"], now)
        with open(partial, "wb") as out:
            rows = export.write_to(book, out, progress)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except Exception as error:  # noqa: BLE001 (the page says it failed; the log has why)
        log.exception("export job %s failed", job.id)
        partial.unlink(missing_ok=True)
        ExportJob.update(state=ExportJob.FAILED, error="Không tạo được tệp Excel: lỗi máy chủ, đã ghi vào nhật ký.",
                         updated_at=utcnow(), finished_at=utcnow()).where(ExportJob.id == job.id).execute()
        return {"error": type(error).__name__}
    ExportJob.update(state=ExportJob.DONE, rows_done=rows, rows_total=max(rows, job.rows_total), updated_at=utcnow(),
                     finished_at=utcnow()).where(ExportJob.id == job.id).execute()
    return {"rows": rows}
