"""The batch: what crosses the wire between a box and the hub, in both directions.

A batch is the gzip of the canonical JSON of ``{protocol, schema, origin, sent_hlc,
entries}``, each entry an array (arrays halve the cost of JSON against dicts). It is signed
once, with the sender's Ed25519 key, over the exact bytes sent; the receiver checks the
signature before it even decompresses. Entries keep their own hash chain inside.
"""
import gzip
import json
from dataclasses import dataclass

from office.errors import MotcuaError

from .encoding import canonical
from .keys import sign, verify

PROTOCOL = 1
SCHEMA = 5  # the replicated tables' shape; bump when a replicated model changes
ACCEPTED_PROTOCOLS = (PROTOCOL, PROTOCOL - 1)
ACCEPTED_SCHEMAS = (SCHEMA, SCHEMA - 1)
MAX_BODY = 32 * 1024 * 1024
MAX_RAW = 256 * 1024 * 1024

FIELDS = ("seq", "hlc", "table", "pk", "op", "scope", "data", "base", "prev", "hash")
RELAYED = ("origin",) + FIELDS  # pulled entries come from many origins

ORIGIN, SIGNATURE, NONCE = "X-Motcua-Origin", "X-Motcua-Signature", "X-Motcua-Nonce"


def request_message(action, origin, query, nonce):
    """The bytes a box signs to ask for a pull or a snapshot."""
    return f"{action}\n{origin}\n{query}\n{nonce}".encode()


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


def entry_row(entry, fields=FIELDS):
    """An entry dict as the array sent on the wire."""
    return [entry[name] for name in fields]


def encode_batch(origin, rows, key, sent_hlc, extra=None, protocol=PROTOCOL, schema=SCHEMA):
    """(body, signature) for entry arrays ``rows`` signed by ``key``."""
    doc = {"protocol": protocol, "schema": schema, "origin": origin, "sent_hlc": sent_hlc, "entries": rows}
    if extra:
        doc["extra"] = extra
    body = gzip.compress(canonical(doc), compresslevel=1)
    return body, sign(key, body)


def decode_batch(body, signature, public_key, fields=FIELDS):
    """Verify and parse a batch; raise ``BatchRejected`` with the reason otherwise."""
    if len(body) > MAX_BODY:
        raise BatchRejected("too_large", "Lô dữ liệu quá lớn.", status=413)
    if not signature or not verify(public_key, body, signature):
        raise BatchRejected("bad_signature", "Chữ ký của lô dữ liệu không hợp lệ.", status=401)
    try:
        raw = gzip.decompress(body)
        if len(raw) > MAX_RAW:
            raise ValueError("too large")
        doc = json.loads(raw)
        origin, protocol, schema = doc["origin"], doc["protocol"], doc["schema"]
        rows = doc["entries"]
        if not isinstance(rows, list):
            raise ValueError("entries")
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise BatchRejected("malformed", f"Lô dữ liệu hỏng: {exc}") from exc
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
    return Batch(origin, protocol, schema, int(doc.get("sent_hlc") or 0), entries, doc.get("extra") or {})
