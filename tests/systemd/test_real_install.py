"""systemd/install.sh for real, on a Debian 12 system with systemd as PID 1 (a systemd-nspawn container
booted from a debootstrap root file system cached under /var/cache; see tests/systemd/machine.py).

The box has no screen here (`--headless`) and no Internet (`--wheelhouse`): it reaches only this
machine, over a veth pair, where a hub runs as in production, outside the box. In order:

1. the installer runs to its end on a fresh system (udev installed but not running, as in a container
   or an SD card image being built), from a copy of this checkout;
2. the box is set up (`motcua edge init` as user motcua, its key registered at the hub) and rebooted:
   the units start at boot, `/kiosk` and `/api/v1/services` answer on the box's LAN address, and a
   ticket issued at the kiosk reaches the hub through the worker;
3. the console's restart button works through polkit; a power-off and boot, and a power cut, bring
   everything back, data included;
4. the installer run again (a newer version of the source) upgrades in place: settings, identity
   and tickets are kept, the services run the new version.

Skipped, with the reason, where a container cannot be booted (not root, no systemd-nspawn or
debootstrap, or systemd-nspawn failing to boot one). `systemd/test-real-install.sh` runs just this.
"""
import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from werkzeug.security import generate_password_hash

from tests.processes import kill_group, wait_for
from tests.systemd import machine as machines

pytestmark = pytest.mark.slow

NAME = "motcua-ri"  # the veth is ve-motcua-ri (15 characters at most)
SRC, WHEELS = machines.SRC, machines.WHEELS
VENV = "/opt/motcua/venv"
BOX_UNITS = ("motcua-edge-web.service", "motcua-edge-worker.service", "motcua-devices.service")
COMMUNE = "05518"
BOX = f"http://{machines.BOX_IP}:8001"
HOST_MOTCUA = Path(sys.prefix) / "bin" / "motcua"
TECHNICIAN_PASSWORD = "ky-thuat-xa-05518"


@dataclass
class Site:
    machine: machines.Machine
    hub_dir: Path
    hub_url: str
    work: Path
    installs: list = field(default_factory=list)
    tickets: list = field(default_factory=list)

    def install(self, *extra):
        result = self.machine.run("bash", f"{SRC}/systemd/install.sh", "--headless", "--wheelhouse", WHEELS, *extra,
                                  check=False, timeout=900)
        self.installs.append(result)
        (self.work / f"install-{len(self.installs)}.log").write_text(result.stdout + result.stderr)
        return result

    def hub(self, *args):
        env = {**_clean_env(), "MOTCUA_DATA_DIR": str(self.hub_dir)}
        return subprocess.run([str(HOST_MOTCUA), "hub", *args], env=env, capture_output=True, text=True,
                              timeout=120, check=True).stdout

    def hub_seq(self, node_id):
        for line in self.hub("boxes").splitlines():
            if line.startswith(node_id):
                return int(re.search(r"\bseq (\d+)", line).group(1))
        return None


def _clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}


def _free_port(host):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    work = tmp_path_factory.mktemp("real-install")
    with machines.booted(work, NAME) as (machine, reason):
        if machine is None:
            pytest.skip(reason)
        # The hub, outside the box, on this machine's end of the veth pair (its LAN address).
        hub_dir = work / "hub"
        port = _free_port(machines.HOST_IP)
        env = {**_clean_env(), "MOTCUA_DATA_DIR": str(hub_dir), "MOTCUA_HOST": machines.HOST_IP,
               "MOTCUA_PORT": str(port), "MOTCUA_OPERATOR_PASSWORD": "mat-khau-van-hanh-1"}
        with (work / "hub.log").open("w") as hub_log:
            hub_proc = subprocess.Popen([str(HOST_MOTCUA), "hub", "serve"], env=env, stdout=hub_log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        try:
            hub_url = f"http://{machines.HOST_IP}:{port}"
            wait_for(lambda: _answers(f"{hub_url}/api/v1/health"), timeout=60, step=0.2, what="the hub")
            yield Site(machine, hub_dir, hub_url, work)
        finally:
            kill_group(hub_proc, signal.SIGTERM)


def _answers(url):
    try:
        return requests.get(url, timeout=3).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def box(site):
    """Installed, set up as a commune's box, its key registered at the hub, rebooted."""
    result = site.install()
    assert result.returncode == 0, f"install.sh failed:\n{result.stdout}\n{result.stderr}"
    key = site.hub("key").strip()
    site.machine.run("runuser", "-u", "motcua", "--", f"{VENV}/bin/motcua", "edge", "init", "--commune-code", COMMUNE,
                     "--hub-url", site.hub_url, "--hub-key", key, env={"MOTCUA_DATA_DIR": "/var/lib/motcua"})
    site.hub("register-box", "--commune", COMMUNE, "--public-key",
             str(site.machine.root / "var/lib/motcua/keys/box.pub"))
    # Settings lines, kept by the upgrade below: a short period so that the test waits seconds, and
    # the technician console's password (a provisioning bundle sets it on a real box).
    password_hash = generate_password_hash(TECHNICIAN_PASSWORD)
    # (and numbers at any hour: the test runs at night and on weekends too)
    site.machine.run("sh", "-c", "printf 'MOTCUA_WORKER_PERIOD_SECONDS=5\\nMOTCUA_ISSUE_ANY_TIME=true\\n"
                     "MOTCUA_TECHNICIAN_PASSWORD_HASH=%s\\n' "
                     f"'{password_hash}' >>/etc/motcua/edge.env")
    site.machine.poweroff()
    site.machine.boot()
    return site


def units_active(site):
    result = site.machine.run("systemctl", "is-active", *BOX_UNITS, check=False)
    return result.stdout.split() == ["active"] * len(BOX_UNITS)


def box_status():
    return requests.get(f"{BOX}/api/v1/sync", timeout=10).json()


def issue_ticket(service="ho-tich"):
    """A ticket from the kiosk page, as the touch screen takes it (its CSRF token, same origin)."""
    session = requests.Session()
    page = session.get(f"{BOX}/kiosk", timeout=10)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)
    answer = session.post(f"{BOX}/api/v1/tickets", json={"service": service}, timeout=10,
                          headers={"X-CSRFToken": token, "Origin": BOX, "Referer": f"{BOX}/kiosk"})
    assert answer.status_code == 201, answer.text
    return answer.json()


def wait_synced(site):
    """The box's worker pushes by itself: nothing pending, and the hub confirms the box's last entry."""
    def synced():
        status = box_status()
        return status["pending"] == 0 and site.hub_seq(status["node_id"]) == status["last_seq"] and status
    return wait_for(synced, timeout=120, step=1, what="the worker's sync with the hub")


def journal_problems(site):
    """Tracebacks or unit errors our services logged since boot."""
    units = [arg for unit in BOX_UNITS for arg in ("-u", unit)]
    text = site.machine.run("journalctl", "--no-pager", "-b", *units, check=False).stdout
    return [line for line in text.splitlines() if "Traceback" in line or "Failed with result" in line]


def test_skipped_with_the_reason_where_no_container_boots(monkeypatch):
    """Without root (or nspawn, or debootstrap) the tests are skipped and the reason says what to do."""
    monkeypatch.setattr(machines.os, "geteuid", lambda: 1000)
    assert "needs root" in machines.why_not()
    monkeypatch.setattr(machines.os, "geteuid", lambda: 0)
    monkeypatch.setattr(machines.shutil, "which", lambda tool: None if tool == "debootstrap" else f"/usr/bin/{tool}")
    assert "missing debootstrap" in machines.why_not() and "apt-get install" in machines.why_not()


# --- the tests, in the order a technician lives them ---------------------------------------------------------

def test_installer_finishes_when_udev_is_not_running(box):
    """udevd does not run in a container or in a chroot where an SD card image is built: `udevadm
    control --reload-rules` fails there, and the installer stopped half-way (set -e) before
    enabling a single unit. It now says the rules apply at the next boot."""
    (first,) = box.installs
    assert first.returncode == 0, first.stdout + first.stderr
    assert "udev is not running here" in first.stdout
    assert "Done. Units enabled: " + " ".join(BOX_UNITS) in first.stdout
    assert (box.machine.root / "etc/udev/rules.d/99-motcua-usb.rules").exists()


def test_units_start_at_boot(box):
    wait_for(lambda: units_active(box), timeout=90, step=1, what="the box's units after boot")
    enabled = box.machine.run("systemctl", "is-enabled", *BOX_UNITS, "motcua-kiosk.service", check=False).stdout.split()
    assert enabled == ["enabled", "enabled", "enabled", "disabled"]  # headless: no kiosk screen
    failed = box.machine.run("systemctl", "--failed", "--plain", "--no-legend", check=False).stdout
    assert "motcua" not in failed, failed
    assert journal_problems(box) == []


def test_box_answers_on_the_lan(box):
    wait_for(lambda: _answers(f"{BOX}/api/v1/health"), timeout=60, step=0.5, what="the box's web server")
    kiosk = requests.get(f"{BOX}/kiosk", timeout=10)
    assert kiosk.status_code == 200 and 'lang="vi"' in kiosk.text
    services = requests.get(f"{BOX}/api/v1/services", timeout=10).json()
    assert {s["code"] for s in services} >= {"ho-tich", "chung-thuc"}
    # Every script, style sheet, font and image the kiosk asks for is in the installed package.
    assets = set(re.findall(r'(?:src|href)="(/static/[^"?]+)', kiosk.text))
    assert assets
    missing = [a for a in sorted(assets) if requests.get(f"{BOX}{a}", timeout=10).status_code != 200]
    assert missing == []


def test_installed_kiosk_in_chromium(box, browser):
    """The kiosk of the installed box as a touch screen on the LAN shows it (1080x1920): every request
    it makes is answered, its style sheet applies, and screenshots are kept
    (tests/e2e/screenshots/real-install-kiosk*.png)."""
    from tests.e2e.conftest import SCREENSHOTS

    failed = []
    page = browser.new_page(viewport={"width": 1080, "height": 1920}, locale="vi-VN")
    try:
        page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
        page.on("requestfailed", lambda r: failed.append(f"failed {r.url}"))
        page.goto(f"{BOX}/kiosk", wait_until="networkidle")
        styled = page.evaluate("[...document.styleSheets].some(s => (s.href || '').endsWith('/assets/app.css')"
                               " && s.cssRules.length > 0)")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "real-install-kiosk.png"))
        page.get_by_role("button", name="Lấy số thứ tự").click()
        page.locator("#services [data-service=ho-tich]").wait_for()
        page.screenshot(path=str(SCREENSHOTS / "real-install-kiosk-services.png"))
    finally:
        page.close()
    assert failed == []
    assert styled, "the kiosk has no style sheet"


def test_worker_syncs_to_the_hub_outside(box):
    ticket = issue_ticket()
    box.tickets.append(ticket)
    status = wait_synced(box)
    assert status["hub_url"] == box.hub_url
    assert status["failures"] == 0 and status["last_seq"] > 0


def test_console_restart_button_restarts_the_worker(box):
    """The technician console's button runs `systemctl --no-block restart motcua-edge-worker.service` as
    user motcua, from inside the web server's sandbox; polkit (50-motcua.rules) lets it through."""
    worker_pid = main_pid(box, "motcua-edge-worker.service")
    session = requests.Session()
    login = session.get(f"{BOX}/console/login", timeout=10)
    answer = session.post(f"{BOX}/console/login", timeout=10, headers={"Origin": BOX},
                          data={"password": TECHNICIAN_PASSWORD, "csrf_token": csrf_field(login.text)})
    assert answer.status_code == 200 and "/console/login" not in answer.url, answer.text[:500]
    answer = session.post(f"{BOX}/console/restart", timeout=30, headers={"Origin": BOX},
                          data={"name": "Tác vụ nền", "csrf_token": csrf_field(answer.text)})
    assert "Đã khởi động lại “Tác vụ nền”" in answer.text, re.sub(r"\s+", " ", answer.text)[:3000]
    wait_for(lambda: main_pid(box, "motcua-edge-worker.service") not in ("0", worker_pid), timeout=60, step=0.5,
             what="the worker restarted by the console")
    wait_for(lambda: units_active(box), timeout=60, step=1, what="the box's units after the console's restart")


def main_pid(site, unit):
    return site.machine.run("systemctl", "show", "-P", "MainPID", unit).stdout.strip()


def csrf_field(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_restart_brings_everything_back(box):
    before = box_status()
    box.machine.poweroff()
    box.machine.boot()
    wait_for(lambda: units_active(box), timeout=90, step=1, what="the box's units after the restart")
    wait_for(lambda: _answers(f"{BOX}/api/v1/health"), timeout=60, step=0.5, what="the box's web server")
    for ticket in box.tickets:
        assert requests.get(f"{BOX}/api/v1/tickets/{ticket['tracking_code']}", timeout=10).status_code == 200
    box.tickets.append(issue_ticket("chung-thuc"))
    after = wait_synced(box)
    assert after["node_id"] == before["node_id"] and after["last_seq"] > before["last_seq"]
    assert journal_problems(box) == []


def test_power_cut_brings_everything_back(box):
    """No clean shutdown: every process of the box killed at once (SIGKILL to its PID 1), then a boot."""
    before = box_status()
    box.machine.kill()
    box.machine.boot()
    wait_for(lambda: units_active(box), timeout=90, step=1, what="the box's units after the power cut")
    wait_for(lambda: _answers(f"{BOX}/api/v1/health"), timeout=60, step=0.5, what="the box's web server")
    for ticket in box.tickets:
        assert requests.get(f"{BOX}/api/v1/tickets/{ticket['tracking_code']}", timeout=10).status_code == 200
    box.tickets.append(issue_ticket())
    after = wait_synced(box)
    assert after["node_id"] == before["node_id"] and after["last_seq"] > before["last_seq"]
    assert journal_problems(box) == []


def test_reinstall_upgrades_in_place_keeping_data(box):
    before = box_status()
    pyproject = box.machine.root / SRC.lstrip("/") / "pyproject.toml"
    old_version = re.search(r'^version = "([^"]+)"', pyproject.read_text(), re.M).group(1)
    new_version = f"{old_version}.post1"
    pyproject.write_text(pyproject.read_text().replace(f'version = "{old_version}"', f'version = "{new_version}"'))
    web_pid = main_pid(box, "motcua-edge-web.service")

    result = box.install("--now")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "kept: /etc/motcua/edge.env" in result.stdout and "exists: /opt/motcua/venv" in result.stdout

    installed = box.machine.run(f"{VENV}/bin/python", "-c",
                                "import importlib.metadata as m; print(m.version('motcua'))").stdout.strip()
    assert installed == new_version
    wait_for(lambda: units_active(box), timeout=90, step=1, what="the box's units after the upgrade")
    assert main_pid(box, "motcua-edge-web.service") != web_pid
    assert "MOTCUA_WORKER_PERIOD_SECONDS=5" in (box.machine.root / "etc/motcua/edge.env").read_text()
    wait_for(lambda: _answers(f"{BOX}/api/v1/health"), timeout=60, step=0.5, what="the upgraded web server")
    for ticket in box.tickets:
        assert requests.get(f"{BOX}/api/v1/tickets/{ticket['tracking_code']}", timeout=10).status_code == 200
    box.tickets.append(issue_ticket())
    after = wait_synced(box)
    assert after["node_id"] == before["node_id"] and after["last_seq"] > before["last_seq"]
    assert journal_problems(box) == []
