"""`systemd/install.sh --hub` for real, on a Debian 12 system with systemd as PID 1 (a systemd-nspawn
container, as in test_real_install.py; skipped with the reason where none can be booted): the hub's
units start, its web server answers on 127.0.0.1:8000 only (a TLS reverse proxy goes in front), and
they come back after a restart; a second run of the installer keeps hub.env and the hub's data.
"""
import pytest

from tests.processes import wait_for
from tests.systemd import machine as machines

pytestmark = pytest.mark.slow

NAME = "motcua-rh"
HUB_UNITS = ("motcua-hub-web.service", "motcua-hub-worker.service")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    work = tmp_path_factory.mktemp("real-install-hub")
    with machines.booted(work, NAME) as (machine, reason):
        if machine is None:
            pytest.skip(reason)
        machine.installs = [install(machine)]
        yield machine


def install(machine, *extra):
    return machine.run("bash", f"{machines.SRC}/systemd/install.sh", "--hub", "--wheelhouse", machines.WHEELS,
                       *extra, check=False, timeout=900)


def units_active(machine):
    result = machine.run("systemctl", "is-active", *HUB_UNITS, check=False)
    return result.stdout.split() == ["active"] * len(HUB_UNITS)


def health(machine):
    """The hub's health answer, asked on the hub machine itself."""
    result = machine.run("curl", "--silent", "--fail", "--max-time", "5", "http://127.0.0.1:8000/api/v1/health",
                         check=False)
    return result.returncode == 0 and '"ok"' in result.stdout


def test_hub_installs_and_serves_locally(hub):
    (first,) = hub.installs
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Done. Units enabled: " + " ".join(HUB_UNITS) in first.stdout
    env_file = hub.root / "etc/motcua/hub.env"
    assert env_file.exists() and oct(env_file.stat().st_mode & 0o777) == "0o640"
    hub.run("systemctl", "start", *HUB_UNITS)
    wait_for(lambda: units_active(hub), timeout=90, step=1, what="the hub's units")
    wait_for(lambda: health(hub), timeout=60, step=0.5, what="the hub's web server")
    # the operator's sign-in page and its style sheet come from the installed package
    for path in ("/signin", "/assets/app.css"):
        hub.run("curl", "--silent", "--show-error", "--fail", "--output", "/dev/null", f"http://127.0.0.1:8000{path}")
    # 127.0.0.1 only by default: not reachable from the LAN without the reverse proxy
    outside = hub.run("curl", "--silent", "--max-time", "5", f"http://{machines.BOX_IP}:8000/api/v1/health",
                      check=False)
    assert outside.returncode != 0


def test_hub_comes_back_after_a_restart_and_an_upgrade(hub):
    hub.run("sh", "-c", "echo MOTCUA_BOX_SILENCE_MINUTES=90 >>/etc/motcua/hub.env")
    hub.poweroff()
    hub.boot()
    wait_for(lambda: units_active(hub), timeout=90, step=1, what="the hub's units after boot")
    wait_for(lambda: health(hub), timeout=60, step=0.5, what="the hub's web server after boot")
    key = hub.run("runuser", "-u", "motcua", "--", "/opt/motcua/venv/bin/motcua", "hub", "key",
                  env={"MOTCUA_DATA_DIR": "/var/lib/motcua"}).stdout.strip()
    again = install(hub, "--now")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "kept: /etc/motcua/hub.env" in again.stdout
    assert "MOTCUA_BOX_SILENCE_MINUTES=90" in (hub.root / "etc/motcua/hub.env").read_text()
    wait_for(lambda: units_active(hub), timeout=90, step=1, what="the hub's units after the upgrade")
    wait_for(lambda: health(hub), timeout=60, step=0.5, what="the hub's web server after the upgrade")
    assert hub.run("runuser", "-u", "motcua", "--", "/opt/motcua/venv/bin/motcua", "hub", "key",
                   env={"MOTCUA_DATA_DIR": "/var/lib/motcua"}).stdout.strip() == key  # same hub identity
