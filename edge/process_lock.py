"""Locks the kernel releases with their holder.

A task that must not run twice at once (the sync) holds an exclusive ``flock`` on a file in
the data directory. The kernel drops it when the holder's file is closed, and so when the
holder dies in any way (an exception, SIGKILL, a power cut): no lock outlives its holder, and
one that a live worker holds is never broken. (Provisioning's ``provisioning.local.locked``
works the same way.)
"""
import fcntl
import os
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def process_lock(data_dir, name):
    """Yields True while this caller holds lock ``name``, False (at once) when another
    thread or process holds it."""
    path = Path(data_dir) / "locks" / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)  # not inherited by children
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock
