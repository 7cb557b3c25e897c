"""python-escpos's printer profiles, read once per machine instead of once per process.

On import, escpos parses its 96 KB ``capabilities.json`` with the pure-Python YAML parser and
caches the result as a pickle in a directory it makes with ``mkdtemp()``: a new directory in
/tmp at every start of every process that prints (never removed), and the slow parse every time
(about 6 MB more memory for the day in the process that prints). Its cache directory can be
set: here it is a private one in the user's cache, filled with the same data read by ``json``.
escpos calls ``mkdtemp()`` even then, so its import runs here with the temporary directory in
that cache, and the empty directory it made is removed.
"""
import json
import os
import pickle
import platform
import sys
import tempfile
import threading
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

ENV = "ESCPOS_CAPABILITIES_PICKLE_DIR"


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "motcua" / "escpos"


_lock = threading.Lock()


def load(directory=None):
    """Import escpos's profiles from the private cache (see above); call before importing escpos."""
    with _lock:
        if "escpos.capabilities" in sys.modules:
            return
        directory = prepare(directory)
        if directory is None:
            import_module("escpos.capabilities")
            return
        scratch = directory / "tmp"
        scratch.mkdir(exist_ok=True, mode=0o700)
        before, tempfile.tempdir = tempfile.tempdir, str(scratch)
        try:
            import_module("escpos.capabilities")
        finally:
            tempfile.tempdir = before
            for made in scratch.iterdir():
                try:
                    made.rmdir()
                except OSError:  # not empty: someone else's temporary directory in use
                    pass


def prepare(directory=None):
    """Point escpos at a private cache holding its profiles and return it; None (escpos goes its
    own way, nothing fails) when it cannot be written or is not private."""
    if ENV in os.environ:
        return Path(os.environ[ENV])
    spec = find_spec("escpos")
    if spec is None or not spec.submodule_search_locations:
        return None
    source = Path(next(iter(spec.submodule_search_locations))) / "capabilities.json"
    directory = Path(directory or cache_dir())
    target = directory / f"{platform.python_version()}.capabilities.pickle"
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if directory.stat().st_uid != os.getuid() or directory.stat().st_mode & 0o022:
            return None  # a pickle is code: never read one others can write
        if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
            capabilities = json.loads(source.read_text(encoding="utf-8"))
            with tempfile.NamedTemporaryFile("wb", dir=directory, delete=False) as tmp:
                pickle.dump(capabilities, tmp)
            os.replace(tmp.name, target)
    except OSError:
        return None
    os.environ[ENV] = str(directory)
    return directory
