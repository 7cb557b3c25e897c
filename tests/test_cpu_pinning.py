"""Each web worker process runs on a core of its own and the box's worker on the cores left
(motcua.cpus: spread over the cores, a web worker's threads handed Python's lock from core to core;
pinned, the box's web issued 18-30 % more tickets a second and its p99 at 20 kiosks met 50 ms;
issue 15). Real processes, read through /proc."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from motcua.cpus import core_for_web_worker, cores_beside_web, gunicorn_hooks, pin_beside_web, usable_cores, web_cores
from tests.processes import children, wait_for
from tests.sync.conftest import free_port
from tests.test_serve import _start, _stop, _wait_healthy

several_cores = pytest.mark.skipif(len(usable_cores()) < 2, reason="needs two cores or more")


def test_web_workers_take_cores_from_the_last_one_down():
    assert web_cores([0, 1, 2, 3], 1) == [3]
    assert web_cores([0, 1, 2, 3], 2) == [3, 2]
    assert core_for_web_worker([0, 1, 2, 3], []) == 3
    assert core_for_web_worker([0, 1, 2, 3], [3]) == 2


def test_a_restarted_web_worker_takes_the_core_its_predecessor_left():
    assert core_for_web_worker([0, 1, 2, 3], [3, 1]) == 2  # the worker of core 2 died
    assert core_for_web_worker([0, 1], [0, 1, 1]) == 0  # more workers than cores: the core fewest hold
    assert core_for_web_worker([0, 1], [1, None]) == 0  # a worker forked before pinning was on


def test_the_boxs_worker_runs_beside_the_web():
    assert cores_beside_web([0, 1, 2, 3], 1) == [0, 1, 2]
    assert cores_beside_web([0, 1], 1) == [0]
    assert cores_beside_web([0, 1], 2) == [0, 1]  # the web holds every core: the worker may use them all
    assert cores_beside_web([4, 6], 1) == [4]  # the cores an outer taskset allows


def test_more_web_workers_than_cores_are_left_to_the_system():
    cores = usable_cores()
    assert gunicorn_hooks({"cpu_pinning": True, "web_workers": len(cores) + 1}) == {}
    assert pin_beside_web({"cpu_pinning": True, "web_workers": len(cores) + 1}) is None
    assert gunicorn_hooks({"cpu_pinning": False, "web_workers": 1}) == {}


def test_settings_that_do_not_ask_for_it_pin_nothing():
    """Tests run the worker in their own process with settings of their own: one without the setting
    pinned the test process, and every process the suite started after it, to one core."""
    before = usable_cores()
    assert pin_beside_web({"web_workers": 1}) is None and gunicorn_hooks({"web_workers": 1}) == {}
    assert usable_cores() == before


def _cores_of(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Cpus_allowed_list:"):
            return _parse_list(line.split(":", 1)[1].strip())
    raise AssertionError(f"no Cpus_allowed_list for {pid}")


def _parse_list(text):
    cores = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        cores += range(int(low), int(high or low) + 1)
    return cores


def _box(tmp_path, *extra):
    data, port = tmp_path / "box", free_port()
    options = ["--data-dir", data, "--port", port, "--commune-code", "05518", "--printer", "dummy",
               "--log-level", "WARNING", *(extra or ["--cpu-pinning", "true"])]  # the suite turns it off
    subprocess.run([sys.executable, "-m", "motcua", "edge", "init", "--demo-data", *map(str, options)], check=True,
                   stdout=subprocess.DEVNULL)
    log_path = tmp_path / "box.log"
    with open(log_path, "wb") as log:
        web = _start(["edge", "serve", *options], log)
        worker = _start(["edge", "worker", *options], log)
    _wait_healthy(f"http://127.0.0.1:{port}", web, log_path)
    return web, worker


@several_cores
def test_the_boxs_web_worker_runs_on_the_last_core_and_its_worker_on_the_others(tmp_path):
    cores = usable_cores()
    web, worker = _box(tmp_path)
    try:
        web_worker = sorted(wait_for(lambda: children(web.pid), what="a web worker", timeout=20))[0]
        assert _cores_of(web_worker) == [cores[-1]]
        assert wait_for(lambda: _cores_of(worker.pid) == cores[:-1], what="the worker beside the web", timeout=20)
        assert _cores_of(web.pid) == cores  # gunicorn's master forks and waits: it is left free
    finally:
        _stop(web)
        _stop(worker)


@several_cores
def test_without_pinning_the_boxs_processes_run_on_every_core(tmp_path):
    cores = usable_cores()
    web, worker = _box(tmp_path, "--cpu-pinning", "false")
    try:
        web_worker = sorted(wait_for(lambda: children(web.pid), what="a web worker", timeout=20))[0]
        time.sleep(1.0)  # the worker has started (and would have pinned itself) by now
        assert _cores_of(web_worker) == cores and _cores_of(worker.pid) == cores
    finally:
        _stop(web)
        _stop(worker)


@several_cores
def test_a_hubs_web_workers_each_hold_a_core_and_a_restarted_one_takes_the_free_core(tmp_path):
    cores = usable_cores()
    port, log_path = free_port(), tmp_path / "hub.log"
    with open(log_path, "wb") as log:
        hub = _start(["hub", "serve", "--data-dir", tmp_path / "hub", "--port", port, "--web-workers", 2,
                      "--web-threads", 2, "--log-level", "WARNING", "--cpu-pinning", "true"], log)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", hub, log_path)
        workers = wait_for(lambda: len(children(hub.pid)) == 2 and sorted(children(hub.pid)), what="two web workers",
                           timeout=20)
        held = {pid: _cores_of(pid) for pid in workers}
        assert sorted(held.values()) == sorted([[core] for core in web_cores(cores, 2)])
        gone = workers[0]
        os.kill(gone, signal.SIGKILL)
        new = wait_for(lambda: [p for p in children(hub.pid) if p not in workers], what="a restarted web worker",
                       timeout=20)[0]
        assert _cores_of(new) == held[gone]
    finally:
        _stop(hub)
