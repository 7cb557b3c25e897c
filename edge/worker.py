"""The box's worker process: huey consumer (printing) and the rating keypad."""
import logging

from devices.health import attach_log_file
from motcua.cpus import pin_beside_web
from motcua.logs import configure_logging
from motcua.periodic import create_consumer
from office.db import bind, open_database
from office.models import MODELS
from office.ratings import rate_at_counter
from provisioning.recover import at_start

from .tasks import create_huey

log = logging.getLogger("motcua.worker")


def keypad_for(settings, pin_factory=None):
    """The keypad configured for this box, or None when it has none."""
    from devices.keypad import RatingKeypad, parse_pins  # gpiozero only when a keypad is configured

    pins = parse_pins(settings["keypad_pins"])
    if not pins:
        return None
    counter, window = settings["keypad_counter"], settings["rating_window_seconds"]

    def on_rate(score):
        rating = rate_at_counter(counter, score, window, source="keypad")
        if rating is None:
            log.info("rating key %s pressed at counter %s with nobody to rate", score, counter)

    return RatingKeypad(pins, on_rate, pin_factory=pin_factory)


def run_worker(settings):
    configure_logging(settings["log_level"])
    pin_beside_web(settings)  # before the consumer's threads start: they inherit it
    attach_log_file(settings["data_dir"], "worker", settings["timezone"],
                    max_mb=settings["log_file_mb"], count=settings["log_file_count"])
    at_start(settings, echo=log.error)  # a damaged database is kept aside and rebuilt before anything opens it
    bind(open_database(settings["database"]), MODELS)
    huey, _ = create_huey(settings)
    huey.flush_locks("sync")  # a task-store lock left by an older version; no task takes one now
    # With a device service, it alone owns the printer and the GPIO lines.
    keypad = None if settings.get("device_url") else keypad_for(settings)
    consumer = create_consumer(huey, settings, check_worker_health=True)
    try:
        consumer.run()
    finally:
        if keypad is not None:
            keypad.close()
