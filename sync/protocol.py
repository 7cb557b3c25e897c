"""The batch: what crosses the wire between a box and the hub, in both directions.

A batch is the gzip of the canonical JSON of ``{protocol, schema, origin, sent_hlc,
entries}``, each entry an array (arrays halve the cost of JSON against dicts). It is signed
once, with the sender's Ed25519 key, over the exact bytes sent; the receiver checks the
signature before it even decompresses, then inflates it in a stream that stops at a hard cap
(a gzip bomb costs the receiver ``MAX_RAW`` bytes at most). Entries keep their own hash chain inside.

Freshness: every signed box request carries a timestamp (the box's estimate of the hub's
clock, in ms) and a nonce, under the signature. Pulls and snapshots sign them with the query
(``request_message``; headers ``X-Motcua-Time`` and ``X-Motcua-Nonce``); pushes carry them in
the batch's ``extra`` (``at_ms``, ``nonce``), so the body is signed exactly as before; enrolment
requests in their JSON (``sent_ms``, ``nonce``). The hub refuses a request outside its window
or seen before (see ``central.replay``).
"""
import gzip
import hashlib
import json
import secrets
import time
import zlib
from dataclasses import dataclass
from json.encoder import encode_basestring as _text

from office.errors import MotcuaError

from .encoding import canonical, canonical_text
from .keys import sign, verify

PROTOCOL = 1
SCHEMA = 7  # the replicated tables' shape; bump when a replicated model changes (and say what in sync.schemas)
ACCEPTED_PROTOCOLS = (PROTOCOL, PROTOCOL - 1)
ACCEPTED_SCHEMAS = (SCHEMA, SCHEMA - 1)
MAX_BODY = 32 * 1024 * 1024
MAX_RAW = 64 * 1024 * 1024  # a pushed batch, inflated; a full batch of 2,000 box entries is a few MB
MAX_PULL_RAW = 256 * 1024 * 1024  # a batch from the hub (signed by the key the box pinned): catalog rows are large

FIELDS = ("seq", "hlc", "table", "pk", "op", "scope", "data", "base", "prev", "hash")
RELAYED = ("origin",) + FIELDS  # pulled entries come from many origins

ORIGIN, SIGNATURE, NONCE = "X-Motcua-Origin", "X-Motcua-Signature", "X-Motcua-Nonce"
TIME = "X-Motcua-Time"  # the request's timestamp: the box's estimate of the hub's clock (ms)
HUB_TIME = "X-Motcua-Hub-Time"  # the hub's clock, on every answer


def request_message(action, origin, query, nonce, at_ms):
    """The bytes a box signs to ask for a pull or a snapshot."""
    return f"{action}\n{origin}\n{query}\n{nonce}\n{at_ms}".encode()


def new_nonce():
    return secrets.token_hex(16)


def push_stamp(batch):
    """(timestamp ms or None, nonce) of a pushed batch, both under its signature.

    Boxes of the previous release send no ``at_ms``: their ``sent_ms`` (their own clock) is
    the timestamp. The nonce is the body's hash: the same bytes again are a replay whatever
    the sender put in them.
    """
    at = batch.extra.get("at_ms", batch.extra.get("sent_ms"))
    try:
        at = int(at) if at is not None else None
    except (TypeError, ValueError):
        at = None
    return at, batch.digest


class BatchRejected(MotcuaError):
    """A batch that must not be applied; ``reason`` is a short code, the message Vietnamese."""

    def __init__(self, reason, message, status=400):
        super().__init__(message, status=status, detail={"reason": reason})
        self.reason = reason


@dataclass
class Batch:
    origin: str
    protocol: int
    schema: int
    sent_hlc: int
    entries: list  # dicts with the keys of FIELDS plus "origin"
    extra: dict
    digest: str = ""  # sha256 of the signed body


def entry_row(entry, fields=FIELDS):
    """An entry dict as the array sent on the wire."""
    return [entry[name] for name in fields]


def encode_batch(origin, rows, key, sent_hlc, extra=None, protocol=PROTOCOL, schema=SCHEMA, at_ms=None):
    """(body, signature) for entry arrays ``rows`` signed by ``key``.

    ``at_ms``: the sender's estimate of the hub's clock (default: its own clock); with a fresh
    nonce it makes every batch unique and datable.
    """
    doc = {"protocol": protocol, "schema": schema, "origin": origin, "sent_hlc": sent_hlc, "entries": rows}
    doc["extra"] = _stamped(extra, at_ms)
    return _sealed(canonical(doc), key)


def encode_batch_texts(origin, texts, key, sent_hlc, extra=None, protocol=PROTOCOL, schema=SCHEMA, at_ms=None):
    """``encode_batch`` for entries already in canonical JSON (``entry_text``), as a box's log
    keeps them: the same bytes, without decoding the log to encode it again."""
    return _sealed(batch_json(origin, texts, sent_hlc, _stamped(extra, at_ms), protocol, schema).encode(), key)


def batch_json(origin, texts, sent_hlc, extra, protocol=PROTOCOL, schema=SCHEMA):
    """The canonical JSON of a batch whose entries are the canonical texts ``texts``.

    Canonical JSON sorts keys, and "entries" sorts before every other key of a batch: the entries
    go first, the rest is the canonical JSON of the other keys."""
    rest = canonical_text({"protocol": protocol, "schema": schema, "origin": origin, "sent_hlc": sent_hlc,
                           "extra": extra})
    return '{"entries":[' + ",".join(texts) + "]," + rest[1:]


def entry_text(seq, hlc, table, pk, op, scope, data, base, prev, hash_):
    """The canonical JSON of an entry's array (``FIELDS``) from its stored columns: ``data`` and
    ``base`` are canonical JSON texts already (an empty ``base`` is ``{}``), the rest plain values."""
    return (f"[{seq},{hlc},{_text(table)},{_text(pk)},{_text(op)},{_text(scope)},{data},{base or '{}'},"
            f"{_text(prev)},{_text(hash_)}]")


def _stamped(extra, at_ms):
    """``extra`` with the batch's timestamp and a fresh nonce, under the signature."""
    return {**(extra or {}), "at_ms": int(at_ms if at_ms is not None else time.time() * 1000), "nonce": new_nonce()}


def _sealed(raw, key):
    """(gzip of ``raw``, signature over those exact bytes)."""
    body = gzip.compress(raw, compresslevel=1)
    return body, sign(key, body)


def decode_batch(body, signature, public_key, fields=FIELDS, cap=MAX_RAW):
    """Verify and parse a batch; raise ``BatchRejected`` with the reason otherwise."""
    verify_body(body, signature, public_key)
    return parse_batch(body, fields, cap)


def verify_body(body, signature, public_key):
    """Refuse a body too large or not signed by ``public_key`` (before reading any of it)."""
    if len(body) > MAX_BODY:
        raise BatchRejected("too_large", "Lô dữ liệu quá lớn.", status=413)
    if not signature or not verify(public_key, body, signature):
        raise BatchRejected("bad_signature", "Chữ ký của lô dữ liệu không hợp lệ.", status=401)


def parse_batch(body, fields=FIELDS, cap=MAX_RAW):
    """The batch in a verified ``body``; ``BatchRejected`` when it is malformed or of another version."""
    raw = inflate(body, cap)
    try:
        doc = json.loads(raw)
        origin, protocol, schema = doc["origin"], doc["protocol"], doc["schema"]
        rows = doc["entries"]
        if not isinstance(rows, list):
            raise ValueError("entries")
    except (ValueError, KeyError, TypeError) as exc:
        raise BatchRejected("malformed", f"Lô dữ liệu hỏng: {str(exc)[:200]}") from exc
    if protocol not in ACCEPTED_PROTOCOLS or schema not in ACCEPTED_SCHEMAS:
        raise BatchRejected(
            "version",
            f"Phiên bản không được hỗ trợ: giao thức {protocol}, lược đồ {schema}; "
            f"trung tâm nhận giao thức {PROTOCOL} hoặc {PROTOCOL - 1}, lược đồ {SCHEMA} hoặc {SCHEMA - 1}. "
            "Hãy cập nhật phần mềm của hộp.",
            status=409,
        )
    entries = []
    for row in rows:
        if not isinstance(row, list) or len(row) != len(fields):
            raise BatchRejected("malformed", "Một mục trong lô dữ liệu sai cấu trúc.")
        entry = dict(zip(fields, row))
        entry.setdefault("origin", origin)
        entries.append(entry)
    extra = doc.get("extra") or {}
    if not isinstance(extra, dict):
        raise BatchRejected("malformed", "Lô dữ liệu hỏng: phần phụ sai cấu trúc.")
    return Batch(origin, protocol, schema, int(doc.get("sent_hlc") or 0), entries, extra,
                 hashlib.sha256(body).hexdigest())


def inflate(body, cap=MAX_RAW, chunk=256 * 1024):
    """The gunzipped ``body``, inflated piece by piece; refused as soon as it passes ``cap`` bytes."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out, size = [], 0
    try:
        data = inflater.decompress(body, chunk)
        while True:
            size += len(data)
            if size > cap:
                raise BatchRejected("too_large", "Lô dữ liệu sau khi giải nén quá lớn.", status=413)
            out.append(data)
            if not inflater.unconsumed_tail:
                break
            data = inflater.decompress(inflater.unconsumed_tail, chunk)
        if not inflater.eof or inflater.unused_data:
            raise BatchRejected("malformed", "Lô dữ liệu hỏng: dữ liệu nén bị cắt hoặc thừa.")
    except zlib.error as exc:
        raise BatchRejected("malformed", f"Lô dữ liệu hỏng: {exc}") from exc
    return b"".join(out)
