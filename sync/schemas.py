"""What each schema of the replicated tables added, so that the hub sends a box of the release
before (schema N-1) only the tables and columns it knows: an unknown column or table would stop
that box's pulls ("unknown columns") until it is updated.

A box says its schema in the signed query of its pulls and snapshots; a box that says nothing is
of a release before this was asked, i.e. N-1. When a box is updated, the migration that adds a
column it was sent without makes it pull again (see office/migrations).
"""
from .protocol import SCHEMA

ALL = None  # the whole table is new
ADDED = {  # schema -> {table: new columns, or ALL}
    6: {"procedure": ("details",), "dossier": ("decided_by", "collect_at"), "search_synonym": ALL},
    7: {"attachment": ALL, "booking": ALL, "ticket": ("booking", "booked_for"), "report_category": ALL,
        "field_report": ALL},  # citizens online: files named by hash, bookings, field reports
}


def hidden_from(schema):
    """{table: set of columns, or ALL} that a box at ``schema`` does not know."""
    hidden = {}
    for version in range(max(schema, 0) + 1, SCHEMA + 1):
        for table, columns in ADDED.get(version, {}).items():
            if columns is ALL or hidden.get(table, ()) is ALL:
                hidden[table] = ALL
            else:
                hidden[table] = set(hidden.get(table, ())) | set(columns)
    return hidden


def strip_entry(row, hidden):
    """A pulled entry ([origin, seq, hlc, table, pk, op, scope, data, base, prev, hash]) as a box
    that does not know ``hidden`` can take it; None when nothing of it is left for that box."""
    table, op = row[3], row[5]
    if table not in hidden:
        return row
    columns = hidden[table]
    if columns is ALL:
        return None
    data = {k: v for k, v in row[7].items() if k not in columns}
    base = {k: v for k, v in row[8].items() if k not in columns}
    if op == "update" and not data:
        return None
    return [*row[:7], data, base, *row[9:]]


def strip_table(name, table, hidden):
    """A snapshot's table ({"columns", "rows"}) without what the box does not know; None to leave it out."""
    if name not in hidden:
        return table
    columns = hidden[name]
    if columns is ALL:
        return None
    keep = [i for i, c in enumerate(table["columns"]) if c not in columns]
    return {"columns": [table["columns"][i] for i in keep], "rows": [[row[i] for i in keep] for row in table["rows"]]}
