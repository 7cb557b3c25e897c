"""The box's side of an update, run by the worker every minute (``update_step``).

1. Say which version it runs and where its last rollout stands (signed hello to the hub); the
   hub answers with the release meant for this box's commune, if any.
2. A release it does not run and never refused: check the manifest's signature with the pinned
   hub key, download what is missing (resumable), install it beside the running version.
3. In the quiet time (``update_window``), start the switch and its guard (``updates.switch``).

Offline, step 1 fails and is tried at the next run; a release already downloaded or installed is
carried on meanwhile. A box that missed a rollout gets it at its first hello afterwards.
"""
import json
import logging
import time

from office.errors import MotcuaError

from . import state
from .download import download_release
from .install import install_release, installed
from .manifest import ManifestRefused, check_version, verify_manifest
from .switch import check_health, launch_switch
from .window import in_window

log = logging.getLogger("motcua.updates")


def hello(settings, key):
    """Tell the hub what runs here; its answer: ``{"release": {version, manifest, signature} | None}``."""
    from sync.box import client_for

    client = client_for(settings, key)
    body = json.dumps(state.report(settings), ensure_ascii=False).encode()
    return client.signed_post("hello", "/sync/v1/hello", body), client


def update_step(settings, key, now=None):
    """One run of the worker's update job; returns what it did, for the log."""
    from edge.process_lock import process_lock
    from sync.box import hub_url
    from sync.client import HubRefused, HubUnreachable

    state.mark_worker_alive(settings)
    with process_lock(settings["data_dir"], "update") as free:
        if not free:
            return "busy"
        done = []
        if hub_url(settings):
            try:
                answer, client = hello(settings, key)
                offer = answer.get("release")
                if offer:
                    done.append(consider(settings, offer, client))
            except (HubUnreachable, HubRefused) as exc:
                done.append(f"hello failed: {getattr(exc, 'message', None) or exc}")
        done.append(maybe_switch(settings, now))
        return "; ".join(filter(None, done))


def consider(settings, offer, client):
    """Fetch and install the offered release when this box should run it."""
    from sync.box import _hub_key

    version = offer.get("version") or ""
    try:
        check_version(version)
    except MotcuaError:
        return f"offer with a bad version refused: {version[:70]!r}"
    current = state.load(settings)
    if version == state.running_version() or version in current["refused"]:
        return ""
    release = state.release_dir(settings, version)
    if installed(release):
        if current.get("version") != version:
            state.save(settings, version=version, state=state.INSTALLED, reason="")
        return ""
    try:
        manifest = verify_manifest(offer.get("manifest", ""), offer.get("signature", ""), _hub_key(client))
        if manifest["version"] != version:
            raise ManifestRefused(f"Bản kê ghi phiên bản {manifest['version']}, không phải {version}.")
    except ManifestRefused as exc:
        state.refuse(settings, version, state.FAILED, exc.message)
        log.error("release %s refused: %s", version, exc.message)
        return f"refused {version}"
    release.mkdir(parents=True, exist_ok=True)
    state.write_json(release / "manifest.json", {"manifest": offer["manifest"], "signature": offer["signature"]})
    if current.get("version") != version or current.get("state") != state.DOWNLOADING:
        state.save(settings, version=version, state=state.DOWNLOADING, reason="")
    try:
        stats = download_release(client.session, client.base, manifest, release / "wheels",
                                 timeout=settings.get("sync_timeout", 20.0) * 3)
    except ManifestRefused as exc:
        state.refuse(settings, version, state.FAILED, exc.message)
        log.error("release %s refused: %s", version, exc.message)
        return f"refused {version}"
    except Exception as exc:  # network, disk: kept, resumed at the next run
        state.save(settings, reason=f"tải chưa xong: {str(exc)[:300]}")
        log.warning("download of %s interrupted: %s", version, exc)
        return f"download of {version} interrupted"
    try:
        install_release(release, version, shared=settings.get("update_shared_packages", True), log=log)
    except MotcuaError as exc:
        state.refuse(settings, version, state.FAILED, f"cài đặt thất bại: {exc.message}")
        log.error("install of %s failed: %s", version, exc.message)
        return f"install of {version} failed"
    state.save(settings, version=version, state=state.INSTALLED, reason="")
    log.info("release %s installed (%s bytes downloaded)", version, stats.get("bytes", 0))
    return f"installed {version}"


def maybe_switch(settings, now=None):
    """Start the switch to an installed release in the quiet time; settle a switch whose guard died."""
    current = state.load(settings)
    version = current.get("version")
    if current.get("state") == state.SWITCHING and time.time() > float(current.get("deadline") or 0) + 60:
        # The guard did not finish (the box lost power meanwhile): judge by what runs now.
        if version == state.running_version() and check_health(settings, version, 0) is None:
            state.save(settings, state=state.SWITCHED, reason="")
            return f"{version} healthy after an interrupted switch"
        state.refuse(settings, version, state.FAILED, "chuyển phiên bản bị gián đoạn")
        return f"switch to {version} interrupted"
    if current.get("state") != state.INSTALLED or version == state.running_version():
        return ""
    if not installed(state.release_dir(settings, version)):
        return ""
    if not in_window(settings.get("update_window", "12:00-13:00"), settings["timezone"], now):
        return ""
    state.save(settings, state=state.SWITCHING, reason="", deadline=time.time() + 120)  # the guard sets the real one
    pid = launch_switch(settings, version)
    log.info("switch to %s started (guard pid %s)", version, pid)
    return f"switching to {version}"
