import hashlib
import io
import os

import pytest

from blobs import BlobError, DiskStore, open_store


def sha(data):
    return hashlib.sha256(data).hexdigest()


def test_put_then_read_back_by_hash(tmp_path):
    store = DiskStore(tmp_path / "blobs")
    data = os.urandom(3 * 1024 * 1024 + 17)
    assert store.put(io.BytesIO(data)) == (sha(data), len(data))
    assert store.size(sha(data)) == len(data)
    with store.open(sha(data)) as f:
        assert f.read() == data
    assert store.total_size() == len(data)


def test_tampered_bytes_are_refused_and_nothing_is_kept(tmp_path):
    store = DiskStore(tmp_path / "blobs")
    data = b"giay khai sinh" * 1000
    with pytest.raises(BlobError) as refused:
        store.put(io.BytesIO(data[:-1] + b"X"), expect_sha=sha(data))
    assert refused.value.status == 422
    assert not store.has(sha(data)) and store.total_size() == 0
    assert os.listdir(store.partials) == []


def test_resumed_upload_goes_on_from_what_was_stored(tmp_path):
    store = DiskStore(tmp_path / "blobs")
    data = os.urandom(2 * 1024 * 1024)
    assert store.append(sha(data), 0, io.BytesIO(data[:700_000])) == 700_000
    # a new process (after a cut) asks where to go on from
    again = DiskStore(tmp_path / "blobs")
    assert again.partial_size(sha(data)) == 700_000
    assert not again.has(sha(data))
    with pytest.raises(BlobError) as wrong:
        again.append(sha(data), 5, io.BytesIO(data[5:]))
    assert wrong.value.status == 409 and wrong.value.detail == {"offset": 700_000}
    again.append(sha(data), 700_000, io.BytesIO(data[700_000:]))
    assert again.commit(sha(data), expect_sha=sha(data), expect_size=len(data)) == (sha(data), len(data))
    assert again.partial_size(sha(data)) == 0


def test_size_limit_refuses_a_file_too_big(tmp_path):
    store = DiskStore(tmp_path / "blobs")
    with pytest.raises(BlobError) as refused:
        store.put(io.BytesIO(b"x" * (3 * 1024 * 1024)), limit=2 * 1024 * 1024)
    assert refused.value.status == 413
    assert store.total_size() == 0


def test_a_name_that_is_not_a_hash_is_refused(tmp_path):
    store = DiskStore(tmp_path / "blobs")
    for bad in ("../etc/passwd", "ABC", "g" * 64):
        with pytest.raises(BlobError):
            store.open(bad)
    with pytest.raises(BlobError):
        store.append("../x", 0, io.BytesIO(b""))


def test_store_named_by_settings(tmp_path):
    assert isinstance(open_store({"data_dir": str(tmp_path), "blob_store": ""}), DiskStore)
    assert open_store({"data_dir": str(tmp_path), "blob_store": f"file:{tmp_path}/x"}).root == str(tmp_path / "x")
    with pytest.raises(BlobError):
        open_store({"data_dir": str(tmp_path), "blob_store": "ftp://nowhere"})


def test_the_box_upkeep_sweeps_partials_left_for_a_week_and_keeps_fresh_ones(tmp_path):
    import time as clock

    from edge.upkeep import storage_upkeep
    from motcua.settings import load_settings
    from office.db import bind, database, open_database
    from office.models import MODELS

    settings = load_settings("edge", environ={}, overrides={"data_dir": str(tmp_path / "box")})
    bind(open_database(settings["database"]), MODELS)
    try:
        store = open_store(settings)
        store.append("a" * 64, 0, io.BytesIO(b"old piece"))
        store.append("b" * 64, 0, io.BytesIO(b"fresh piece"))
        week_ago = clock.time() - 8 * 86400
        os.utime(os.path.join(store.partials, "a" * 64), (week_ago, week_ago))
        assert storage_upkeep(settings)["partials"] == 1
        assert store.partial_size("a" * 64) == 0 and store.partial_size("b" * 64) == len(b"fresh piece")
    finally:
        database.close()
