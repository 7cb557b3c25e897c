"""The workers' huey consumer and the schedules of their periodic jobs.

Huey starts the periodic jobs when the consumer starts and then every
``worker_period_seconds`` (60 in service). A worker killed at any moment therefore runs
every periodic job again as soon as it is restarted, provided no job keeps a lock in the
task store: the jobs take none (the box's sync holds a lock the kernel releases, see
``edge.process_lock``).
"""
from huey import crontab
from huey.consumer import Consumer, Scheduler


def every(settings, minutes=1):
    """The schedule of a job run every ``minutes`` minutes; at every tick of the worker when
    its period is shorter than a minute (tests)."""
    if settings.get("worker_period_seconds", 60) >= 60:
        return crontab(minute="*" if minutes == 1 else f"*/{minutes}")
    return _every_tick


def _every_tick(_moment):
    return True


def create_consumer(huey, settings, **options):
    period = max(int(settings.get("worker_period_seconds", 60)), 1)

    class PeriodScheduler(Scheduler):
        periodic_task_seconds = period

    class PeriodConsumer(Consumer):
        scheduler_class = PeriodScheduler

    return PeriodConsumer(huey, workers=2, worker_type="thread", periodic=True, **options)
