"""The sync's lock: one holder at a time, free again as soon as its holder is gone."""
import subprocess
import sys

from edge.process_lock import process_lock


def test_a_held_lock_is_not_taken_twice(tmp_path):
    with process_lock(tmp_path, "sync") as first:
        with process_lock(tmp_path, "sync") as second:
            assert (first, second) == (True, False)
    with process_lock(tmp_path, "sync") as again:
        assert again


def test_a_lock_dies_with_its_killed_holder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from edge.process_lock import process_lock\n"
        f"with process_lock({str(tmp_path)!r}, 'sync') as mine:\n"
        "    print(mine, flush=True); time.sleep(60)")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        with process_lock(tmp_path, "sync") as mine:
            assert not mine  # a live holder's lock is never broken
        holder.kill()
        holder.wait()
        with process_lock(tmp_path, "sync") as mine:
            assert mine
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
