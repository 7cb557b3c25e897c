"""A citizen's SMS from a dossier received on a box while the hub was unreachable: sent once by
the hub's worker after the box comes back, however often the batch arrives; and the same with
the hub on PostgreSQL and its queue on Redis, scaled out."""
import re
import collections
from datetime import datetime

import pytest
import redis
import requests

from office import dossiers
from office.calendar import WorkCalendar
from office.models import Procedure
from sync.box import _unsent
from sync.capture import this_node
from sync.protocol import ORIGIN, SIGNATURE, encode_batch
from tests.central.fakes import FakeSms

from .conftest import Box, HubProcess, drop_schema, postgres_schema
from .notify_support import NotifyQueue, WorkerProcess, sms_args, wait_for
from .test_dossier_convergence import OFFICE_CODE, hub_import_catalog, write_catalog

PHONE = "0912345678"


@pytest.fixture
def sms():
    gateway = FakeSms().start()
    yield gateway
    gateway.stop()


def receive(box, name, phone=PHONE):
    with box:
        return dossiers.receive(WorkCalendar(), Procedure.get(Procedure.code == "1.001193"),
                                {"name": name, "phone": phone}, OFFICE_CODE, officer="Nguyễn Thị Lan",
                                now=datetime(2026, 3, 3, 9, 0))


def post_batch(hub, box, body, signature):
    response = requests.post(hub.url + "/sync/v1/push", data=body, timeout=10,
                             headers={ORIGIN: box.node_id, SIGNATURE: signature})
    assert response.status_code == 200, response.text
    return response.json()


def outbox_states(hub):
    return dict(hub.query("select state, count(*) from outbox group by state"))


def test_dossier_received_offline_texts_the_citizen_once(hub, make_box, tmp_path, sms):
    hub_import_catalog(hub.dir, hub.database_url, write_catalog(tmp_path))
    box = make_box()
    assert box.sync()["ok"]
    worker_args = [*hub.args, *sms_args(sms)]
    worker = WorkerProcess(hub.dir, worker_args)
    queue = NotifyQueue(worker_args)
    queue.huey.flush()
    try:
        hub.stop()  # the link is cut while the counter receives a dossier
        dossier = receive(box, "Nguyễn Văn An")
        assert not box.sync()["ok"]
        hub.start()
        with box:  # the box's entries, pushed twice as after a lost answer, then by the box itself
            rows = _unsent(this_node(), 10_000)
        first = post_batch(hub, box, *encode_batch(box.node_id, rows, box.key, 1))
        assert first["applied"] > 0 and first["notices"] == 1
        again = post_batch(hub, box, *encode_batch(box.node_id, rows, box.key, 1))  # a new request, as a box sends
        assert again["applied"] == 0 and again["duplicates"] == first["applied"]
        assert box.sync()["ok"]
        assert queue.huey.pending_count() == 1  # the push with a notice asked the worker to send now

        worker.start()
        wait_for(lambda: sms.delivered, timeout=45, what="the SMS at the gateway")
        queue.run()  # one more full round of the worker: nothing new
        [body_sent] = sms.bodies()
        assert body_sent["Phone"] == "84912345678" and body_sent["Brandname"] == "UBND-XA"
        assert body_sent["Content"] == (f"UBND Phuong Song Cong da tiep nhan ho so {dossier.code} (Dang ky khai sinh). "
                                        f"Hen tra ket qua {dossier.due_at:%H:%M %d/%m/%Y}. Tra cuu bang ma ho so.")
        assert outbox_states(hub) == {"sent": 1}
    finally:
        worker.close()
        queue.huey.flush()


REDIS_DB = 12


def test_scaled_out_hub_on_postgresql_and_redis_sends_once(tmp_path, sms):
    schema, url = postgres_schema()
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    redis.Redis.from_url(redis_url).flushdb()
    hub = HubProcess(tmp_path / "hub", url)
    hub.args += ["--redis-url", redis_url, "--web-workers", "3"]  # several web processes, one database
    hub.start()
    workers, queue = [], None
    try:
        hub_import_catalog(hub.dir, hub.database_url, write_catalog(tmp_path))
        box = Box(tmp_path / "box", "05518", hub)
        hub.register(box)
        assert box.sync()["ok"]
        worker_args = [*hub.args, *sms_args(sms)]
        # two workers on two machines' worth of processes, one queue, one database
        workers = [WorkerProcess(hub.dir, worker_args).start(), WorkerProcess(hub.dir, worker_args).start()]
        queue = NotifyQueue(worker_args)
        codes = [receive(box, f"Công dân {n}", phone=f"09123456{n:02d}").code for n in range(6)]
        receive(box, "Không có số", phone="")  # no notice without a phone
        assert box.sync()["ok"]
        wait_for(lambda: len(sms.delivered) == 6, timeout=60, what="six SMS at the gateway")
        for _ in range(3):
            queue.run()
        raw = collections.Counter(b["RequestId"] for b in sms.bodies())
        assert len(raw) == 6 and set(raw.values()) == {1}  # each message posted once, by one worker
        found = [re.search(r"\d{3}\.\d{2}\.\d{5}-\d{6}-\d{4}", b["Content"]).group(0) for b in sms.bodies()]
        assert sorted(found) == sorted(codes)
        assert outbox_states(hub) == {"sent": 6}
        box.db.close()
    finally:
        for w in workers:
            w.close()
        if queue is not None:
            queue.huey.flush()
        hub.close()
        drop_schema(schema)
