"""Logging set-up shared by every process (no web imports: the worker and device service use it)."""
import logging


def configure_logging(level):
    logging.basicConfig(level=level.upper(), force=True, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
