"""Locks the kernel releases with their holder.

A task that must not run twice at once (the sync) holds an exclusive ``flock`` on a file in
the data directory. The kernel drops it when the holder's file is closed, and so when the
holder dies in any way (an exception, SIGKILL, a power cut): no lock outlives its holder, and
one that a live worker holds is never broken.
"""
import fcntl
import os
from contextlib import contextmanager
from pathlib import Path


class Busy(Exception):
    """Another task (this or another process) holds the lock now."""


@contextmanager
def process_lock(data_dir, name):
    path = Path(data_dir) / "locks" / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by child processes
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(name) from None
        yield
    finally:
        os.close(fd)  # releases the lock
