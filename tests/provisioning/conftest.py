"""Helpers of the provisioning tests: bundles made by a real hub process, boxes set up by
the real ``motcua edge provision`` command, and a look at every file around them."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from motcua.settings import load_settings
from office.db import bind, open_database
from office.models import MODELS
from provisioning.identity import ensure_key
from tests.sync.conftest import Box, BoxDatabase, HubProcess, hub, make_box, module_hub, running_hub  # noqa: F401

__all__ = ["Box", "HubProcess", "ProvisionedBox", "make_bundle", "provision", "tree"]


def run(*args):
    """``motcua ...`` in its own process, with a clean environment; the CompletedProcess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    return subprocess.run([sys.executable, "-m", "motcua", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def make_bundle(at, out, commune="05518", *extra):
    """A bundle made by ``motcua provision bundle`` at the hub ``at``; returns the command's output."""
    result = run("provision", "bundle", "--commune", commune, "--out", out, "--public-hub-urls", at.url,
                 *extra, *at.args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def provision(data_dir, *args):
    """``motcua edge provision ... --data-dir DIR``: (return code, stdout + stderr)."""
    result = run("edge", "provision", *args, "--data-dir", data_dir, "--log-level", "WARNING")
    return result.returncode, result.stdout + result.stderr


def tree(root, skip=()):
    """Every path under ``root`` (except under ``skip``, a path or several, and the hub's
    own folder) with its mode, size and content time."""
    root, out = Path(root), {}
    skip = [Path(p) for p in ([skip] if isinstance(skip, (str, Path)) else skip)]
    skip += [root / "hub"]  # the hub process of the test writes its database there
    for path in sorted(root.rglob("*")):
        if any(path == s or s in path.parents for s in skip):
            continue
        stat = path.lstat()
        out[str(path.relative_to(root))] = (stat.st_mode, stat.st_size, stat.st_mtime_ns)
    return out


class ProvisionedBox(BoxDatabase):
    """A box set up by ``motcua edge provision``: its settings as its commands see them."""

    def __init__(self, root):
        self.dir = Path(root)
        self.settings = load_settings("edge", environ={}, overrides={"data_dir": str(self.dir)})
        self.commune = self.settings["commune_code"]
        self.db = open_database(self.settings["database"])
        self._previous = None
        with self:
            bind(self.db, MODELS)
        self.key = ensure_key(self.dir)

    def close(self):
        self.db.close()


@pytest.fixture
def opened():
    """Open provisioned boxes, closed after the test."""
    boxes = []

    def open_box(root):
        box = ProvisionedBox(root)
        boxes.append(box)
        return box

    yield open_box
    for box in boxes:
        box.close()
