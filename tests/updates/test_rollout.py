"""A box updated by the hub, for real: release wheels built here, installed into their own
virtual environments (offline: ``--no-index --find-links``, the dependencies seen through the
running environment, see ``updates.install``), switched by flipping ``current`` and restarting
the box's processes (``supervisor.py`` stands in for systemd), rolled back when unhealthy."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.processes import kill_group, wait_for
from tests.sync.conftest import Box, free_port
from updates.install import install_release
from updates.switch import point

from .conftest import motcua, publish
from .wheels import build_wheel

pytestmark = pytest.mark.slow

BROKEN_HEALTH = ("edge/api.py", ("return jsonify(ok=True, version=running_version())",
                                 "return jsonify(ok=False, version=running_version()), 500"))


class UpdatingBox:
    """A box whose processes run from ``<prefix>/current`` under a supervisor, its update job every second."""

    def __init__(self, root, hub):
        self.root = Path(root)
        self.box = Box(self.root / "box", "05518", hub)
        self.box.db.close()
        hub.register(self.box)
        self.dir, self.prefix = self.box.dir, self.box.dir / "software"
        self.port = free_port()
        restart = f"sh -c 'kill -HUP $(cat {self.dir}/supervisor.pid)'"
        (self.dir / "motcua.toml").write_text(
            f'port = {self.port}\nhub_url = "{hub.url}"\ncommune_code = "05518"\nworker_period_seconds = 1\n'
            f'log_level = "INFO"\nupdate_window = "always"\nupdate_health_minutes = 0.4\n'
            f'update_restart_command = "{restart}"\n')
        self.proc = None

    def install_base(self, version):
        release = self.prefix / "releases" / version
        build_wheel(release / "wheels", version)
        install_release(release, version)
        point(self.prefix / "current", str(release))

    def start(self):
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("supervisor.py")), self.prefix,
                                      self.dir], start_new_session=True)
        return self

    def stop(self):
        kill_group(self.proc, signal.SIGTERM, grace=40)

    def health(self):
        try:
            answer = requests.get(f"http://127.0.0.1:{self.port}/api/v1/health", timeout=2)
            return answer.status_code, answer.json().get("version")
        except (requests.RequestException, ValueError):
            return None, None

    def state(self):
        try:
            return json.loads((self.prefix / "update-state.json").read_text())
        except (OSError, ValueError):
            return {}

    def log(self):
        return "".join(p.read_text(errors="replace")[-3000:] for p in [self.dir / "supervisor.log",
                                                                        self.dir / "logs" / "update-switch.log"]
                       if p.exists())


def rollout(hub, version):
    rows = [r for r in hub.api("GET", "/api/v1/releases") if r["version"] == version]
    return rows[0]["boxes"][0] if rows and rows[0]["boxes"] else None


def test_release_installed_and_switched_broken_one_rolled_back_tampered_one_refused(hub, tmp_path):
    box = UpdatingBox(tmp_path, hub)
    box.install_base("0.1.1")
    good = build_wheel(tmp_path / "r2", "0.2.0").parent
    broken = build_wheel(tmp_path / "r3", "0.3.0", dict([BROKEN_HEALTH])).parent
    box.start()
    try:
        wait_for(lambda: box.health() == (200, "0.1.1"), timeout=60, what="the box on its first release")

        # Release 1: downloaded, verified, installed beside the running one, switched, healthy.
        started = time.monotonic()
        publish(hub, good, "0.2.0", "--communes", "05518")
        wait_for(lambda: box.state().get("state") == "switched" and box.state().get("version") == "0.2.0",
                 timeout=180, step=0.5, what="the switch to 0.2.0: " + box.log())
        print(f"\n0.2.0: published to switched and healthy in {time.monotonic() - started:.1f} s")
        assert box.health() == (200, "0.2.0")
        assert (box.prefix / "current").resolve() == (box.prefix / "releases" / "0.2.0").resolve()
        assert (box.prefix / "releases" / "0.1.1" / "venv").is_dir()  # the previous one stays, for going back
        wait_for(lambda: (rollout(hub, "0.2.0") or {}).get("state") == "switched", timeout=60, step=0.5,
                 what="the hub to learn the switch")
        wait_for(lambda: hub.api("GET", "/api/v1/boxes")[0]["version"] == "0.2.0", timeout=60, step=0.5,
                 what="the hub to learn the version in use")

        # Release 2, broken on purpose (its health endpoint fails): the box goes back by itself and says why.
        started = time.monotonic()
        publish(hub, broken, "0.3.0", "--communes", "05518")
        wait_for(lambda: box.state().get("state") == "rolled_back", timeout=240, step=0.5,
                 what="the rollback of 0.3.0: " + box.log())
        print(f"0.3.0 (broken): published to rolled back in {time.monotonic() - started:.1f} s "
              f"(update_health_minutes 0.4)")
        assert box.state()["version"] == "0.3.0" and "500" in box.state()["reason"]
        wait_for(lambda: box.health() == (200, "0.2.0"), timeout=60, what="0.2.0 serving again")
        assert (box.prefix / "current").resolve() == (box.prefix / "releases" / "0.2.0").resolve()
        reported = wait_for(lambda: (lambda r: r if r and r["state"] == "rolled_back" else None)(
            rollout(hub, "0.3.0")), timeout=60, step=0.5, what="the hub to learn the rollback")
        assert "500" in reported["reason"]
        wait_for(lambda: hub.api("GET", "/api/v1/boxes")[0]["version"] == "0.2.0", timeout=60, step=0.5,
                 what="the hub to learn the version in use")  # the old worker may say hello once more

        # Release 3, tampered at the hub after signing: refused, never installed, 0.2.0 keeps running.
        tampered = build_wheel(tmp_path / "r4", "0.4.0").parent
        publish(hub, tampered, "0.4.0", "--communes", "00004")  # signed, not yet meant for this box
        stored = hub.dir / "releases" / "0.4.0" / "motcua-0.4.0-py3-none-any.whl"
        data = bytearray(stored.read_bytes())
        data[len(data) // 2] ^= 0xFF
        stored.write_bytes(bytes(data))
        motcua("hub", "release", "target", "--version", "0.4.0", "--communes", "05518", *hub.args)
        wait_for(lambda: box.state().get("version") == "0.4.0" and box.state().get("state") == "failed",
                 timeout=120, step=0.5, what="the tampered release refused: " + box.log())
        assert "mã băm" in box.state()["reason"]
        assert not (box.prefix / "releases" / "0.4.0" / "venv").exists()
        assert not list((box.prefix / "releases" / "0.4.0" / "wheels").glob("*.whl"))
        assert box.health() == (200, "0.2.0")
        wait_for(lambda: (rollout(hub, "0.4.0") or {}).get("state") == "failed", timeout=60, step=0.5,
                 what="the hub to learn the refusal")
    finally:
        box.stop()
