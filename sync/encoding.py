"""Canonical bytes: the same value always encodes to the same bytes, on every node."""
import hashlib
import json
from datetime import date, datetime


def _default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot encode {type(value).__name__}")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def canonical(obj):
    return _ENCODER.encode(obj).encode()


def digest(data):
    return hashlib.sha256(data).hexdigest()
