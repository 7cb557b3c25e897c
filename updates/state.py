"""Where a box's releases live and what its update stands at, in one JSON file every version reads.

``<prefix>/releases/<version>/`` holds a release's signed manifest, its wheels and its ``venv``;
``<prefix>/current`` is the link the services run from (``current/venv/bin/motcua``). The state
file is written atomically (temporary file, fsync, rename), never half.
"""
import functools
import json
import os
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

PENDING, DOWNLOADING, INSTALLED, SWITCHING, SWITCHED, ROLLED_BACK, FAILED = (
    "pending", "downloading", "installed", "switching", "switched", "rolled_back", "failed")
LABELS = {PENDING: "Chờ tải", DOWNLOADING: "Đang tải", INSTALLED: "Đã cài, chờ giờ chuyển",
          SWITCHING: "Đang chuyển", SWITCHED: "Đã chuyển", ROLLED_BACK: "Đã quay lại bản cũ", FAILED: "Lỗi"}


@functools.lru_cache(maxsize=1)
def running_version():
    """The motcua version this process runs."""
    try:
        return metadata.version("motcua")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def prefix(settings):
    return Path(settings.get("update_prefix") or Path(settings["data_dir"]) / "software")


def releases_dir(settings):
    return prefix(settings) / "releases"


def release_dir(settings, version):
    return releases_dir(settings) / version


def current_link(settings):
    return prefix(settings) / "current"


def now_iso():
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write_json(path, data):
    """Write ``data`` to ``path`` whole or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    sync_dir(path.parent)


def sync_dir(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_json(path, default=None):
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return default


def load(settings):
    """``{version, state, reason, at, previous, deadline, refused: [...]}``; empty when no update ever ran."""
    data = read_json(prefix(settings) / "update-state.json", {}) or {}
    data.setdefault("refused", [])
    return data


def save(settings, **changes):
    data = load(settings)
    data.update(changes)
    data["at"] = now_iso()
    write_json(prefix(settings) / "update-state.json", data)
    return data


def refuse(settings, version, state, reason):
    """Record that ``version`` failed here (``state`` failed or rolled_back): it is never tried again."""
    data = load(settings)
    refused = [v for v in data["refused"] if v != version] + [version]
    return save(settings, version=version, state=state, reason=reason[:500], refused=refused[-20:])


def report(settings):
    """What the box tells the hub on hello: the version it runs and where its last rollout stands."""
    data = load(settings)
    rollout = {k: data.get(k) for k in ("version", "state", "reason", "at")} if data.get("version") else None
    return {"version": running_version(), "rollout": rollout}


def mark_worker_alive(settings):
    """The worker of this version started and runs its periodic jobs (a health check of a switch)."""
    write_json(prefix(settings) / "worker-alive.json",
               {"version": running_version(), "pid": os.getpid(), "time": time.time(), "at": now_iso(),
                "python": sys.executable})


def worker_alive(settings):
    return read_json(prefix(settings) / "worker-alive.json", {}) or {}
