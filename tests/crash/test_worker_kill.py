"""A worker killed with SIGKILL at any moment (a power cut) runs every periodic job again by
itself within one period of its restart: no lock outlives its holder."""
import time

import pytest

from office.queue import QueuePolicy, issue_ticket
from tests.sync.conftest import Box, running_hub

from .worker_support import PERIOD_S, HoldingProxy, Worker, wait_for


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path):
    yield from running_hub(request.param, tmp_path / "hub")


@pytest.fixture
def box(tmp_path, hub):
    made = Box(tmp_path / "box", "05518", hub)
    hub.register(made)
    yield made
    made.db.close()


@pytest.fixture
def proxy(hub):
    made = HoldingProxy(hub.port, hold_s=10.0)
    yield made
    made.close()


def add_pending(box, count=3):
    with box:
        for _ in range(count):
            issue_ticket(QueuePolicy(), "ho-tich")


def test_worker_killed_during_sync_syncs_again_after_restart(box, proxy, tmp_path):
    """The issue's case: a push held 10 s by the proxy, the worker SIGKILLed 3 s into it,
    restarted: the box syncs again (it never did: the huey lock stayed held)."""
    proxy.hold()
    worker = Worker("edge", box.dir, ["--hub", proxy.url]).start()
    try:
        assert proxy.push_seen.wait(30), worker.output()
        time.sleep(3)
        worker.kill()
        proxy.hold(False)
        add_pending(box)
        assert box.status()["pending"] > 0
        worker.start()
        wait_for(lambda: box.status()["pending"] == 0, 10 * PERIOD_S, what="the pending entries to be pushed")
        assert "unable to acquire lock" not in worker.output(), worker.output()
    finally:
        worker.close()
