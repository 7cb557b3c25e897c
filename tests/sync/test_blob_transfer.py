"""Blob bytes between a hub process and a box, over real HTTP, on SQLite and PostgreSQL hubs: files
come down whole and only to their commune, files made at the box go up after their row, tampered
bytes are refused, a cut transfer resumes from where it stopped."""
import io
import os

import pytest
import requests

from blobs import DiskStore, open_store
from blobs.travel import transfer
from office.attachments import attach_file
from sync.capture import this_node
from sync.client import HubRefused
from tests.blobs.support import CutProxy, HubRows, client_via, sha, some_bytes

OTHER_COMMUNE = "00454"


def box_transfer(box, client=None, **kwargs):
    from sync import box as sync_box

    with box:
        client = client or sync_box.client_for(box.settings, box.key)
        return transfer(client, open_store(box.settings), this_node().node_id, **kwargs)


def box_store(box):
    return open_store(box.settings)


def test_a_citizens_file_comes_down_whole_and_another_communes_stays_away(hub, make_box):
    ours, theirs = some_bytes(1_300_000, 1), some_bytes(50_000, 2)
    with HubRows(hub) as at_hub:
        at_hub.attach(box_commune := "05518", ours)
        at_hub.attach(OTHER_COMMUNE, theirs)
    box = make_box(box_commune)
    assert box.sync()["ok"]
    result = box_transfer(box)
    assert (result["fetched"], result["fetched_bytes"], result["failed"]) == (1, len(ours), 0), result
    with box_store(box).open(sha(ours)) as f:
        assert f.read() == ours
    assert not box_store(box).has(sha(theirs))
    # asked straight, the hub does not hand another commune's file to this box
    with box, pytest.raises(HubRefused) as refused:
        client_via(box, hub.url).blob_download(sha(theirs), 0, lambda piece: None)
    assert refused.value.status == 404
    assert box_transfer(box)["fetched"] == 0  # nothing twice


def test_an_unsigned_request_for_a_blob_is_refused(hub, make_box):
    data = some_bytes(10_000, 3)
    with HubRows(hub) as at_hub:
        at_hub.attach("05518", data)
    make_box()
    response = requests.get(f"{hub.url}/sync/v1/blobs/{sha(data)}", timeout=10)
    assert response.status_code == 401 and data not in response.content


def test_a_scan_made_at_the_box_goes_up_after_its_row(hub, make_box):
    box = make_box()
    scan = b"%PDF-1.4\n" + some_bytes(2_500_000, 4)  # three pieces of 1 MB
    with box:
        attach_file("dossier-1", "scan", io.BytesIO(scan), "so-ho-khau.pdf", box_store(box), added_by="Cán bộ")
    before = box_transfer(box)  # the row has not come up yet: the hub refuses the bytes, the box waits
    assert before["sent"] == 0 and before["failed"] == 1
    assert box.sync()["ok"]
    after = box_transfer(box)
    assert (after["sent"], after["sent_bytes"]) == (1, len(scan)), after
    with DiskStore(os.path.join(hub.dir, "blobs")).open(sha(scan)) as f:
        assert f.read() == scan
    assert box_transfer(box)["sent"] == 0  # confirmed once, not asked again


def test_tampered_bytes_at_the_source_are_refused_on_arrival_both_ways(hub, make_box):
    real = some_bytes(400_000, 5)
    with HubRows(hub) as at_hub:
        at_hub.attach("05518", real)
    stored = DiskStore(os.path.join(hub.dir, "blobs")).path(sha(real))
    forged = bytearray(real)
    forged[1234] ^= 0xFF
    with open(stored, "r+b") as f:  # the hub's disk went bad, or someone changed the file
        f.write(forged)
    box = make_box()
    box.sync()
    result = box_transfer(box)
    assert result["fetched"] == 0 and result["failed"] == 1
    store = box_store(box)
    assert not store.has(sha(real)) and os.listdir(store.partials) == []  # nothing kept under its name

    scan = b"\xff\xd8\xff\xe0" + some_bytes(300_000, 6)
    with box:
        attach_file("dossier-2", "scan", io.BytesIO(scan), "anh.jpg", store)
    box.sync()
    with open(store.path(sha(scan)), "r+b") as f:  # changed on the box's card after it was named
        f.seek(100)
        f.write(b"XXXX")
    assert box_transfer(box)["sent"] == 0
    hub_store = DiskStore(os.path.join(hub.dir, "blobs"))
    assert not hub_store.has(sha(scan)) and hub_store.partial_size(sha(scan)) == 0


def test_a_download_cut_midway_resumes_from_its_partial(hub, make_box):
    data = some_bytes(3_000_000, 7)
    with HubRows(hub) as at_hub:
        at_hub.attach("05518", data)
    box = make_box()
    box.sync()
    store = box_store(box)
    proxy = CutProxy(hub.port, cuts=2, at=0.5).start()
    try:
        client = client_via(box, proxy.url)
        first = box_transfer(box, client, budget_s=30)
    finally:
        proxy.close()
    assert first["fetched"] == 1 and first["retried"] == 2, first
    assert proxy.counts["cut"] == 2
    offsets = [int(target.split("offset=")[1]) for method, target in proxy.targets if method == "GET"]
    assert offsets[0] == 0 and 0 < offsets[1] < offsets[2] < len(data), offsets  # each time on from the partial
    with store.open(sha(data)) as f:
        assert f.read() == data


def test_a_link_that_stays_down_ends_the_run_and_the_next_run_goes_on(hub, make_box):
    data = some_bytes(2_000_000, 12)
    with HubRows(hub) as at_hub:
        at_hub.attach("05518", data)
    box = make_box()
    box.sync()
    store = box_store(box)
    proxy = CutProxy(hub.port, cuts=10, at=0.3).start()
    try:
        first = box_transfer(box, client_via(box, proxy.url), budget_s=30)
    finally:
        proxy.close()
    assert first["fetched"] == 0 and first["error"] and first["retried"] == 4, first
    kept = store.partial_size(sha(data))
    assert 0 < kept < len(data) and not store.has(sha(data))
    assert box_transfer(box)["fetched"] == 1
    with store.open(sha(data)) as f:
        assert f.read() == data


def test_an_upload_cut_midway_goes_on_from_the_hubs_offset(hub, make_box):
    box = make_box()
    scan = b"%PDF-1.4\n" + some_bytes(2_200_000, 8)
    with box:
        attach_file("dossier-3", "scan", io.BytesIO(scan), "ket-qua.pdf", box_store(box), added_by="Cán bộ")
    box.sync()
    client = client_via(box, hub.url)
    with box:
        client.blob_patch(sha(scan), 0, scan[:1024 * 1024])  # one piece went, then the link dropped
        offset, whole = client.blob_offset(sha(scan))
        assert (offset, whole) == (1024 * 1024, False)
        assert client.blob_patch(sha(scan), 0, scan[:1024 * 1024]) == 1024 * 1024  # a stale resend: the hub says where it is
    assert box_transfer(box)["sent"] == 1
    with DiskStore(os.path.join(hub.dir, "blobs")).open(sha(scan)) as f:
        assert f.read() == scan


def test_past_the_box_limit_nothing_new_is_fetched_and_nothing_deleted(hub, make_box):
    files = [some_bytes(600_000, 9 + n) for n in range(3)]
    with HubRows(hub) as at_hub:
        for n, data in enumerate(files):
            at_hub.attach("05518", data, owner=f"dossier-online-{n}")
    box = make_box()
    box.sync()
    result = box_transfer(box, limit_bytes=1_000_000)  # under the limit it fetches; at it, it stops
    assert result["fetched"] == 2 and result["full"] and result["waiting"] == 1, result
    store = box_store(box)
    assert [store.has(sha(data)) for data in files] == [True, True, False]
    again = box_transfer(box, limit_bytes=1_000_000)
    assert again["fetched"] == 0 and again["full"] and store.total_size() == 1_200_000  # nothing deleted


def test_a_worker_killed_mid_download_leaves_no_half_file_and_the_next_run_completes_it(hub, make_box):
    """SIGKILL while the box's worker writes a blob coming slowly: nothing under the blob's name until it
    is whole; the next run goes on from the partial and the file is the hub's, byte for byte."""
    import signal
    import subprocess
    import sys
    import time

    from tests.blobs.support import SlowProxy

    data = some_bytes(2_000_000, 11)
    with HubRows(hub) as at_hub:
        at_hub.attach("05518", data)
    box = make_box()
    box.sync()
    store = box_store(box)
    proxy = SlowProxy(hub.port, piece=32 * 1024, pause=0.05).start()  # ~0.6 MB/s: about 3 s for the file
    command = [sys.executable, "-m", "tests.blobs.fetch_process", str(box.dir), box.commune]
    try:
        log = open(box.dir / "fetch.log", "wb")
        worker = subprocess.Popen([*command, proxy.url], stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while store.partial_size(sha(data)) < 300_000 and time.monotonic() < deadline and worker.poll() is None:
            assert not os.path.exists(store.path(sha(data)))  # never under its name while it comes
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        proxy.close()
        log.close()
    kept = store.partial_size(sha(data))
    assert 300_000 <= kept < len(data), (kept, (box.dir / "fetch.log").read_text()[-2000:])
    assert not os.path.exists(store.path(sha(data))) and not store.has(sha(data))
    again = subprocess.run([*command, hub.url], capture_output=True, text=True, timeout=60)
    assert '"fetched": 1' in again.stdout, again.stdout + again.stderr[-2000:]
    with store.open(sha(data)) as f:
        assert f.read() == data
    assert store.partial_size(sha(data)) == 0
