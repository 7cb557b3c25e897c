"""The boxes a hub knows: registration, revocation, and how each one is doing."""
from datetime import timedelta

from peewee import fn

from office.clock import utcnow
from office.communes import find_commune
from office.db import database
from office.errors import Conflict, MotcuaError, NotFound
from sync.keys import load_public_text, node_id

from .models import Alert, BoxNode, HeldEntry, RefusalCount
from .releases import software_by_box

STALE_AFTER = timedelta(minutes=15)


def register_box(commune_code, public_key_text, replaces=None, now=None):
    """Bind a box's public key to a commune; optionally revoke the box it replaces."""
    now = now or utcnow()
    if find_commune(commune_code) is None:
        raise NotFound(f"Không có xã/phường mã “{commune_code}”.")
    node = node_id(load_public_text(public_key_text))
    with database.atomic():
        existing = BoxNode.get_or_none(BoxNode.node_id == node)
        if existing is not None:
            if existing.commune != commune_code:
                raise Conflict(f"Khoá này đã đăng ký cho xã {existing.commune}.")
            return existing
        if replaces:
            revoke_box(replaces, f"thay bằng {node}", now=now)
        return BoxNode.create(node_id=node, commune=commune_code, public_key=public_key_text.strip(), registered_at=now)


def revoke_box(node, reason="thu hồi", now=None):
    with database.atomic():
        box = BoxNode.get_or_none(BoxNode.node_id == node)
        if box is None:
            raise NotFound(f"Không có hộp {node}.")
        BoxNode.update(status=BoxNode.REVOKED, status_reason=reason).where(BoxNode.id == box.id).execute()
        Alert.create(at=now or utcnow(), kind="revoked", origin=node, message=f"Đã thu hồi khoá: {reason}")
    return box


def release_box(node):
    """Lift a quarantine after a person looked (e.g. the clone was switched off)."""
    box = BoxNode.get_or_none(BoxNode.node_id == node)
    if box is None:
        raise NotFound(f"Không có hộp {node}.")
    if box.status != BoxNode.QUARANTINED:
        raise MotcuaError("Hộp này không bị cách ly.")
    BoxNode.update(status=BoxNode.ACTIVE, status_reason="").where(BoxNode.id == box.id).execute()
    return box


def record_contact(box_id, now=None, pending=None):
    """A box was heard from: a pull, a snapshot, a hello or a push, with data or without. Every
    contact counts for "Lần cuối liên lạc" and the silence alert, not only pushes with data."""
    values = {"last_seen_at": now or utcnow()}
    if pending is not None:
        values["pending_estimate"] = max(int(pending), 0)
    BoxNode.update(**values).where(BoxNode.id == box_id).execute()


def box_rows(now=None):
    now = now or utcnow()
    rows = []
    held = dict(HeldEntry.select(HeldEntry.origin, fn.COUNT(HeldEntry.id)).group_by(HeldEntry.origin).tuples())
    refused = dict(RefusalCount.select(RefusalCount.origin, fn.SUM(RefusalCount.count))
                   .group_by(RefusalCount.origin).tuples())
    software = software_by_box()
    for box in BoxNode.select().order_by(BoxNode.commune, BoxNode.registered_at):
        commune = find_commune(box.commune)
        stale = box.last_seen_at is None or now - box.last_seen_at > STALE_AFTER
        rows.append({
            "node_id": box.node_id,
            "commune": box.commune,
            "commune_name": commune.full_name if commune else box.commune,
            "province": commune.province_name if commune else "",
            "status": box.status,
            "status_reason": box.status_reason,
            "last_seen_at": box.last_seen_at.isoformat() + "Z" if box.last_seen_at else None,
            "stale": stale and box.status == BoxNode.ACTIVE,
            "acked_seq": box.acked_seq,
            "pending_estimate": box.pending_estimate,
            "clock_offset_ms": box.clock_offset_ms,
            "quarantined": box.status == BoxNode.QUARANTINED,
            "held_entries": held.get(box.node_id, 0),  # received, not applied: see the alerts
            "refused_requests": int(refused.get(box.node_id) or 0),  # in its name, proving nothing (refusal_count)
            "version": software[box.node_id].version if box.node_id in software else "",  # said at its last hello
        })
    return rows
