"""The hub worker sends each message once, even when it is killed in the middle of a send."""
import collections

import pytest

from central.app import HUB_MODELS
from central.channels import request_id
from central.outbox import Outbox, enqueue
from office.db import bind, open_database
from tests.central.fakes import FakeSms

from .notify_support import NotifyQueue, WorkerProcess, sms_args, wait_for


@pytest.fixture
def sms():
    gateway = FakeSms().start()
    yield gateway
    gateway.stop()


def test_worker_killed_mid_send_delivers_each_message_once(tmp_path, sms):
    data = tmp_path / "hub"
    args = ["--data-dir", data, "--log-level", "WARNING", *sms_args(sms, "--notify-lease-seconds", 5,
                                                                         "--notify-timeout", 30)]
    db = bind(open_database(str(data / "hub.db")), HUB_MODELS)
    keys = []
    for i in range(3):
        enqueue(f"N{i}", "sms", f"8491234567{i}", f"Ho so {i} da co ket qua", purpose="dossier_ready")
        keys.append(f"N{i}|sms|8491234567{i}")
    queue = NotifyQueue(args)
    queue.huey.flush()
    sms.hold.set()  # the gateway takes each message, then does not answer
    worker = WorkerProcess(data, args).start()
    try:
        queue.tasks["notify_now"]()
        assert sms.held.wait(60), "the worker never reached the gateway"
        worker.kill()  # SIGKILL mid-send (its two threads may each hold one): no answer recorded
        held = {b["RequestId"] for b in sms.bodies()}
        sending = [m.key for m in Outbox.select().where(Outbox.state == "sending")]
        assert held and held <= {request_id(k) for k in sending}  # (one may have died before its request)
        sms.hold.clear()
        sms.release.set()
        worker.start()

        def all_sent():
            queue.run()
            return Outbox.select().where(Outbox.state == "sent").count() == 3

        wait_for(all_sent, timeout=90, step=0.5, what="every message sent after the restart")
        raw = collections.Counter(b["RequestId"] for b in sms.bodies())
        assert set(raw) == set(sms.delivered) == {request_id(k) for k in keys}  # each delivered once
        # what was held is resent after the lease with the same RequestId and refused as a duplicate
        # (a request the dead worker had already written may reach the gateway after the snapshot)
        assert all(raw[rid] == 2 for rid in held) and set(raw.values()) <= {1, 2}, raw
        refs = {request_id(m.key): m.provider_ref for m in Outbox.select()}
        assert {rid: refs[rid] for rid in raw if raw[rid] == 2} == {rid: f"RequestId {rid}" for rid in raw
                                                                     if raw[rid] == 2}
        assert all(refs[rid].startswith("sms-") for rid in raw if raw[rid] == 1)
        before = len(sms.requests)
        assert queue.run() == {"notices": 0, "queued": 0, "skipped": 0, "stale": 0, "sent": 0, "retry": 0,
                               "failed": 0}
        assert len(sms.requests) == before  # sent rows are never sent again
    finally:
        worker.close()
        queue.huey.flush()
        db.close()
