"""Logging set-up shared by every process (no web imports: the worker and device service use it).

Every handler set up here masks phone numbers (``0912345678`` -> ``09******78``): a log is
read by technicians and sent in support bundles, a citizen's number has no place in it.
"""
import logging
import logging.handlers
import re

PHONE = re.compile(r"(?<![\w+.])(?:\+84|84|0)\d{8,10}(?![\w])")


def mask_phone(text):
    """``0912345678`` -> ``09******78``; an e-mail address keeps its first two letters and domain."""
    text = str(text)
    if "@" in text:
        name, _, domain = text.partition("@")
        return f"{name[:2]}***@{domain}"
    keep = 3 if text.startswith("+") else 2
    return text[:keep] + "*" * max(len(text) - keep - 2, 3) + text[-2:] if len(text) > keep + 4 else "***"


def mask_phones(text):
    """``text`` with every phone number in it masked."""
    return PHONE.sub(lambda m: mask_phone(m.group(0)), text)


class PhoneMask(logging.Filter):
    """Masks phone numbers in a record's message (put on handlers: they see every record)."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        masked = mask_phones(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def mask_handler(handler):
    if not any(isinstance(f, PhoneMask) for f in handler.filters):
        handler.addFilter(PhoneMask())
    return handler


def configure_logging(level):
    logging.basicConfig(level=level.upper(), force=True, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        mask_handler(handler)


def rotating_file_handler(path, max_mb=1.0, count=3):
    """A handler writing ``path`` in UTF-8 that rotates it at ``max_mb`` MB and keeps ``count``
    older files (``path.1`` ... ``path.<count>``): a log never takes more than
    ``(count + 1) * max_mb`` MB of an SD card. Phone numbers are masked."""
    max_bytes = max(int(float(max_mb) * 1024**2), 64 * 1024)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=max(int(count), 1),
                                                   encoding="utf-8", delay=True)
    return mask_handler(handler)
