"""How the box's long-running processes (web, worker, device service) use memory."""
import ctypes

M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


def fewer_malloc_arenas(arenas=2):
    """Two malloc arenas for the process, as ``MALLOC_ARENA_MAX=2`` would: glibc gives a thread that
    allocates an arena of its own (up to eight a core) and keeps what is freed in it, so the web's
    nine threads and the worker's held about 5 MB more after a busy spell (bench/queue.py, issue 15).
    Called before any thread starts; without glibc, nothing. Returns whether it was set."""
    try:
        return ctypes.CDLL(None).mallopt(M_ARENA_MAX, arenas) == 1
    except (OSError, AttributeError):
        return False
