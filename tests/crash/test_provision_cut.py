"""Power cuts while a blank box sets itself up from a USB bundle (SQLite and PostgreSQL hubs): cut at
random moments, then plugged in again, it ends provisioned and enrolled once — one box at the hub,
the token consumed by that box, its keys and settings whole — and it replicates."""
import os
import random
import subprocess
import sys
import time

import pytest

from office import queue
from sync.capture import this_node
from tests.processes import kill_group
from tests.provisioning.conftest import ProvisionedBox, make_bundle, provision
from tests.sync.conftest import running_hub

COMMUNE = "00004"
CUTS = int(os.environ.get("MOTCUA_PROVISION_CUTS", "6"))


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path):
    yield from running_hub(request.param, tmp_path / "hub")


def cut_provisioning(data_dir, bundle, after_s):
    """``motcua edge provision`` killed (its whole process group, as a power cut) after ``after_s``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    proc = subprocess.Popen([sys.executable, "-m", "motcua", "edge", "provision", str(bundle), "--data-dir",
                             str(data_dir), "--log-level", "WARNING"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + after_s
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    finished = proc.poll() is not None
    kill_group(proc)
    return finished


def test_provisioning_cut_at_random_moments_ends_enrolled_once(hub, tmp_path):
    bundle = tmp_path / "usb" / "box.motcua"
    make_bundle(hub, bundle, COMMUNE)
    box_dir = tmp_path / "box"
    rng = random.Random(int(os.environ.get("MOTCUA_CRASH_SEED", "4")))
    for _ in range(CUTS):  # the run takes ~0.5 s here: most cuts land inside it
        if cut_provisioning(box_dir, bundle, rng.uniform(0.1, 0.55)):
            break  # it finished before the cut: plugging in again must say so
    for attempt in range(3):  # plugged in again (and the worker's retry) until it says it is done
        code, out = provision(box_dir, bundle)
        if code == 0 and "--retry" not in out:
            break
        code, out = provision(box_dir, "--retry")
    assert code == 0, out
    box = ProvisionedBox(box_dir)
    try:
        with box:
            node = this_node()
            assert node.scope == COMMUNE and node.hub_key == hub.key
            ticket = queue.issue_ticket(queue.QueuePolicy(), "ho-tich")
        assert hub.query(f"select count(*) from box_node where commune = '{COMMUNE}'") == [(1,)]
        assert hub.query("select consumed_by from enrol_token") == [(node.node_id,)]
        assert hub.query(f"select status from box_node where node_id = '{node.node_id}'") == [("active",)]
        result = box.sync()
        assert result["ok"] and result["pending"] == 0, result
        assert hub.query(f"select number from ticket where id = '{ticket.id}'") == [(ticket.number,)]
    finally:
        box.close()
