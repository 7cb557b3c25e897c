"""Each web worker process on a core of its own, and the box's worker beside them.

A web worker runs its requests in threads that take turns holding Python's interpreter lock. When
the system spreads those threads over several cores, every hand-over of the lock wakes a thread on
another core and waits for it there; kept on one core, the hand-over is a switch on that core. On
this project's 2-core test machine the box's web answered 3,020-3,140 health requests a second
pinned against 1,730-1,900 free, and issued 650-700 tickets a second against 510-570, with the
tickets' p99 at 20 kiosks 41-49 ms against 52-58 (bench/queue.py, issue 15). A worker process
never uses much more than one core's time anyway: the lock lets one thread run Python at a time.

Web workers take cores from the last one down: on a Raspberry Pi the first core takes the
interrupts of the network and the USB devices. The box's worker (printing, sync) runs on the
cores left, so a burst of printing does not take the web's core; when the web workers hold every
core, it keeps them all. A core already given to a live web worker is not given to another while
one is free (a worker restarted by gunicorn takes the core its predecessor left).

Pinning is skipped where the system cannot do it (no ``sched_setaffinity``) or has one core for
the process, when there are more web workers than cores, and when the ``cpu_pinning`` setting is
off.
"""
import logging
import os

log = logging.getLogger("motcua.cpus")


def usable_cores():
    """The cores this process may run on, in order (those an outer ``taskset`` or cgroup allows)."""
    if not hasattr(os, "sched_getaffinity"):
        return []
    return sorted(os.sched_getaffinity(0))


def web_cores(cores, count):
    """The cores web workers take, in the order they take them: from the last one down."""
    return list(reversed(cores))[:count]


def core_for_web_worker(cores, taken):
    """The core for a new web worker: the first of the web's order that no live worker holds
    (``taken``: the cores of the live workers), else the one fewest hold."""
    return min(web_cores(cores, len(cores)), key=taken.count)  # the first of the fewest: a free one if any


def cores_beside_web(cores, web_workers):
    """The cores for the box's worker: all but the web workers', or all when they hold every one."""
    left = [core for core in cores if core not in web_cores(cores, web_workers)]
    return left or list(cores)


def pin(cores, what):
    """Run this process on ``cores`` from now on; False (and a log line) when the system refuses."""
    try:
        os.sched_setaffinity(0, set(cores))
    except (AttributeError, OSError) as exc:  # no such call here, or a core went offline
        log.warning("%s: could not run on cores %s: %s", what, cores, exc)
        return False
    log.debug("%s: runs on cores %s", what, cores)
    return True


def gunicorn_hooks(settings):
    """gunicorn's ``pre_fork``/``post_fork`` settings that put each web worker on a core of its own
    ({} when pinning is off or pointless)."""
    cores = usable_cores()
    if not _pinning(settings, cores):
        return {}

    def pre_fork(server, worker):  # in the master: it knows which cores the live workers hold
        taken = [getattr(w, "motcua_core", None) for w in server.WORKERS.values()]
        worker.motcua_core = core_for_web_worker(cores, taken)

    def post_fork(server, worker):  # in the new worker, before it loads the app or starts a thread
        pin([worker.motcua_core], f"web worker {os.getpid()}")

    return {"pre_fork": pre_fork, "post_fork": post_fork}


def pin_beside_web(settings):
    """Put the box's worker on the cores the web workers do not take (see ``cores_beside_web``)."""
    cores = usable_cores()
    if not _pinning(settings, cores):
        return None
    beside = cores_beside_web(cores, int(settings.get("web_workers", 1)))
    if beside != cores and pin(beside, "worker"):
        return beside
    return None


def _pinning(settings, cores):
    """Whether to pin: asked for, two cores or more, and no more web workers than cores (more would
    share cores unevenly, where the system would have spread them)."""
    return (bool(settings.get("cpu_pinning")) and 2 <= len(cores)  # a dict without it (a test's) pins nothing
            and int(settings.get("web_workers", 1)) <= len(cores))
