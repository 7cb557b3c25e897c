"""The merge, as pure functions: no clock reads, no I/O, same answer for any arrival order.

``verify_chain`` decides which received entries of one origin may apply; ``field_outcome``
decides the value of a shared field and which concurrent values it overwrote. The
database layers (``sync.apply`` on both sides, ``central.ingest`` at the hub) only fetch
what these functions need and write what they decide.
"""
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _text

from .encoding import canonical_text, digest
from .hlc import wall_ms
from .policy import may_write


@dataclass(frozen=True)
class Write:
    """One write of one field of a shared row."""

    hlc: int
    origin: str
    base: int  # the stamp of the value the writer saw (0: none)
    value: object = None

    @property
    def order(self):
        return (self.hlc, self.origin)  # the node id breaks ties between equal stamps


def wins(a, b):
    """Whether write ``a`` beats write ``b`` under last-writer-wins."""
    return a.order > b.order


def field_outcome(writes):
    """(winner, losers) of all writes ever made to one field.

    A loser is a value overwritten by a write made without seeing it (its base is older):
    a concurrent edit a person should look at. A value its successor built upon is not.
    """
    writes = set(writes)
    winner = max(writes, key=lambda w: w.order)
    losers = {v for v in writes if any(wins(w, v) and w.base < v.hlc for w in writes)}
    return winner, losers


@dataclass
class ChainVerdict:
    apply: list  # entries to apply, in seq order
    duplicates: int  # entries already applied, identical
    fork: dict | None  # an entry whose (origin, seq) was applied with other content
    reason: str | None  # why the rest was refused
    message: str | None
    texts: dict = field(default_factory=dict)  # seq -> (data, base) as canonical JSON, of the entries to apply


def entry_texts(entry):
    """(hash, data, base) of an entry: its hash as ``capture.entry_hash`` makes it, with the
    canonical JSON of its data and base (what a receiver's log keeps), each encoded once.

    The canonical JSON of a list is its items' canonical JSON between brackets, joined by commas:
    the hashed text is put together from the parts (a field of an unexpected type: encoded whole)."""
    data = canonical_text(entry["data"])
    base = "{}" if entry["base"] == {} else canonical_text(entry["base"])
    origin, seq, hlc, table, pk, op, scope, prev = (entry["origin"], entry["seq"], entry["hlc"], entry["table"],
                                                    entry["pk"], entry["op"], entry["scope"], entry["prev"])
    if (type(seq) is int and type(hlc) is int and type(origin) is str and type(table) is str  # noqa: E721
            and type(pk) is str and type(op) is str and type(scope) is str and type(prev) is str):  # noqa: E721
        text = (f"[{_text(origin)},{seq},{hlc},{_text(table)},{_text(pk)},{_text(op)},{_text(scope)},"
                f"{data},{base},{_text(prev)}]")
    else:
        text = canonical_text([origin, seq, hlc, table, pk, op, scope, entry["data"], entry["base"], prev])
    return digest(text.encode()), data, base


def verify_chain(entries, acked_seq, last_hash, known_hash_at):
    """Check one origin's entries against what the receiver already holds.

    ``known_hash_at(seq)`` gives the hash applied at ``seq`` (for seq <= acked_seq).
    Entries must continue the chain from ``acked_seq`` without gap; each must hash to its
    own hash and carry its predecessor's hash. ``verdict.texts`` keeps the canonical data and
    base of the entries to apply, encoded while hashing them.
    """
    verdict = ChainVerdict([], 0, None, None, None)
    prev = last_hash
    expected = acked_seq + 1
    for entry in sorted(entries, key=lambda e: e["seq"]):
        seq = entry["seq"]
        hashed, data, base = entry_texts(entry)
        if hashed != entry["hash"]:
            return _refuse(verdict, "bad_hash", f"Mục số {seq} không khớp mã băm của nó (dữ liệu bị sửa).")
        if seq <= acked_seq:
            if known_hash_at(seq) == entry["hash"]:
                verdict.duplicates += 1
                continue
            verdict.fork = entry
            return _refuse(verdict, "fork", f"Mục số {seq} đã nhận với nội dung khác: hộp bị nhân bản hoặc dữ liệu bị làm giả.")
        if seq != expected:
            return _refuse(verdict, "gap", f"Thiếu các mục từ số {expected} đến {seq - 1}; cần gửi lại từ số {expected}.")
        if entry["prev"] != prev:
            return _refuse(verdict, "bad_chain", f"Mục số {seq} không nối tiếp mục trước (chuỗi băm bị cắt hoặc ghép).")
        verdict.apply.append(entry)
        verdict.texts[seq] = (data, base)
        prev, expected = entry["hash"], seq + 1
    return verdict


def _refuse(verdict, reason, message):
    verdict.reason, verdict.message = reason, message
    return verdict


def check_entry(entry, policies, writer_scope, writer_is_hub, row_scope, hub_now_ms, future_bound_ms, routed=False):
    """Why this entry may not apply at the hub, or None. ``row_scope`` is the stored row's;
    ``routed``: another commune's row this box may write (a dossier it decides, phi địa giới)."""
    table = entry["table"]
    policy = policies.get(table)
    if policy is None:
        return "unknown_table", f"Bảng “{table}” không được đồng bộ."
    reason = may_write(policy, writer_is_hub, entry["op"])
    if reason:
        return "not_owner", f"{table}: {reason}."
    if not writer_is_hub and not routed and (entry["scope"] != writer_scope or row_scope not in (None, writer_scope)):
        return "scope", f"Hộp của xã {writer_scope} không được ghi dữ liệu của xã {row_scope or entry['scope']}."
    if wall_ms(entry["hlc"]) > hub_now_ms + future_bound_ms:
        return "future", "Dấu thời gian ở tương lai quá xa so với đồng hồ trung tâm (đồng hồ của hộp sai)."
    return None
