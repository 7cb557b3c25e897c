"""escpos's printer profiles come from a private cache, not from a new /tmp directory and a
YAML parse at every start of a process that prints (issue 15: memory of the box's worker)."""
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import yaml

from devices import escpos_capabilities


def test_the_cached_profiles_are_those_escpos_would_parse(tmp_path, monkeypatch):
    monkeypatch.delenv(escpos_capabilities.ENV, raising=False)
    escpos_capabilities.prepare(tmp_path / "cache")
    assert os.environ[escpos_capabilities.ENV] == str(tmp_path / "cache")
    (cached,) = (tmp_path / "cache").glob("*.capabilities.pickle")
    source = Path(escpos_capabilities.find_spec("escpos").submodule_search_locations[0]) / "capabilities.json"
    assert pickle.loads(cached.read_bytes()) == yaml.safe_load(source.read_text()) == json.loads(source.read_text())
    assert (tmp_path / "cache").stat().st_mode & 0o777 == 0o700


def test_a_cache_others_can_write_is_not_used(tmp_path, monkeypatch):
    monkeypatch.delenv(escpos_capabilities.ENV, raising=False)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    escpos_capabilities.prepare(shared)
    assert escpos_capabilities.ENV not in os.environ
    assert not list(shared.iterdir())


def test_printing_processes_leave_no_directory_in_tmp(tmp_path):
    """Each start of a process that printed made a directory in /tmp that nobody removed."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop(escpos_capabilities.ENV, None)
    for _ in range(2):
        subprocess.run([sys.executable, "-c", "import devices.printer"], env=env, check=True)
    assert list(tmp.iterdir()) == []
    assert len(list((tmp_path / "cache" / "motcua" / "escpos").glob("*.pickle"))) == 1
