"""Tests that drive other processes: stop one (its whole process group), wait for what it does."""
import os
import signal
import subprocess
import time
from pathlib import Path


def kill_group(proc, sig=signal.SIGKILL, grace=15):
    """Send ``sig`` to ``proc``'s whole group, wait up to ``grace`` seconds, then SIGKILL it."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, sig)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_for(predicate, timeout=60, step=0.05, what="condition"):
    """``predicate()``'s first true value within ``timeout`` seconds, else an AssertionError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def children(pid):
    """{pid: command name} of the live children of process ``pid``, read from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                found[int(entry.name)] = stat[stat.index("(") + 1:stat.rindex(")")]
    return found
