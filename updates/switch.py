"""Switch a box to an installed release, watch it, and switch back by itself when it is not healthy.

Run by the *previous* version as a process of its own (``motcua edge update switch V``, started
detached by the worker so that restarting the services does not stop it): it flips the
``current`` link, restarts the services (setting ``update_restart_command``) and then checks,
until ``update_health_minutes`` have passed, that the new version is healthy: the web answers
``/api/v1/health`` with the new version, the new worker has started its periodic jobs, and the
database passes its integrity check. When healthy, the release stays; otherwise the link goes
back, the services are restarted on the previous version and the reason is kept for the hub.
"""
import logging
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from office.errors import MotcuaError

from . import state
from .install import installed

log = logging.getLogger("motcua.updates")


def point(link, target):
    """Make ``link`` point at ``target`` in one rename (never missing, never half written)."""
    link = Path(link)
    fresh = link.with_name(f".{link.name}.{os.getpid()}.new")
    fresh.unlink(missing_ok=True)
    os.symlink(target, fresh)
    os.replace(fresh, link)
    state.sync_dir(link.parent)


def current_target(settings):
    """Where ``current`` points (the running release's directory), made when missing from the
    environment this process runs in (``<dir>/venv``)."""
    link = state.current_link(settings)
    if link.is_symlink():
        return os.readlink(link)
    running = Path(os.path.realpath(sys.prefix))
    if running.name != "venv":
        raise MotcuaError(f"Phần mềm đang chạy không nằm trong thư mục “venv” ({running}): không chuyển phiên bản được.")
    link.parent.mkdir(parents=True, exist_ok=True)
    point(link, str(running.parent))
    return str(running.parent)


def restart(settings):
    command = shlex.split(settings.get("update_restart_command") or "")
    if not command:
        log.warning("no update_restart_command: the services are not restarted")
        return
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode:
        log.warning("restart command %s failed: %s", command, (done.stderr or done.stdout)[-500:])


def check_health(settings, version, since, session=None):
    """``None`` when ``version`` is healthy, else what is wrong (Vietnamese, for the hub's fleet page)."""
    import requests

    session = session or requests
    try:
        answer = session.get(f"http://127.0.0.1:{settings['port']}/api/v1/health", timeout=5)
    except requests.RequestException as exc:
        return f"trang web không trả lời ({type(exc).__name__})"
    if answer.status_code != 200:
        return f"/api/v1/health trả lời {answer.status_code}"
    try:
        body = answer.json()
    except ValueError:
        return "/api/v1/health không trả lời JSON"
    if not body.get("ok") or body.get("version") != version:
        return f"/api/v1/health: phiên bản {body.get('version')}, không phải {version}"
    alive = state.worker_alive(settings)
    if alive.get("version") != version or float(alive.get("time") or 0) < since:
        return "tiến trình nền (worker) của phiên bản mới chưa chạy"
    from devices import health

    database = health.database(health.read_quick_check(settings["database"]))
    if database["status"] == health.PROBLEM:
        return f"cơ sở dữ liệu: {database['value']}"
    return None


def switch(settings, version, poll_s=1.0):
    """Switch to ``version``, guard it; True when it stayed, False when the box went back."""
    release = state.release_dir(settings, version)
    if not installed(release):
        raise MotcuaError(f"Bản {version} chưa được cài trên hộp.")
    previous = current_target(settings)
    if Path(previous).resolve() == release.resolve():
        raise MotcuaError(f"Hộp đang chạy bản {version}.")
    minutes = float(settings.get("update_health_minutes") or 10)
    since = time.time()
    deadline = since + minutes * 60
    state.save(settings, version=version, state=state.SWITCHING, reason="", previous=previous, deadline=deadline,
               guard_pid=os.getpid())
    point(state.current_link(settings), str(release))
    log.info("switched to %s (previous %s); restarting", version, previous)
    restart(settings)
    problem = "chưa kiểm tra"
    while time.time() < deadline:
        problem = check_health(settings, version, since)
        if problem is None:
            state.save(settings, state=state.SWITCHED, reason="", guard_pid=None)
            log.info("release %s is healthy", version)
            return True
        time.sleep(poll_s)
    point(state.current_link(settings), previous)
    log.warning("release %s not healthy after %s min (%s): back to %s", version, minutes, problem, previous)
    restart(settings)
    reason = f"không khỏe sau {minutes:g} phút: {problem}"
    state.refuse(settings, version, state.ROLLED_BACK, reason)
    state.save(settings, guard_pid=None)
    return False


def launch_switch(settings, version):
    """Start the switch and its guard as a process of its own, from this (the previous) version's
    environment, so that restarting the services does not stop it."""
    python = Path(os.path.realpath(sys.prefix)) / "bin" / "python"
    argv = [str(python if python.exists() else sys.executable), "-m", "motcua", "edge", "update", "switch", version]
    for name in ("data_dir", "database", "port", "timezone", "update_prefix", "update_restart_command",
                 "update_health_minutes", "log_level"):
        if settings.get(name) not in (None, ""):
            argv += [f"--{name.replace('_', '-')}", str(settings[name])]
    logs = Path(settings["data_dir"]) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "update-switch.log", "ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL, cwd=settings["data_dir"],
                                   start_new_session=True)
    return process.pid
