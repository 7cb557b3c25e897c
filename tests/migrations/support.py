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
    """Tables with their columns, and indexes and triggers with their SQL (the stamp left out)."""
    connection = sqlite3.connect(path)
    rows = connection.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                              "AND name != 'schema_migrations' ORDER BY type, name").fetchall()
    tables = {name: [c[1:3] for c in connection.execute(f'PRAGMA table_info("{name}")')]
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
