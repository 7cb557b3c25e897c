"""Keeping a box's storage bounded on an SD card: run by the worker every hour.

Confirmed change-log entries older than ``log_keep_days`` go (``sync.retention``), and the
print previews beyond the newest ``print_previews_keep``, and the phone numbers citizens left on
the kiosk for the “turn near” text, once their day is over (the kiosk promises it). Log files rotate by themselves
(``devices.health.attach_log_file``); the task store keeps no results. Low free space is
written to the log too, besides the console's check.
"""
import logging
import shutil
from pathlib import Path

from devices.printer import prune_previews
from office.queue import QueuePolicy, forget_phones
from sync import retention

log = logging.getLogger("motcua.upkeep")


def storage_upkeep(settings, now=None):
    """One round of upkeep; returns what was deleted: {"log_entries", "previews", "phones", "partials"}."""
    done = {"log_entries": 0, "previews": 0, "phones": 0, "partials": 0}
    try:
        done["phones"] = forget_phones(QueuePolicy(timezone=settings["timezone"]), now)
    except Exception:  # a busy database: next hour
        log.warning("forgetting the tickets' phone numbers failed", exc_info=True)
    try:
        done["log_entries"] = retention.prune(settings["log_keep_days"], now)
    except Exception:  # a box without identity yet, or a busy database: next hour
        log.warning("change-log retention failed", exc_info=True)
    done["previews"] = prune_previews(Path(settings["data_dir"]) / "prints", settings["print_previews_keep"])
    try:
        from blobs import open_store

        done["partials"] = open_store(settings).sweep_partials()  # pieces of files nobody went on with for a week
    except Exception:
        log.warning("sweeping partial files failed", exc_info=True)
    if any(done.values()):
        log.info("storage upkeep: %s", done)
    free_mb = shutil.disk_usage(settings["data_dir"]).free / 1024**2
    if free_mb < settings.get("disk_warn_mb", 1024):
        log.warning("only %.0f MB free on the data disk (%s): see the console's storage check", free_mb,
                    settings["data_dir"])
    return done
