"""Bounded growth of a box's change log: confirmed entries are kept for a while, then deleted.

Only entries the hub confirmed (``seq <= acked_seq``) and older than ``keep_days`` go; an
unconfirmed entry is never deleted. The newest deleted entry's seq and hash stay on the node
(``pruned_seq`` / ``pruned_hash``): the chain that remains starts from that anchor and can
still be verified link by link up to ``last_seq`` / ``last_hash``.
"""
import json
import logging
from datetime import timedelta

from office.clock import utcnow
from office.db import database

from .capture import entry_hash, this_node
from .models import ChangeEntry, SyncNode

log = logging.getLogger("motcua.retention")


def prune(keep_days, now=None, batch=5000):
    """Delete this node's confirmed entries older than ``keep_days`` days (0: keep all), at most
    ``batch`` per transaction (the kiosk waits for the write lock meanwhile). Returns how many
    were deleted."""
    if not keep_days or keep_days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    node = this_node()
    last = (ChangeEntry.select(ChangeEntry.seq, ChangeEntry.hash)
            .where(ChangeEntry.origin == node.node_id, ChangeEntry.seq <= node.acked_seq,
                   ChangeEntry.created_at < cutoff)
            .order_by(ChangeEntry.seq.desc()).first())
    if last is None or last.seq <= node.pruned_seq:
        return 0
    deleted, anchor = 0, node.pruned_seq
    while anchor < last.seq:
        edge = (ChangeEntry.select(ChangeEntry.seq, ChangeEntry.hash)
                .where(ChangeEntry.origin == node.node_id, ChangeEntry.seq > anchor, ChangeEntry.seq <= last.seq)
                .order_by(ChangeEntry.seq).offset(batch - 1).first()) or last
        with database.atomic():
            deleted += (ChangeEntry.delete()
                        .where(ChangeEntry.origin == node.node_id, ChangeEntry.seq <= edge.seq).execute())
            SyncNode.update(pruned_seq=edge.seq, pruned_hash=edge.hash).where(SyncNode.id == node.id).execute()
        anchor = edge.seq
    log.info("change log: deleted %s confirmed entries up to seq %s", deleted, last.seq)
    return deleted


def kept_entries():
    """How many of this node's own entries the box still holds."""
    node = this_node()
    return node.last_seq - node.pruned_seq


def verify_chain(batch=5000):
    """Check this node's own change log from its anchor to its head: no gap, every entry
    hashes to its ``hash`` and names its predecessor's. Returns ``(True, "")`` or
    ``(False, what is wrong)`` (Vietnamese)."""
    node = this_node()
    seq, prev = node.pruned_seq, node.pruned_hash
    columns = [f.name for f in ChangeEntry._meta.sorted_fields]
    while True:
        rows = (ChangeEntry.select().where(ChangeEntry.origin == node.node_id, ChangeEntry.seq > seq)
                .order_by(ChangeEntry.seq).limit(batch).tuples())
        count = 0
        for values in rows:
            entry, count = dict(zip(columns, values)), count + 1
            if entry["seq"] != seq + 1:
                return False, f"Nhật ký thay đổi thiếu mục số {seq + 1}."
            if entry["prev"] != prev:
                return False, f"Mục số {entry['seq']} không nối tiếp mục trước."
            entry["data"], entry["base"] = json.loads(entry["data"]), json.loads(entry["base"]) if entry["base"] else {}
            if entry_hash(entry) != entry["hash"]:
                return False, f"Mục số {entry['seq']} đã bị sửa (mã băm không khớp)."
            seq, prev = entry["seq"], entry["hash"]
        if count < batch:
            break
    if (seq, prev) != (node.last_seq, node.last_hash):
        return False, f"Nhật ký thay đổi dừng ở mục số {seq}, đầu chuỗi là {node.last_seq}."
    return True, ""
