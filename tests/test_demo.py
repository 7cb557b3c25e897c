"""The README's first command: ``motcua demo`` starts a hub, its worker and a box, seeds the
reminders and a few dossiers, prints the URLs, and stops every process it started on SIGTERM;
``python3 dev.py demo`` hands its signals to the demo. A second run on the same data seeds nothing twice."""
import contextlib
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from motcua.demo import _port_free as _free
from tests.sync.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
READY = "Đăng nhập cán bộ"


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


def _stop(proc, how=signal.SIGTERM):
    proc.send_signal(how)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def running_demo(tmp_path, base, data, command=None, env=None, stop=signal.SIGTERM):
    """The demo started as a user would, until its summary is printed; stopped with ``stop``."""
    log = tmp_path / f"demo-{time.monotonic_ns()}.log"
    command = command or [sys.executable, "-m", "motcua", "demo"]
    with open(log, "w") as out:  # a file, not a pipe: nobody has to keep reading the servers' logs
        proc = subprocess.Popen([*command, "--port-base", str(base), "--boxes", "1", "--data-dir", str(data)],
                                stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline, output = time.monotonic() + 90, ""
        while time.monotonic() < deadline and proc.poll() is None and READY not in output:
            time.sleep(0.2)
            output = log.read_text("utf-8", errors="replace")
        assert READY in output, output
        yield proc, output
    finally:
        _stop(proc, stop)
    time.sleep(0.5)


def test_the_demo_runs_a_hub_a_worker_and_a_box_then_stops(tmp_path):
    base = _free_run(2)
    with running_demo(tmp_path, base, tmp_path / "demo") as (_, output):
        hub, box = f"http://127.0.0.1:{base}", f"http://127.0.0.1:{base + 1}"
        assert f"{hub}/reminders" in output and f"{box}/kiosk" in output
        assert "đăng nhập admin / motcua-hub" in output
        cookies = _sign_in(hub, "admin", "motcua-hub")
        rules = requests.get(f"{hub}/api/v1/reminders", cookies=cookies, timeout=5).json()
        assert [r["times"] for r in rules] == [["08:00", "14:00"]]
        contacts = requests.get(f"{hub}/api/v1/reminders/contacts", cookies=cookies, timeout=5).json()
        assert {c["role"] for c in contacts} == {"leader", "handler"} and len(contacts) == 4
        assert requests.get(f"{box}/api/v1/health", timeout=5).ok
    assert _free(base) and _free(base + 1), "the demo left a server running"


def test_a_second_demo_run_on_the_same_data_seeds_nothing_twice(tmp_path):
    base, data = _free_run(2), tmp_path / "demo"
    with running_demo(tmp_path, base, data) as (_, first):
        pass
    with running_demo(tmp_path, base, data) as (_, second):
        hub = f"http://127.0.0.1:{base}"
        cookies = _sign_in(hub, "admin", "motcua-hub")
        rules = requests.get(f"{hub}/api/v1/reminders", cookies=cookies, timeout=5).json()
        contacts = requests.get(f"{hub}/api/v1/reminders/contacts", cookies=cookies, timeout=5).json()
        assert len(rules) == 1 and len(contacts) == 4, (rules, contacts)
        links = re.findall(r"hồ sơ mẫu [^:]+: (\S+)", second)
        assert links == re.findall(r"hồ sơ mẫu [^:]+: (\S+)", first) and len(links) == 4  # the same four dossiers


def test_the_demo_seeds_dossiers_whose_tracking_links_answer_and_prints_where_to_start(tmp_path):
    base = _free_run(2)
    with running_demo(tmp_path, base, tmp_path / "demo") as (_, output):
        hub, box = f"http://127.0.0.1:{base}", f"http://127.0.0.1:{base + 1}"
        assert f"Mở trang này trước: {box}/" in output
        for url in (f"{hub}/stats", f"{box}/procedures", f"{box}/stats"):
            assert url in output, url
        links = dict((state, url) for state, url in re.findall(r"hồ sơ mẫu ([^:]+): (\S+)", output))
        assert set(links) == {"đang giải quyết", "cần bổ sung giấy tờ", "đã có kết quả, chờ nhận", "đã trả kết quả"}
        headlines = {"đang giải quyết": "Hồ sơ đang được giải quyết",
                     "cần bổ sung giấy tờ": "Cần quý khách bổ sung giấy tờ",
                     "đã có kết quả, chờ nhận": "Đã có kết quả – mời quý khách đến nhận",
                     "đã trả kết quả": "Quý khách đã nhận kết quả"}
        for state, url in links.items():
            page = requests.get(url, timeout=5)
            assert page.status_code == 200 and headlines[state] in page.text, (state, page.text[:300])


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_sent_to_dev_py_stops_every_server_of_the_demo(tmp_path, how):
    venv = Path(sys.prefix)
    stamp = venv / ".motcua-installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        pytest.skip("dev.py would install the project first: run the tests from the venv dev.py made")
    env = dict(os.environ, MOTCUA_VENV=str(venv), PYTHONPATH=str(ROOT))
    base = _free_run(2)
    with running_demo(tmp_path, base, tmp_path / "demo", [sys.executable, str(ROOT / "dev.py"), "demo"], env,
                      stop=how) as (proc, _):
        assert not _free(base) and not _free(base + 1)
    assert proc.returncode is not None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (_free(base) and _free(base + 1)):
        time.sleep(0.2)
    assert _free(base) and _free(base + 1), "the demo's servers outlived dev.py"
