"""Writers of different processes (the box's web, worker, device service) queue on a lock the kernel
hands over at once, instead of napping in SQLite's busy handler (up to 100 ms a nap)."""
import subprocess
import sys
import threading

from office.db import database

HOLD = ("import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); fcntl.flock(fd, fcntl.LOCK_EX); "
        "print('held', flush=True); sys.stdin.read()")


def test_a_write_waits_for_the_writer_lock_of_another_process_and_gets_it_when_that_dies(db, tmp_path):
    with subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "edge.db-writer.lock")],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout.readline().strip() == "held"
            began = threading.Event()

            def write():
                with database.atomic():
                    began.set()
                database.close()

            thread = threading.Thread(target=write)
            thread.start()
            assert not began.wait(0.5)  # the other process writes: this one waits its turn
            holder.kill()  # killed while holding it: the kernel releases the lock with its holder
            holder.wait(10)
            assert began.wait(10)
            thread.join(10)
        finally:
            if holder.poll() is None:
                holder.kill()
