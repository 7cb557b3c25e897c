"""``motcua edge migrate`` and ``motcua hub migrate``, and the box's start on an older database."""
import sqlite3
import subprocess
import sys
from pathlib import Path

from office.db import database
from office.migrations import LATEST

from .support import old_database


def motcua(*args):
    return subprocess.run([sys.executable, "-m", "motcua", *map(str, args)], capture_output=True, text=True)


def version(path):
    connection = sqlite3.connect(path)
    number = connection.execute("PRAGMA user_version").fetchone()[0]
    connection.close()
    return number


def test_edge_migrate_check_tells_of_pending_migrations_then_migrate_applies_them(tmp_path):
    path = old_database("box", tmp_path / "edge.db")
    common = ["--data-dir", tmp_path, "--database", path]
    checked = motcua("edge", "migrate", "--check", *common)
    assert checked.returncode == 1 and "cần áp dụng các bước số 1" in checked.stdout  # and the later ones
    assert version(path) == 0  # --check changes nothing
    applied = motcua("edge", "migrate", *common)
    assert applied.returncode == 0 and f"Đã nâng cơ sở dữ liệu lên lược đồ số {LATEST}" in applied.stdout
    again = motcua("edge", "migrate", *common)
    assert again.returncode == 0 and "không có gì phải làm" in again.stdout
    assert motcua("edge", "migrate", "--check", *common).returncode == 0


def test_hub_migrate_upgrades_an_old_hub_before_it_starts(tmp_path):
    path = old_database("hub", tmp_path / "hub.db")
    common = ["--data-dir", tmp_path, "--database", path]
    assert motcua("hub", "migrate", "--check", *common).returncode == 1
    applied = motcua("hub", "migrate", *common)
    assert applied.returncode == 0 and f"lược đồ số {LATEST}" in applied.stdout, applied.stderr
    connection = sqlite3.connect(path)
    triggers = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    connection.close()
    assert {"audit_entry_no_update", "audit_entry_no_delete"} <= triggers


def test_migrate_refuses_a_database_of_a_newer_release_in_vietnamese(tmp_path):
    path = tmp_path / "edge.db"
    assert motcua("edge", "migrate", "--data-dir", tmp_path, "--database", path).returncode == 0
    connection = sqlite3.connect(path)
    connection.execute("INSERT INTO schema_migrations VALUES (99, 'later', '')")
    connection.commit()
    connection.close()
    refused = motcua("edge", "migrate", "--data-dir", tmp_path, "--database", path)
    assert refused.returncode == 2 and "phiên bản mới hơn" in refused.stderr and "Traceback" not in refused.stderr


def test_the_box_app_starts_on_a_previous_release_database(settings):
    from edge.app import create_app
    from edge.tasks import create_huey

    Path(settings["database"]).parent.mkdir(parents=True, exist_ok=True)
    old_database("box", settings["database"])
    _, tasks = create_huey(settings)
    app = create_app(settings, tasks=tasks)
    try:
        assert app.test_client().get("/api/v1/health").status_code == 200
        assert app.test_client().get("/kiosk").status_code == 200
        assert version(settings["database"]) == LATEST
    finally:
        database.close()
