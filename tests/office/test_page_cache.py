"""The box's SQLite connections keep a small page cache: the web has one connection per thread,
and at SQLite's default of 2 MB each they held 8 MB more after a busy hour (issue 15: the box's
web and worker were over their memory budget)."""
from office.db import BOX_CACHE_KIB, open_database


def test_a_box_connection_caches_at_most_half_a_megabyte(tmp_path):
    db = open_database(str(tmp_path / "edge.db"))
    assert db.execute_sql("PRAGMA cache_size").fetchone()[0] == -BOX_CACHE_KIB == -512
    db.close()


def test_the_hub_keeps_a_larger_cache_for_its_statistics(tmp_path):
    db = open_database(str(tmp_path / "hub.db"), cache_kib=2000)
    assert db.execute_sql("PRAGMA cache_size").fetchone()[0] == -2000
    db.close()
