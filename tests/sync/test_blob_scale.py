"""Files at a scaled-out hub: three gunicorn web workers on PostgreSQL sharing one store on disk
(uploads of one file racing through several workers stay whole), and a hub keeping its files in an
S3-compatible bucket (moto's server on 127.0.0.1)."""
import io
import os
import threading
import time

import pytest

from blobs import DiskStore, open_store
from blobs.travel import send, transfer
from office.attachments import attach_file
from sync.capture import this_node
from tests.blobs.support import S3_ENV, HubRows, client_via, moto_server, sha, some_bytes
from tests.sync.conftest import Box, HubProcess, drop_schema, postgres_schema


def box_transfer(box):
    with box:
        return transfer(client_via(box, box.settings["hub_url"]), open_store(box.settings), this_node().node_id)


def scans(box, count, seed):
    """``count`` scans of 200 KB to 1.5 MB made at ``box`` (rows and bytes), as (sha, size)."""
    import random

    rng, made = random.Random(seed), []
    with box:
        for n in range(count):
            data = b"%PDF-1.4\n" + some_bytes(rng.randint(200_000, 1_500_000), seed * 1000 + n)
            attach_file(f"dossier-{n}", "scan", io.BytesIO(data), f"scan-{n}.pdf", open_store(box.settings))
            made.append((sha(data), len(data)))
    return made


def test_three_web_workers_on_postgresql_take_racing_uploads_whole_and_serve_files(tmp_path):
    schema, url = postgres_schema()
    hub = HubProcess(tmp_path / "hub", url)
    hub.args += ["--web-workers", "3", "--web-threads", "2"]
    hub.start()
    try:
        box = Box(tmp_path / "box", "05518", hub)
        hub.register(box)
        made = scans(box, 12, 1)
        assert box.sync()["ok"]
        store = open_store(box.settings)
        errors = []

        def upload(items):
            try:
                client = client_via(box, hub.url)
                for blob, size in items:
                    assert send(client, store, blob, size)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(repr(exc))

        # four senders at once: each file sent by two of them, every request to any of the three workers
        threads = [threading.Thread(target=upload, args=(made[i::2],)) for i in (0, 1, 0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert errors == [] and not any(t.is_alive() for t in threads)
        at_hub = DiskStore(os.path.join(hub.dir, "blobs"))
        for blob, size in made:
            with at_hub.open(blob) as f:
                assert sha(f.read()) == blob
        assert os.listdir(at_hub.partials) == []
        # files the hub holds for the commune come down through the same workers
        with HubRows(hub) as rows:
            coming = [rows.attach("05518", some_bytes(300_000 + n * 50_000, 100 + n), owner=f"online-{n}")
                      for n in range(8)]
        assert box.sync()["ok"]
        result = box_transfer(box)
        assert result["fetched"] == 8 and result["failed"] == 0, result
        for row in coming:
            with store.open(row.sha256) as f:
                assert sha(f.read()) == row.sha256
        box.db.close()
    finally:
        hub.close()
        drop_schema(schema)


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    yield from moto_server(tmp_path_factory.mktemp("moto") / "moto.log")


def test_a_hub_keeping_files_in_an_s3_bucket_serves_and_takes_them(tmp_path, s3_server, monkeypatch):
    for name, value in S3_ENV:
        monkeypatch.setenv(name, value)  # the hub process takes its credentials from its environment
    bucket = f"motcua-hub-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    setting = f"s3://{bucket}/blobs?endpoint={s3_server}"
    bucket_store = open_store({"data_dir": str(tmp_path / "hub"), "blob_store": setting})
    bucket_store.client.create_bucket(Bucket=bucket)
    hub = HubProcess(tmp_path / "hub")
    hub.args += ["--blob-store", setting]
    hub.start()
    try:
        with HubRows(hub, store=bucket_store) as rows:
            paper = some_bytes(1_200_000, 7)
            rows.attach("05518", paper)
        box = Box(tmp_path / "box", "05518", hub)
        hub.register(box)
        [(made, size)] = scans(box, 1, 2)
        assert box.sync()["ok"]
        result = box_transfer(box)
        assert (result["fetched"], result["sent"], result["failed"]) == (1, 1, 0), result
        with open_store(box.settings).open(sha(paper)) as f:
            assert f.read() == paper
        assert bucket_store.size(made) == size  # the scan went whole into the bucket
        assert not os.listdir(os.path.join(hub.dir, "blobs", "partial"))
        box.db.close()
    finally:
        hub.close()
