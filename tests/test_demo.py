"""The README's first command: ``motcua demo`` starts a hub, its worker and a box, seeds the
reminders, prints the URLs, and stops every process it started on SIGTERM."""
import re
import signal
import subprocess
import sys
import time

import requests

from motcua.demo import _port_free as _free
from tests.sync.conftest import free_port


def _free_run(count):
    """A port with ``count`` free ports after it (hub + boxes)."""
    for _ in range(50):
        base = free_port()
        if all(_free(base + i) for i in range(1, count)):
            return base
    raise RuntimeError("no free run of ports")


def _sign_in(hub, name, password):
    """The session cookies of a sign-in with the hub's form, as a browser does. (Responses are not
    kept: each one held open, the hub's port would stay taken after the demo stops.)"""
    form = requests.get(f"{hub}/signin", timeout=5)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    signed_in = requests.post(f"{hub}/signin", data={"name": name, "password": password, "csrf_token": token},
                              cookies=form.cookies, timeout=5, allow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/", signed_in.text[:500]
    return signed_in.cookies


def test_the_demo_runs_a_hub_a_worker_and_a_box_then_stops(tmp_path):
    base = _free_run(2)
    log = tmp_path / "demo.log"
    with open(log, "w") as out:  # a file, not a pipe: nobody has to keep reading the servers' logs
        proc = subprocess.Popen([sys.executable, "-m", "motcua", "demo", "--port-base", str(base), "--boxes", "1",
                                 "--data-dir", str(tmp_path / "demo")], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline, output = time.monotonic() + 90, ""
        while time.monotonic() < deadline and proc.poll() is None and "Đăng nhập cán bộ" not in output:
            time.sleep(0.2)
            output = log.read_text("utf-8", errors="replace")
        assert "Đăng nhập cán bộ" in output, output
        hub, box = f"http://127.0.0.1:{base}", f"http://127.0.0.1:{base + 1}"
        assert f"{hub}/reminders" in output and f"{box}/kiosk" in output
        assert "đăng nhập admin / motcua-hub" in output
        cookies = _sign_in(hub, "admin", "motcua-hub")
        rules = requests.get(f"{hub}/api/v1/reminders", cookies=cookies, timeout=5).json()
        assert [r["times"] for r in rules] == [["08:00", "14:00"]]
        contacts = requests.get(f"{hub}/api/v1/reminders/contacts", cookies=cookies, timeout=5).json()
        assert {c["role"] for c in contacts} == {"leader", "handler"} and len(contacts) == 4
        assert requests.get(f"{box}/api/v1/health", timeout=5).ok
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    time.sleep(0.5)
    assert _free(base) and _free(base + 1), "the demo left a server running"
