"""Content-addressed files (blobs): papers a citizen uploads, photos of a field report, scans at the
desk, answer photos. A replicated row names a blob by its sha256 and size, so the signed change log
covers the bytes; the bytes travel on their own and are checked against the hash when they arrive."""
from .store import BlobError, BlobStore, DiskStore, is_sha256, open_store

__all__ = ["BlobError", "BlobStore", "DiskStore", "is_sha256", "open_store"]
