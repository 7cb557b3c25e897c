"""Canonical bytes: the same value always encodes to the same bytes, on every node."""
import hashlib
import json
from datetime import date, datetime
from json.encoder import c_make_encoder, encode_basestring

from office.clock import datetime_text


def _default(value):
    if isinstance(value, (datetime, date)):
        return datetime_text(value) if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot encode {type(value).__name__}")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)
# The C encoder ``_ENCODER.encode`` builds on every call, built once (a third of the cost of a
# small value): the same output, without the check for circular values (JSON data has none).
_C_ENCODE = c_make_encoder and c_make_encoder(None, _default, encode_basestring, None, ":", ",", True, False, True)


def canonical_text(obj):
    """``canonical`` as text."""
    if _C_ENCODE is None:
        return _ENCODER.encode(obj)
    if isinstance(obj, str):
        return encode_basestring(obj)
    return "".join(_C_ENCODE(obj, 0))


def canonical(obj):
    return canonical_text(obj).encode()


def digest(data):
    return hashlib.sha256(data).hexdigest()
