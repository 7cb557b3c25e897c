"""Software releases at the hub: publish one to communes or waves, tell each box what to run,
keep what boxes report, and say where every rollout stands (the fleet page)."""
import os
import shutil
from pathlib import Path

from office.clock import utcnow
from office.communes import find_commune
from office.db import database
from office.errors import Conflict, MotcuaError, NotFound
from updates.manifest import build_manifest, check_version, sign_manifest
from updates.state import LABELS, PENDING, SWITCHED

from .models import BoxNode
from .releases_models import BoxSoftware, Release, ReleaseWave


def release_store(data_dir, version):
    return Path(data_dir) / "releases" / check_version(version)


def parse_communes(text):
    codes = [c.strip() for c in (text or "").split(",") if c.strip()]
    for code in codes:
        if find_commune(code) is None:
            raise NotFound(f"Không có xã/phường mã “{code}”.")
    return codes


def publish(data_dir, key, wheels_dir, version, communes="", wave=None, actor="", now=None):
    """Copy the wheels into the hub's store, sign their manifest, create the release for
    ``communes`` (comma-separated GSO codes) and/or ``wave``."""
    now = now or utcnow()
    codes = parse_communes(communes)
    if not codes and not wave:
        raise MotcuaError("Chọn xã/phường (--communes) hoặc đợt (--wave) nhận bản cập nhật.")
    if Release.get_or_none(Release.version == version) is not None:
        raise Conflict(f"Bản {version} đã được phát hành; dùng “release target” để thêm xã/phường hoặc đợt.")
    manifest = build_manifest(wheels_dir, version, now.isoformat() + "Z")
    store = release_store(data_dir, version)
    store.mkdir(parents=True, exist_ok=True)
    for item in manifest["files"]:
        temporary = store / f".{item['name']}.tmp"
        shutil.copyfile(Path(wheels_dir) / item["name"], temporary)
        os.replace(temporary, store / item["name"])
    body, signature = sign_manifest(key, manifest)
    return Release.create(version=version, manifest=body.decode(), signature=signature, published_at=now,
                          published_by=actor, communes=",".join(codes), wave=wave or None)


def extend(version, communes="", wave=None):
    release = Release.get_or_none(Release.version == version)
    if release is None:
        raise NotFound(f"Không có bản {version}.")
    codes = [c for c in release.communes.split(",") if c] + [c for c in parse_communes(communes)]
    release.communes = ",".join(dict.fromkeys(codes))
    if wave:
        release.wave = max(release.wave or 0, int(wave))
    release.save()
    return release


def set_wave(wave, communes):
    codes = parse_communes(communes)
    with database.atomic():
        for code in codes:
            ReleaseWave.insert(commune=code, wave=int(wave)).on_conflict(
                conflict_target=[ReleaseWave.commune], update={ReleaseWave.wave: int(wave)}).execute()
    return codes


def targets(release, commune, waves=None):
    if commune in release.communes.split(","):
        return True
    if release.wave:
        wave = (waves or {}).get(commune) if waves is not None else _wave_of(commune)
        return wave is not None and wave <= release.wave
    return False


def _wave_of(commune):
    row = ReleaseWave.get_or_none(ReleaseWave.commune == commune)
    return row.wave if row else None


def offer_for(box):
    """The release this box should run: the newest one meant for its commune, or None."""
    for release in Release.select().order_by(Release.id.desc()):
        if targets(release, box.commune):
            return release
    return None


def record_hello(box, report, now=None):
    """Keep what a box said about its software (``{version, rollout: {version, state, reason, at}}``)."""
    rollout = report.get("rollout") or {}
    values = {"version": str(report.get("version") or "")[:64],
              "rollout_version": str(rollout.get("version") or "")[:64],
              "state": str(rollout.get("state") or "")[:32], "reason": str(rollout.get("reason") or "")[:500],
              "state_at": str(rollout.get("at") or "")[:40], "reported_at": now or utcnow()}
    BoxSoftware.insert(node_id=box.node_id, **values).on_conflict(
        conflict_target=[BoxSoftware.node_id], update=values).execute()


def software_by_box():
    return {row.node_id: row for row in BoxSoftware.select()}


def box_state(release, software):
    """Where ``release`` stands on a box, from its last report."""
    if software is None:
        return PENDING, ""
    if software.rollout_version == release.version and software.state:
        return software.state, software.reason
    if software.version == release.version:
        return SWITCHED, ""
    return PENDING, ""


def rollout_rows(limit=10):
    """Each recent release with the state of every box it is meant for."""
    waves = {w.commune: w.wave for w in ReleaseWave.select()}
    software = software_by_box()
    boxes = list(BoxNode.select().where(BoxNode.status == BoxNode.ACTIVE).order_by(BoxNode.commune))
    rows = []
    for release in Release.select().order_by(Release.id.desc()).limit(limit):
        entries, counts = [], {}
        for box in boxes:
            if not targets(release, box.commune, waves):
                continue
            state, reason = box_state(release, software.get(box.node_id))
            counts[state] = counts.get(state, 0) + 1
            commune = find_commune(box.commune)
            entries.append({"node_id": box.node_id, "commune": box.commune,
                            "commune_name": commune.full_name if commune else box.commune,
                            "state": state, "state_label": LABELS.get(state, state), "reason": reason})
        summary = " · ".join(f"{LABELS.get(k, k)}: {v}" for k, v in sorted(counts.items()))
        rows.append({"version": release.version, "published_at": release.published_at.isoformat() + "Z",
                     "published_label": release.published_at.strftime("%d/%m/%Y %H:%M UTC"), "summary": summary,
                     "published_by": release.published_by, "communes": release.communes, "wave": release.wave,
                     "counts": counts, "boxes": entries})
    return rows
