"""Where blob bytes live, behind one small interface (``BlobStore``).

``DiskStore`` (the default, on the box and the hub) keeps ``<root>/<aa>/<bb>/<sha256>``. A blob is
never visible half-written under its name: bytes go to a partial file that is fsynced after each
piece (its size on disk is where a resumed transfer goes on from), then hashed, checked, fsynced and
renamed into place. A power cut leaves at most a partial file, which a resumed transfer continues
and ``sweep_partials`` removes when it is old.
"""
import fcntl
import hashlib
import os
import re
import time
from contextlib import contextmanager

from office.errors import MotcuaError

CHUNK = 1024 * 1024
_SHA = re.compile(r"^[0-9a-f]{64}$")
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{8,80}$")


class BlobError(MotcuaError):
    pass


def is_sha256(value):
    return isinstance(value, str) and bool(_SHA.match(value))


def _check_sha(sha):
    if not is_sha256(sha):
        raise BlobError("Mã tệp không hợp lệ.", status=404)


def _check_upload_id(upload_id):
    if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
        raise BlobError("Mã lượt tải lên không hợp lệ.", status=404)


def hash_file(fileobj):
    """(sha256 hex, size) of what is left to read in ``fileobj``."""
    digest, size = hashlib.sha256(), 0
    while chunk := fileobj.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class BlobStore:
    """What every store offers. Partial uploads are named by the caller (``upload_id``): a tus upload's
    id at the hub, the blob's own sha256 for a transfer between box and hub."""

    def has(self, sha):
        return self.size(sha) is not None

    def size(self, sha):  # pragma: no cover - interface
        """The stored size, or None when the blob is not here (whole)."""
        raise NotImplementedError

    def open(self, sha):  # pragma: no cover - interface
        """A binary file object to read the whole blob (seekable)."""
        raise NotImplementedError

    def put(self, fileobj, expect_sha=None, expect_size=None, limit=None):  # pragma: no cover - interface
        """Store what ``fileobj`` holds; return (sha256, size). Refuses (and keeps nothing) when the
        bytes do not match ``expect_sha``/``expect_size`` or pass ``limit`` bytes."""
        raise NotImplementedError

    def delete(self, sha):  # pragma: no cover - interface
        raise NotImplementedError

    def partial_size(self, upload_id):  # pragma: no cover - interface
        """Bytes of ``upload_id`` safely stored so far (0 when none)."""
        raise NotImplementedError

    def append(self, upload_id, offset, fileobj, limit=None):  # pragma: no cover - interface
        """Add what ``fileobj`` holds at ``offset`` (which must be ``partial_size``); return the new size."""
        raise NotImplementedError

    def commit(self, upload_id, expect_sha=None, expect_size=None):  # pragma: no cover - interface
        """Turn a finished partial upload into a blob; return (sha256, size). A mismatch removes the partial."""
        raise NotImplementedError

    def abort(self, upload_id):  # pragma: no cover - interface
        raise NotImplementedError

    def total_size(self):  # pragma: no cover - interface
        """Bytes held in whole blobs (for limits and the console)."""
        raise NotImplementedError

    @contextmanager
    def locked(self, upload_id):  # pragma: no cover - interface
        """Hold ``upload_id`` against every other process and thread of this machine (several web
        workers of a hub, the box's worker and its web) for one append-then-commit."""
        raise NotImplementedError


def checked_partial(path, expect_sha=None, expect_size=None):
    """(sha256, size) of a finished partial upload at ``path``; a mismatch with what was expected
    removes it and refuses (422)."""
    try:
        with open(path, "rb") as f:
            sha, size = hash_file(f)
    except FileNotFoundError:
        raise BlobError("Không có phần tải lên nào để hoàn tất.", status=404) from None
    if (expect_sha and sha != expect_sha) or (expect_size is not None and size != expect_size):
        os.unlink(path)
        raise BlobError("Tệp nhận được không khớp mã kiểm tra (sha256): đã bỏ, cần gửi lại.", status=422,
                        detail={"sha256": sha, "size": size})
    return sha, size


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DiskStore(BlobStore):
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.partials = os.path.join(self.root, "partial")
        self.locks = os.path.join(self.root, "locks")
        os.makedirs(self.partials, exist_ok=True)
        os.makedirs(self.locks, exist_ok=True)

    def path(self, sha):
        _check_sha(sha)
        return os.path.join(self.root, sha[:2], sha[2:4], sha)

    def _partial(self, upload_id):
        _check_upload_id(upload_id)
        return os.path.join(self.partials, upload_id)

    def size(self, sha):
        try:
            return os.stat(self.path(sha)).st_size
        except FileNotFoundError:
            return None

    def open(self, sha):
        try:
            return open(self.path(sha), "rb")
        except FileNotFoundError:
            raise BlobError("Tệp chưa có ở đây.", status=404) from None

    def put(self, fileobj, expect_sha=None, expect_size=None, limit=None):
        upload_id = f"put-{os.getpid()}-{time.monotonic_ns()}"
        try:
            self.append(upload_id, 0, fileobj, limit=limit)
            return self.commit(upload_id, expect_sha, expect_size)
        finally:
            self.abort(upload_id)

    def delete(self, sha):
        try:
            os.unlink(self.path(sha))
        except FileNotFoundError:
            pass

    def partial_size(self, upload_id):
        try:
            return os.stat(self._partial(upload_id)).st_size
        except FileNotFoundError:
            return 0

    def append(self, upload_id, offset, fileobj, limit=None):
        path = self._partial(upload_id)
        with open(path, "ab") as out:
            size = out.seek(0, os.SEEK_END)
            if offset != size:
                raise BlobError(f"Vị trí tải tiếp {offset} không khớp với phần đã nhận ({size} byte).",
                                status=409, detail={"offset": size})
            while chunk := fileobj.read(CHUNK):
                if limit is not None and size + len(chunk) > limit:
                    out.flush()
                    os.fsync(out.fileno())
                    raise BlobError(f"Tệp vượt quá giới hạn {limit // (1024 * 1024)} MB.", status=413)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        return size

    def commit(self, upload_id, expect_sha=None, expect_size=None):
        path = self._partial(upload_id)
        sha, size = checked_partial(path, expect_sha, expect_size)
        final = self.path(sha)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.replace(path, final)
        _fsync_dir(os.path.dirname(final))
        return sha, size

    def abort(self, upload_id):
        try:
            os.unlink(self._partial(upload_id))
        except FileNotFoundError:
            pass

    @contextmanager
    def locked(self, upload_id):
        """An fcntl lock on ``locks/<upload_id>``: the kernel releases it with its holder (a killed
        worker never leaves it taken). The lock files stay (a few bytes each; ``sweep_partials``
        removes old ones)."""
        _check_upload_id(upload_id)
        fd = os.open(os.path.join(self.locks, upload_id), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def total_size(self):
        total = 0
        for top in os.scandir(self.root):
            if top.name in ("partial", "locks") or not top.is_dir():
                continue
            for dirpath, _, files in os.walk(top.path):
                total += sum(os.stat(os.path.join(dirpath, name)).st_size for name in files)
        return total

    def sweep_partials(self, older_than_seconds=7 * 86400):
        """Remove partial uploads nobody continued; return how many."""
        cutoff, removed = time.time() - older_than_seconds, 0
        for entry in os.scandir(self.partials):
            if entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        for entry in os.scandir(self.locks):
            if entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
        return removed


def open_store(settings):
    """The store a node's settings name: ``blob_store`` empty = a ``DiskStore`` under
    ``<data_dir>/blobs``; ``file:/dir`` another directory; ``s3://bucket/prefix?endpoint=...`` an
    S3-compatible bucket (partials stay under ``<data_dir>/blobs``)."""
    where = settings.get("blob_store") or ""
    if not where:
        return DiskStore(os.path.join(settings["data_dir"], "blobs"))
    if where.startswith("file:"):
        return DiskStore(where[len("file:"):])
    if where.startswith("s3://"):
        from .s3 import s3_store  # boto3 only where a hub keeps its files in a bucket

        return s3_store(where, os.path.join(settings["data_dir"], "blobs"))
    raise BlobError(f"Kho tệp không hỗ trợ: {where}")
