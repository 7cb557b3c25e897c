"""Blobs in an S3-compatible object store (AWS S3, MinIO, Ceph...), for a hub that outgrows one machine.

``blob_store = "s3://bucket/prefix?endpoint=http://127.0.0.1:9000"`` (``endpoint`` left out: AWS
itself; ``region=`` optional). Credentials come the usual boto3 way (``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` in the environment, a profile, an instance role). Needs ``boto3``
(``pip install motcua[s3]``).

Partial uploads stay on local disk (``<data_dir>/blobs/partial``, with their locks): a resumed
transfer appends there, and only a whole file whose hash matched goes to the bucket, in one PUT
(multipart past 64 MB, by boto3's transfer manager). An object appears whole or not at all, so
the bucket never holds half a file under a hash's name. Web workers on several machines need
their partials on a shared disk, or a box's resumed upload sticking to one machine.
"""
import os
import tempfile
from urllib.parse import parse_qs, urlparse

from .store import BlobError, BlobStore, DiskStore, _check_sha, checked_partial

SPOOL = 8 * 1024 * 1024  # a blob read from the bucket stays in memory up to this, then a temporary file


class S3Store(BlobStore):
    def __init__(self, bucket, prefix="", local_root="blobs", endpoint=None, region=None, client=None):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.local = DiskStore(local_root)  # partials and their locks
        if client is None:
            import boto3

            client = boto3.client("s3", endpoint_url=endpoint or None, region_name=region or None)
        self.client = client

    def key(self, sha):
        _check_sha(sha)
        return f"{self.prefix}{sha[:2]}/{sha[2:4]}/{sha}"

    def _missing(self, exc):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status == 404 or exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")

    def size(self, sha):
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key(sha))["ContentLength"]
        except ClientError as exc:
            if self._missing(exc):
                return None
            raise

    def open(self, sha):
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(sha))["Body"]
        except ClientError as exc:
            if self._missing(exc):
                raise BlobError("Tệp chưa có ở đây.", status=404) from None
            raise
        copy = tempfile.SpooledTemporaryFile(max_size=SPOOL)
        with body:
            for piece in body.iter_chunks(1024 * 1024):
                copy.write(piece)
        copy.seek(0)
        return copy

    def put(self, fileobj, expect_sha=None, expect_size=None, limit=None):
        upload_id = f"put-{os.getpid()}-{id(fileobj)}-{os.urandom(4).hex()}"
        try:
            self.local.append(upload_id, 0, fileobj, limit=limit)
            return self.commit(upload_id, expect_sha, expect_size)
        finally:
            self.local.abort(upload_id)

    def delete(self, sha):
        self.client.delete_object(Bucket=self.bucket, Key=self.key(sha))

    def partial_size(self, upload_id):
        return self.local.partial_size(upload_id)

    def append(self, upload_id, offset, fileobj, limit=None):
        return self.local.append(upload_id, offset, fileobj, limit=limit)

    def commit(self, upload_id, expect_sha=None, expect_size=None):
        path = self.local._partial(upload_id)
        sha, size = checked_partial(path, expect_sha, expect_size)
        if self.size(sha) is None:
            self.client.upload_file(path, self.bucket, self.key(sha))
        os.unlink(path)
        return sha, size

    def abort(self, upload_id):
        self.local.abort(upload_id)

    def locked(self, upload_id):
        return self.local.locked(upload_id)

    def total_size(self):
        total = 0
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            total += sum(item["Size"] for item in page.get("Contents", ()))
        return total

    def sweep_partials(self, older_than_seconds=7 * 86400):
        return self.local.sweep_partials(older_than_seconds)


def s3_store(where, local_root):
    """The ``S3Store`` of a ``blob_store`` setting ``s3://bucket/prefix?endpoint=...&region=...``."""
    url = urlparse(where)
    if not url.netloc:
        raise BlobError(f"Kho tệp S3 thiếu tên bucket: {where} (dạng s3://bucket/thu-muc?endpoint=...)")
    query = parse_qs(url.query)
    try:
        return S3Store(url.netloc, url.path, local_root, endpoint=query.get("endpoint", [None])[0],
                       region=query.get("region", [None])[0])
    except ImportError:
        raise BlobError("Kho tệp S3 cần gói boto3: cài motcua[s3].") from None
