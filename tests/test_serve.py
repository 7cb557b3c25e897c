"""Start-up: a hub with several web workers starts on a fresh data dir (SQLite and
PostgreSQL), and the secret files it makes are private from their first byte."""
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from motcua.web import setting_or_secret_file
from tests.sync.conftest import drop_schema, free_port, postgres_schema


def _start(args, log):
    return subprocess.Popen([sys.executable, "-m", "motcua", *map(str, args)], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_healthy(url, proc, log_path, timeout=40):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("the server stopped: " + Path(log_path).read_text()[-3000:])
        try:
            if requests.get(url + "/api/v1/health", timeout=1).ok:
                return
        except requests.RequestException:
            time.sleep(0.2)
    pytest.fail("the server did not answer: " + Path(log_path).read_text()[-3000:])


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_hub_with_four_web_workers_starts_on_a_fresh_data_dir(kind, tmp_path):
    schema, extra = None, []
    if kind == "postgresql":
        schema, url = postgres_schema()
        extra = ["--database", url]
    data, port = tmp_path / "hub", free_port()
    log_path = tmp_path / "hub.log"
    with open(log_path, "wb") as log:
        proc = _start(["hub", "serve", "--data-dir", data, "--port", port, "--web-workers", 4, "--web-threads", 2,
                       "--log-level", "WARNING", *extra], log)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", proc, log_path)
        time.sleep(1.0)  # every worker has booted (or failed) by now
        assert proc.poll() is None, log_path.read_text()
        assert "Exception in worker process" not in log_path.read_text()
    finally:
        _stop(proc)
    for name in ("secret_key", "operator_password", "keys/hub.key"):
        assert (data / name).stat().st_mode & 0o777 == 0o600, name
    assert not list(data.glob(".*.tmp"))
    if kind == "sqlite":
        with sqlite3.connect(data / "hub.db") as conn:
            assert conn.execute("select count(*) from sync_node").fetchone() == (1,)
    else:
        drop_schema(schema)


def test_secret_files_are_private_from_their_first_byte(tmp_path, monkeypatch):
    modes = []
    real_chmod = os.chmod
    monkeypatch.setattr(Path, "chmod", lambda self, mode: modes.append(mode))  # a late chmod does not count
    monkeypatch.setattr(os, "chmod", lambda *a, **k: modes.append(a))
    old = os.umask(0o022)
    try:
        value = setting_or_secret_file({"data_dir": str(tmp_path), "secret_key": ""}, "secret_key", lambda: "s3cret")
    finally:
        os.umask(old)
        monkeypatch.setattr(os, "chmod", real_chmod)
    assert value == "s3cret"
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600 and modes == []


def test_processes_making_a_secret_file_at_once_all_read_one_value(tmp_path):
    settings = {"data_dir": str(tmp_path), "secret_key": ""}
    start, values = threading.Barrier(8), []
    counter = iter(range(100))

    def make():
        time.sleep(0.01)  # writing takes a while: the others come in meanwhile
        return f"value-{next(counter)}"

    def one():
        start.wait()
        values.append(setting_or_secret_file(settings, "secret_key", make))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(values)) == 1 and values[0].startswith("value-"), values
    assert (tmp_path / "secret_key").read_text() == values[0]


def _hub_public_key(data_dir):
    from provisioning.identity import ensure_key
    from sync.keys import public_text

    return public_text(ensure_key(data_dir, "hub"))


def test_processes_making_the_hub_key_at_once_all_get_the_same_key(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(8) as pool:
        keys = list(pool.map(_hub_public_key, [str(tmp_path)] * 16))
    assert len(set(keys)) == 1
    assert (tmp_path / "keys" / "hub.key").stat().st_mode & 0o777 == 0o600


def test_preparing_in_a_child_keeps_its_imports_out_of_the_server_process():
    """The box's web master forked its worker after importing the whole app and the models for
    its start-up checks: 35 MB of the box's memory held for nothing (issue 15)."""
    from motcua.serve import in_child_process

    assert "tests.fixtures.heavy_for_prepare" not in sys.modules
    in_child_process(lambda: __import__("tests.fixtures.heavy_for_prepare"))
    assert "tests.fixtures.heavy_for_prepare" not in sys.modules


def test_a_refusal_while_preparing_in_a_child_reaches_the_command_with_its_message():
    from motcua.serve import in_child_process
    from office.errors import MotcuaError

    def refuse():
        raise MotcuaError("Cơ sở dữ liệu hỏng.")

    with pytest.raises(MotcuaError, match="Cơ sở dữ liệu hỏng."):
        in_child_process(refuse)
    with pytest.raises(SystemExit):
        in_child_process(lambda: 1 / 0)


def test_a_web_worker_keeps_what_it_loaded_out_of_the_collectors_full_passes():
    """A full pass over the box's 75,000 objects paused every thread 26 ms every ~2,000 tickets."""
    import gc

    from motcua.serve import _Server

    loaded = []
    server = _Server(lambda: loaded.append({"app": [[] for _ in range(100)]}) or loaded[-1], {"workers": 1})
    before = gc.get_freeze_count()
    try:
        app = server.load()
        assert app is loaded[0] and gc.get_freeze_count() >= before + 100  # its lists at least
    finally:
        gc.unfreeze()
