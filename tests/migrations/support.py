"""Databases of the previous release (commit d84f961), loaded from the SQL dumps in ``fixtures/``."""
import json
import sqlite3
from pathlib import Path

from sync.merge import verify_chain
from sync.models import ChangeEntry

FIXTURES = Path(__file__).parent / "fixtures"


def old_database(kind, path):
    """A SQLite file holding the previous release's ``kind`` ("box" or "hub") database."""
    connection = sqlite3.connect(path)
    connection.executescript((FIXTURES / f"{kind}-d84f961.sql").read_text(encoding="utf-8"))
    connection.close()
    return str(path)


def sqlite_schema(path):
    """Tables with their columns (name, type, NOT NULL), indexes and triggers with their SQL;
    the migrations record left out."""
    connection = sqlite3.connect(path)
    rows = connection.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                              "AND name != 'schema_migrations' ORDER BY type, name").fetchall()
    tables = {name: [c[1:4] for c in connection.execute(f'PRAGMA table_info("{name}")')]
              for kind, name, _ in rows if kind == "table"}
    others = {(kind, name, sql) for kind, name, sql in rows if kind != "table"}
    connection.close()
    return tables, others


def counts(db, tables):
    return {table: db.execute_sql(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}


def chain_verdict(origin):
    """The change log of ``origin`` checked from its first entry as a receiver would."""
    columns = [f.name for f in ChangeEntry._meta.sorted_fields]
    entries = []
    for values in ChangeEntry.select().where(ChangeEntry.origin == origin).order_by(ChangeEntry.seq).tuples():
        entry = dict(zip(columns, values))
        entry["data"] = json.loads(entry["data"])
        entry["base"] = json.loads(entry["base"]) if entry["base"] else {}
        entries.append(entry)
    return verify_chain(entries, 0, "", lambda seq: None), len(entries)


def hub_settings(tmp_path, database_url):
    from motcua.settings import load_settings

    return load_settings("hub", environ={}, overrides={"data_dir": str(tmp_path / "hub"), "database": database_url,
                                                       "operator_password": "first-operator"})


# The previous release's hub schema is today's less what migration 1 adds (the two releases'
# schemas were compared table by table, column by column, index by index when it was written).
RELEASE_1_ADDED_TABLES = ("web_session", "hit", "account", "api_token", "audit_entry", "sign_in_throttle",
                          "contact_account", "request_nonce", "refusal_count")


def old_postgres_hub(url, tmp_path):
    """A PostgreSQL schema holding the previous release's hub with the SQLite fixture's rows."""
    from peewee import AutoField, sort_models

    from central.app import HUB_MODELS
    from office.db import bind, database, open_database
    from sync.capture import applying_remote

    db = bind(open_database(url), HUB_MODELS)
    for table in RELEASE_1_ADDED_TABLES:
        db.execute_sql(f'DROP TABLE "{table}" CASCADE')
    db.execute_sql("ALTER TABLE dossier DROP COLUMN tracking_secret")
    db.execute_sql("DROP TABLE schema_migrations")
    source = sqlite3.connect(old_database("hub", tmp_path / "old-hub.db"))
    with db.atomic(), applying_remote():
        present = {name for (name,) in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for model in sort_models([model for model in HUB_MODELS if model._meta.table_name in present]):
            table = model._meta.table_name
            cursor = source.execute(f'SELECT * FROM "{table}"')
            names = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
            if rows:
                model.insert_many(rows, fields=[model._meta.columns[name] for name in names]).execute()
            if isinstance(model._meta.primary_key, AutoField):
                db.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                               f'coalesce(max(id), 0) + 1, false) FROM "{table}"')
    source.close()
    database.close()
