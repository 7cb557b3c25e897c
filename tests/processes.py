"""Stopping the processes tests start in their own session (process group)."""
import os
import signal
import subprocess


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
