"""Print jobs: the rows of ``print_job`` turned into paper, with retries.

A ticket exists once it is committed; printing it is a separate, retried job. A printer
that is off, out of paper or hung never blocks the kiosk nor loses a number. No
transaction stays open while the printer works.
"""
import json
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from office.db import database, scalars, unsynced_transaction
from office.errors import NotFound
from office.models import PrintJob, utcnow
from sync.apply import executemany

log = logging.getLogger("motcua.printing")

PRINTER_FAILING = "Máy in đang lỗi"  # for the public: the device's own error goes to the staff only
MAX_BACKOFF = 60  # seconds between attempts, at most
LEASE_MARGIN = 5  # seconds beyond printer_timeout a running attempt keeps the job to itself


def process_job(job_id, open_printer_fn, settings, now=None):
    """Try to print one job once; return its state afterwards.

    A fresh printer is opened on every attempt (a printer switched off and on again is
    found again) and written from a daemon thread, so a hung printer costs
    ``printer_timeout`` seconds and one attempt, never a stuck worker.
    """
    now = now or utcnow()
    timeout = float(settings["printer_timeout"])
    job = PrintJob.get_or_none(PrintJob.id == job_id)
    if job is None:
        raise NotFound(f"Không tìm thấy lệnh in số {job_id}.")
    with database.atomic():
        # Claim the job: the periodic sweep and the task of the same job must not both print it.
        claimed = (
            PrintJob.update(next_attempt_at=now + timedelta(seconds=timeout + LEASE_MARGIN))
            .where(PrintJob.id == job_id, PrintJob.state == PrintJob.PENDING, PrintJob.next_attempt_at <= now)
            .execute()
        )
    if not claimed:
        return PrintJob.get_by_id(job_id).state
    payload = json.loads(job.payload)
    error = _attempt(open_printer_fn, payload, settings["printer_width"], timeout, _stem(payload, job_id))
    with database.atomic():
        if error is None:
            job = PrintJob.get_by_id(job_id)
            job.state, job.printed_at, job.last_error = PrintJob.DONE, now, ""
            job.save()
        else:
            job = _failed_attempt(job_id, error, settings, now)
    if error is not None:
        log.warning("print job %s (%s) attempt %s: %s", job_id, payload.get("number"), job.attempts, error)
    return job.state


def print_due(open_printer_fn, settings, now=None, limit=10):
    """Print the jobs due now, oldest first, up to ``limit``; return how many were tried and the
    job whose attempt failed (None when none did).

    The kiosks' tickets of a busy moment share the box's writes: this claims them in one
    transaction and records what happened in one more, where ``process_job`` pays two commits
    (two fsyncs of ``edge.db``, under the writer lock the kiosks wait for) per ticket; neither of
    the two waits for the storage (``office.db.unsynced_transaction``). Each job
    is claimed for as long as printing the ones before it may take, so a job of a worker that
    was killed is printed again after that. After a failed attempt the printer is not asked
    again in this call: the jobs after it are handed back as they were."""
    now = now or utcnow()
    timeout = float(settings["printer_timeout"])
    p, at = database.param, PrintJob.next_attempt_at.db_value
    leases = [at(now + timedelta(seconds=(i + 1) * (timeout + LEASE_MARGIN))) for i in range(limit)]
    with unsynced_transaction():  # the box's writer lock from the read on: no one else claims what it finds
        claimed = [_Claimed(*row) for row in _due(now, limit)]  # plain statements: the kiosks wait
        executemany(f"UPDATE print_job SET next_attempt_at = {p} WHERE id = {p}",
                    [(lease, job.id) for lease, job in zip(leases, claimed)])
    if not claimed:
        return 0, None
    done, failed = [], None
    for job in claimed:
        payload = json.loads(job.payload)
        error = _attempt(open_printer_fn, payload, settings["printer_width"], timeout, _stem(payload, job.id))
        if error is not None:
            failed = (job, error, payload)
            break
        done.append(job.id)
    untried = claimed[len(done) + (failed is not None):]  # as they were: the next nudge or sweep takes them
    with unsynced_transaction():
        executemany(f"UPDATE print_job SET state = {p}, printed_at = {p}, last_error = '' WHERE id = {p}",
                    [(PrintJob.DONE, PrintJob.printed_at.db_value(now), job_id) for job_id in done])
        executemany(f"UPDATE print_job SET next_attempt_at = {p} WHERE id = {p}",
                    [(job.next_attempt_at, job.id) for job in untried])
        if failed is not None:
            _failed_attempt(failed[0].id, failed[1], settings, now)
    if failed is None:
        return len(done), None
    log.warning("print job %s (%s): %s", failed[0].id, failed[2].get("number"), failed[1])
    return len(done) + 1, failed[0].id


@dataclass
class _Claimed:
    id: int
    payload: str
    next_attempt_at: str  # as stored: handed back as it was


def _stem(payload, job_id):
    """The file names of the preview printer."""
    return f"{payload.get('number', 'ticket')}-{job_id}"


def _failed_attempt(job_id, error, settings, now):
    job = PrintJob.get_by_id(job_id)
    job.attempts += 1
    job.last_error = error
    job.next_attempt_at = now + timedelta(seconds=min(2**job.attempts, MAX_BACKOFF))
    if job.attempts >= settings["print_max_attempts"]:
        job.state = PrintJob.FAILED
    job.save()
    return job


def _attempt(open_printer_fn, payload, width, timeout, stem):
    """Open a printer, write the ticket within ``timeout`` seconds; return an error text or None."""
    from devices.printer import write_ticket  # Pillow and escpos: only in the process that prints
    from devices.checklist import write_checklist
    from devices.slip import write_slip

    # a dossier's appointment slip, a procedure's list of documents, else a queue ticket
    write = {"slip": write_slip, "checklist": write_checklist}.get(payload.get("kind"), write_ticket)
    printer, outcome = [], []

    def run():
        try:
            printer.append(open_printer_fn())
            write(printer[0], payload, width, stem=stem)
            outcome.append(None)
        except Exception as exc:  # any failure of the device is one failed attempt
            log.debug("printer error", exc_info=True)
            outcome.append(f"Lỗi máy in: {str(exc) or type(exc).__name__}")

    thread = threading.Thread(target=run, name=f"print-{stem}", daemon=True)
    thread.start()
    thread.join(timeout)
    try:
        if thread.is_alive():
            return f"Máy in không phản hồi sau {timeout:g} giây"
        return outcome[0]
    finally:
        if printer and hasattr(printer[0], "close"):
            try:
                printer[0].close()
            except Exception:
                log.warning("could not close the printer", exc_info=True)


def print_once(open_printer_fn, payload, settings, stem="test"):
    """Print ``payload`` now, outside any job (the technician's test print); an error text or None."""
    return _attempt(open_printer_fn, payload, settings["printer_width"], float(settings["printer_timeout"]), stem)


def queue_slip(payload, now=None):
    """A print job for a dossier's appointment slip (``devices.slip``); the caller enqueues it."""
    now = now or utcnow()
    return PrintJob.create(payload=json.dumps(dict(payload, kind="slip"), ensure_ascii=False),
                           created_at=now, next_attempt_at=now)


def queue_checklist(payload, now=None):
    """A print job for a procedure's list of documents (``devices.checklist``); the caller enqueues it."""
    now = now or utcnow()
    return PrintJob.create(payload=json.dumps(dict(payload, kind="checklist"), ensure_ascii=False),
                           created_at=now, next_attempt_at=now)


def job_state(job):
    """``printing`` (not tried yet), ``printed``, ``retrying`` (an attempt failed) or ``failed``."""
    if job.state == PrintJob.DONE:
        return "printed"
    if job.state == PrintJob.FAILED:
        return "failed"
    return "retrying" if job.attempts else "printing"


def printer_trouble():
    """The printer's latest word: the newest job that was tried, when it failed (and is not printed
    since), else None. A citizen is told at once when the printer is known to be broken."""
    return trouble_of(scalars(printer_trouble_query())[0])


def printer_trouble_query():
    """``printer_trouble``'s question for ``office.db.scalars`` (its answer read by ``trouble_of``): the
    last error of a tried job newer than the newest printed one, NULL when there is none. Asked on
    every ticket issued: the printed ones through the index on state, then only the jobs since, by rowid."""
    p = database.param
    return (f"SELECT last_error FROM print_job WHERE attempts > 0 AND id > COALESCE("
            f"(SELECT MAX(id) FROM print_job WHERE state = {p}), 0) ORDER BY id DESC LIMIT 1", (PrintJob.DONE,))


def trouble_of(last_error):
    """``printer_trouble`` from the answer to its query."""
    if last_error is None:
        return None
    return last_error or "Máy in không in được"


def due_jobs(now=None, limit=20):
    """Ids of pending jobs whose next attempt is due, oldest first."""
    return [row[0] for row in _due(now or utcnow(), limit)]


def _due(now, limit):
    """(id, payload, next_attempt_at as stored) of the due jobs, oldest first: a plain statement, as
    the worker reads them under the writer lock the kiosks wait for (peewee's query builder took
    two thirds of that time). In the order they were committed (their ids), which the index on state
    keeps: the first ``limit`` found end the read; ordered by ``created_at``, every pending job was
    read and sorted (1.6 ms with 3,000 waiting)."""
    p = database.param
    return database.execute_sql(
        f"SELECT id, payload, next_attempt_at FROM print_job WHERE state = {p} AND next_attempt_at <= {p}"
        f" ORDER BY id LIMIT {p}", (PrintJob.PENDING, PrintJob.next_attempt_at.db_value(now), limit)).fetchall()


def reprint(job_id, now=None):
    """Queue a failed or printed job again, from its first attempt; return the job."""
    now = now or utcnow()
    with database.atomic():
        job = PrintJob.get_or_none(PrintJob.id == job_id)
        if job is None:
            raise NotFound(f"Không tìm thấy lệnh in số {job_id}.")
        if job.state != PrintJob.PENDING:  # a pending job is already on its way
            job.state, job.attempts, job.last_error = PrintJob.PENDING, 0, ""
            job.next_attempt_at, job.printed_at = now, None
            job.save()
    return job


def failed_jobs():
    """Jobs that used up their attempts, oldest first, for the technician."""
    return list(PrintJob.select().where(PrintJob.state == PrintJob.FAILED).order_by(PrintJob.created_at, PrintJob.id))
