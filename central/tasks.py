"""The hub's task queue: SqliteHuey next to the hub's files, or RedisHuey when it scales out.

No task takes a lock in the task store: a lock there would outlive a killed worker and stop
its job, and one worker could not tell a dead holder from a live one on another machine.
Running a job twice at once is safe instead: a message is sent by whoever claims its outbox
row (a claim a dead worker left expires after ``notify_lease_seconds``), a reminder is
queued once per rule, slot and contact. So several workers may share one Redis queue, and a
restarted worker runs every periodic job at once and then every period.
"""
import logging
from datetime import timedelta
from pathlib import Path

from huey import RedisHuey, SqliteHuey

from motcua.periodic import create_consumer, every

from office.clock import local_clock, utcnow

from .models import Alert, BoxNode
from .reminders import run_reminders

log = logging.getLogger("motcua.hub.tasks")


def create_hub_huey(settings, immediate=False):
    if settings["redis_url"]:
        name = settings.get("redis_queue") or "motcua-hub"
        huey = RedisHuey(name, url=settings["redis_url"], immediate=immediate, results=True)
    else:
        path = Path(settings["data_dir"]) / "hub-huey.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey("motcua-hub", filename=str(path), immediate=immediate, results=True)
    return huey, register_tasks(huey, settings)


def register_tasks(huey, settings):
    @huey.periodic_task(every(settings, 5), name="watch_fleet")
    def watch_fleet():
        return silent_boxes(settings["box_silence_minutes"], tz=settings["timezone"])

    @huey.periodic_task(every(settings), name="notify")
    def notify():
        """Every minute: queue the messages of new notices and send what is due."""
        return run_notifications(settings)

    @huey.task(name="notify_now")
    def notify_now(report=False):
        """The same at once (after a batch with notices, an incoming text). The counts are kept
        as the task's result only when asked for (``report``): nobody collects the others."""
        counts = run_notifications(settings)
        return counts if report else None

    @huey.periodic_task(every(settings), name="send_reminders")
    def send_reminders():
        return run_reminders(utcnow(), settings)

    @huey.periodic_task(every(settings, 60), name="forget_booking_phones")
    def forget_booking_phones():
        """Hourly: bookings 90 days past their day keep no phone number."""
        from .bookings import forget_old_phones

        return forget_old_phones(local_clock(settings["timezone"])(utcnow()).date())

    @huey.periodic_task(every(settings, 5), name="roll_up_queue")
    def roll_up_queue():
        """Every 5 minutes: the queue statistics of finished days and months rolled up (a day a box
        pushed late included); bounded so one run never overlaps the next."""
        return roll_up_queue_stats(settings)

    @huey.task(name="stats_export")
    def stats_export(job_id):
        """A long Excel export of the statistics pages (``central.export_jobs``)."""
        return run_export(job_id, settings)

    return {"forget_booking_phones": forget_booking_phones, "watch_fleet": watch_fleet, "notify": notify, "notify_now": notify_now, "send_reminders": send_reminders,
            "roll_up_queue": roll_up_queue, "stats_export": stats_export}


def roll_up_queue_stats(settings, now=None):
    from office.stats_rollup import roll_up

    today = local_clock(settings["timezone"])(now or utcnow()).date().isoformat()
    days, months = roll_up(today, max_seconds=240)
    return {"days": days, "months": months}


def run_export(job_id, settings):
    from motcua.stats_web import build_table, work_calendar

    from .export_jobs import run

    return run(job_id, settings["data_dir"], work_calendar, build_table)


def run_notifications(settings, now=None):
    from .dispatch import dispatch
    from .sending import send_due

    queued = dispatch(settings, now=now)
    sent = send_due(settings, now=now)
    return {**queued, **sent}


def trigger_notify(tasks):
    """Ask the worker to send now (after a batch with notices); never fails the caller."""
    try:
        tasks["notify_now"]()
    except Exception:  # the queue is down: the minute's run will do it
        log.warning("could not queue the notify task", exc_info=True)


def silent_boxes(minutes, now=None, tz="Asia/Ho_Chi_Minh"):
    """Raise one alert per active box silent for ``minutes`` (again only after it spoke). Every
    contact counts (push, pull, hello: ``fleet.record_contact``); the message says when in the
    office's time zone ``tz``."""
    now = now or utcnow()
    to_local = local_clock(tz)
    limit = now - timedelta(minutes=minutes)
    raised = []
    for box in BoxNode.select().where(BoxNode.status == BoxNode.ACTIVE):
        seen = box.last_seen_at or box.registered_at
        if seen >= limit:
            continue
        already = Alert.select().where(Alert.kind == "silent", Alert.origin == box.node_id, Alert.at >= seen).exists()
        if not already:
            Alert.create(at=now, kind="silent", origin=box.node_id,
                         message=f"Hộp của xã {box.commune} không liên lạc từ {to_local(seen):%H:%M %d/%m/%Y}.")
            raised.append(box.node_id)
    return raised


def run_worker(settings):
    from motcua.logs import configure_logging

    from .app import open_hub_database

    configure_logging(settings["log_level"])
    open_hub_database(settings)
    huey, _ = create_hub_huey(settings)
    create_consumer(huey, settings).run()
