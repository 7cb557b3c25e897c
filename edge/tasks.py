"""The box's task queue: SqliteHuey next to the database, tasks bound to one box's settings.

The SQLite tables are the source of truth; a task only says "look now". A task lost with
a killed worker loses nothing: the periodic sweep finds what is still pending. No task keeps
a lock in the task store (it would outlive a killed worker and stop the job for ever): the
sync holds a lock the kernel releases with its holder (``process_lock``).

So the task store keeps nothing that was acknowledged to anyone, and its commits do not wait
for the storage (``synchronous = normal``: WAL keeps the file whole through a power cut, which
may only forget the latest nudges): a ticket pays one fsync (its own, in ``edge.db``), not two.
"""
import logging
from contextlib import contextmanager
from pathlib import Path

from huey import SqliteHuey
from huey.storage import SqliteStorage

from motcua.periodic import every

from office.models import PrintJob, utcnow

from provisioning.enrol import enrol_pending
from sync import box as sync_box

from .printing import print_due as print_jobs_due, process_job
from .process_lock import process_lock

log = logging.getLogger("motcua.tasks")


class NudgeStorage(SqliteStorage):
    """huey's SQLite store without an fsync per task (see above)."""

    def _create_connection(self):
        conn = super()._create_connection()
        conn.execute("pragma synchronous=normal")
        return conn


class NudgeHuey(SqliteHuey):
    storage_class = NudgeStorage


def create_huey(settings, immediate=False):
    path = Path(settings["data_dir"]) / "edge-huey.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    huey = NudgeHuey("motcua-edge", filename=str(path), immediate=immediate, results=False)
    return huey, register_tasks(huey, settings)


def register_tasks(huey, settings):
    def printer():
        from devices.printer import open_printer  # not loaded by the web processes

        return open_printer(settings["printer"], settings["data_dir"], settings["printer_timeout"])

    @huey.task(name="print_job")
    def print_job(job_id=None):
        """Print ``job_id`` (when given), then every job due: the kiosks' tickets of a moment send
        one nudge between them (``Box.nudge_printer``)."""
        if settings.get("device_url"):  # the device service owns the printer and prints the job
            return
        if job_id is not None and process_job(job_id, printer, settings) == PrintJob.PENDING:
            retry(job_id)
        print_due()

    def retry(job_id):
        """The failed job's next attempt, on time (and the jobs behind it with it)."""
        job = PrintJob.get_by_id(job_id)
        if job.state == PrintJob.PENDING:
            print_job.schedule((job_id,), delay=max((job.next_attempt_at - utcnow()).total_seconds(), 1))

    @huey.periodic_task(every(settings), name="sweep_print_jobs")
    def sweep_print_jobs():
        if settings.get("device_url"):
            return
        print_due()

    def print_due(rounds=50):
        """Every job due now, oldest first, a few per commit (``printing.print_due``); a job that
        fails waits for its next attempt, so this ends (bounded besides, while tickets keep coming)."""
        for _ in range(rounds):
            tried, failed = print_jobs_due(printer, settings, limit=10)
            if failed is not None:
                return retry(failed)
            if tried < 10:  # none left
                return None
        return None

    @huey.task(name="sync_now")
    def sync_now():
        with _sync_lock(settings) as free:
            return _sync(settings) if free else None

    @huey.periodic_task(every(settings), name="sync_periodic")
    def sync_periodic():
        with _sync_lock(settings) as free:
            if not free:
                return
            enrol_pending(settings)  # a box provisioned while the hub was unreachable enrols when it can
            if sync_box.hub_url(settings) and sync_box.due():
                _sync(settings)

    @huey.periodic_task(every(settings, 5), name="say_hello")
    def say_hello():
        """Every 5 minutes, even with nothing to send: the hub counts the box as in contact."""
        from provisioning.identity import ensure_key

        if sync_box.hub_url(settings):
            return sync_box.say_hello(settings, ensure_key(settings["data_dir"]))
        return None

    @huey.periodic_task(every(settings), name="blob_transfer")
    def blob_transfer():
        """The bytes of files the rows name: fetch what is missing here, send up what was made here."""
        with process_lock(settings["data_dir"], "blobs") as free:
            if free and sync_box.hub_url(settings):
                return _blob_transfer(settings)
            return None

    @huey.periodic_task(every(settings, 60), name="storage_upkeep")
    def storage_upkeep():
        from .upkeep import storage_upkeep as upkeep  # bounded change log and print previews

        return upkeep(settings)

    @huey.periodic_task(every(settings, 30), name="booking_no_shows")
    def booking_no_shows():
        """Bookings of past days never used are counted as no-shows (the row goes up to the hub)."""
        from office.bookings import mark_no_shows
        from office.queue import QueuePolicy

        return mark_no_shows(QueuePolicy(timezone=settings["timezone"]))

    @huey.periodic_task(every(settings), name="update_periodic")
    def update_periodic():
        from provisioning.identity import ensure_key
        from updates.box import update_step  # signed releases: hello, download, install, switch

        result = update_step(settings, ensure_key(settings["data_dir"]))
        if result:
            log.info("update: %s", result)
        return result

    return {"print_job": print_job, "sweep_print_jobs": sweep_print_jobs, "sync_now": sync_now,
            "sync_periodic": sync_periodic, "say_hello": say_hello, "storage_upkeep": storage_upkeep,
            "update_periodic": update_periodic, "booking_no_shows": booking_no_shows, "blob_transfer": blob_transfer}


@contextmanager
def _sync_lock(settings):
    """One sync at a time; yields False (and the caller does nothing) while another runs."""
    with process_lock(settings["data_dir"], "sync") as free:
        if not free:
            log.info("sync already running; this run is skipped")
        yield free


def _sync(settings):
    from provisioning.identity import ensure_key

    result = sync_box.sync_now(settings, ensure_key(settings["data_dir"]))
    log.info("sync: %s", result)
    return result


def _blob_transfer(settings):
    from blobs import open_store
    from blobs.travel import transfer
    from provisioning.identity import ensure_key
    from sync.capture import this_node

    try:
        client = sync_box.client_for(settings, ensure_key(settings["data_dir"]))
    except sync_box.SyncFailed:
        return None
    result = transfer(client, open_store(settings), this_node().node_id,
                      limit_bytes=box_blob_limit(settings), budget_s=max(settings["worker_period_seconds"] - 10, 20))
    if result["fetched"] or result["sent"] or result["error"] or result["full"]:
        log.info("blobs: %s", result)
    return result


def box_blob_limit(settings):
    """Bytes of files this box keeps at most (``blob_box_limit_mb``)."""
    return int(float(settings["blob_box_limit_mb"]) * 1024 * 1024)
