"""The box's SQLite connections keep a small page cache and their temp data in memory: the web has
one connection per thread, and at SQLite's default of 2 MB each they held 8 MB more after a busy
hour (issue 15: the box's web and worker were over their memory budget); a ticket's savepoint
spilled its pages into a temp file."""
import os
from pathlib import Path

from office import queue
from office.db import BOX_CACHE_KIB, HUB_SQLITE, database, open_database


def test_a_box_connection_caches_at_most_half_a_megabyte(tmp_path):
    db = open_database(str(tmp_path / "edge.db"))
    assert db.execute_sql("PRAGMA cache_size").fetchone()[0] == -BOX_CACHE_KIB == -512
    db.close()


def test_the_hub_keeps_a_larger_cache_for_its_statistics(tmp_path):
    db = open_database(str(tmp_path / "hub.db"), **HUB_SQLITE)
    assert db.execute_sql("PRAGMA cache_size").fetchone()[0] == -2000
    db.close()


def test_a_ticket_spills_no_savepoint_journal_into_a_temp_file(office, policy):
    """Issue 15: a ticket changes ~24 pages in its savepoint, past the 64 KiB SQLite keeps in memory,
    so every ticket opened, wrote ~100 KB into and unlinked a file in /var/tmp (on a box, the SD card)."""
    with database.atomic():
        queue.issue_ticket(policy, "ho-tich", print_payload=lambda ticket: {"lines": []})
        queue.issue_ticket(policy, "dat-dai", print_payload=lambda ticket: {"lines": []})
        assert [link for link in _open_files() if "etilqs_" in link] == []
        assert database.execute_sql("PRAGMA temp_store").fetchone()[0] == 2  # memory


def test_the_hub_keeps_sqlites_temp_files_for_its_large_sorts(tmp_path):
    db = open_database(str(tmp_path / "hub.db"), **HUB_SQLITE)
    assert db.execute_sql("PRAGMA temp_store").fetchone()[0] == 0  # default: files
    db.close()


def _open_files():
    fds = Path("/proc/self/fd")
    return [os.readlink(fd) for fd in fds.iterdir() if fd.exists()]
