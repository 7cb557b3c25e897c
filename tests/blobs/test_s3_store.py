"""The S3-compatible store against moto's S3 server run on 127.0.0.1 (an outside service run by the
test): whole files only in the bucket, partials on local disk, tampered bytes refused, resume."""
import io
import os
import time

import pytest

from blobs import BlobError, open_store
from blobs.s3 import S3Store
from tests.blobs.support import S3_ENV, moto_server, sha, some_bytes


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    yield from moto_server(tmp_path_factory.mktemp("moto") / "moto.log")


@pytest.fixture
def s3_env(monkeypatch):
    for name, value in S3_ENV:
        monkeypatch.setenv(name, value)


@pytest.fixture
def store(s3_server, s3_env, tmp_path):
    bucket = f"motcua-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    made = open_store({"data_dir": str(tmp_path), "blob_store": f"s3://{bucket}/hub-blobs?endpoint={s3_server}"})
    made.client.create_bucket(Bucket=bucket)
    return made


def keys(store):
    listed = store.client.list_objects_v2(Bucket=store.bucket)
    return [item["Key"] for item in listed.get("Contents", ())]


def test_the_setting_names_an_s3_store_with_local_partials(store, tmp_path):
    assert isinstance(store, S3Store) and store.prefix == "hub-blobs/"
    assert store.local.root == str(tmp_path / "blobs")


def test_a_file_goes_whole_into_the_bucket_and_reads_back(store):
    data = some_bytes(3 * 1024 * 1024 + 5, 1)
    assert store.put(io.BytesIO(data)) == (sha(data), len(data))
    assert keys(store) == [f"hub-blobs/{sha(data)[:2]}/{sha(data)[2:4]}/{sha(data)}"]
    assert store.size(sha(data)) == len(data) and store.has(sha(data))
    with store.open(sha(data)) as f:
        assert f.read() == data
    assert store.total_size() == len(data)
    assert os.listdir(store.local.partials) == []


def test_tampered_bytes_never_reach_the_bucket(store):
    data = some_bytes(500_000, 2)
    with pytest.raises(BlobError) as refused:
        store.put(io.BytesIO(data[:-1] + b"X"), expect_sha=sha(data))
    assert refused.value.status == 422
    assert keys(store) == [] and not store.has(sha(data)) and os.listdir(store.local.partials) == []


def test_a_resumed_upload_appends_locally_then_commits_to_the_bucket(store):
    data = some_bytes(2 * 1024 * 1024, 3)
    store.append(sha(data), 0, io.BytesIO(data[:700_000]))
    assert store.partial_size(sha(data)) == 700_000 and keys(store) == []  # nothing half in the bucket
    with pytest.raises(BlobError) as wrong:
        store.append(sha(data), 5, io.BytesIO(data[5:]))
    assert wrong.value.status == 409
    store.append(sha(data), 700_000, io.BytesIO(data[700_000:]))
    with store.locked(sha(data)):
        assert store.commit(sha(data), expect_sha=sha(data), expect_size=len(data)) == (sha(data), len(data))
    assert store.partial_size(sha(data)) == 0 and store.size(sha(data)) == len(data)


def test_a_missing_file_is_a_404(store):
    with pytest.raises(BlobError) as missing:
        store.open("ab" * 32)
    assert missing.value.status == 404 and store.size("ab" * 32) is None
