"""Writing verified entries into the typed tables (hub ingest and box pull alike).

Rows of box- and hub-owned tables have one writer at a time, whose entries arrive in its
order: the updates of a row fold into its insert (or into one update) of the same batch, then
inserts go first (in foreign-key order, one ``executemany`` per table: the hot path of a
backlog), then updates grouped by the fields they set.
Append-only rows are inserted once. Shared rows go field by field through last-writer-wins
(``sync.merge``); where ``history`` is kept (the hub) every concurrently overwritten value
is recorded as a conflict.
"""
from itertools import groupby

from peewee import PostgresqlDatabase, sort_models

from office.db import database

from .capture import applying_remote, replicated_models
from .merge import Write, wins
from .models import CatalogVersion, FieldClock
from .policy import APPEND, SHARED


CATALOG_TABLES = frozenset({"procedure", "search_synonym"})  # what the kiosk's search index is built from


class ApplyError(Exception):
    pass


def catalog_changed():
    """Move this node's catalog version, inside the transaction that wrote catalog rows."""
    (CatalogVersion.insert(id=1, version=1)
     .on_conflict(conflict_target=[CatalogVersion.id], update={CatalogVersion.version: CatalogVersion.version + 1})
     .execute())


def table_order():
    """Replicated tables, parents before children."""
    return [m._meta.table_name for m in sort_models(replicated_models().values())]


def apply_entries(entries, history=None):
    """Apply ``entries`` (verified, in order) inside the caller's transaction.

    ``history``: a ``sync.history.FieldHistory`` keeping every write of shared fields and the
    conflicts (the hub); None on a box.
    """
    models = replicated_models()
    inserts, updates, rest = {}, {}, []
    for entry in entries:
        model = models.get(entry["table"])
        if model is None:
            raise ApplyError(f"unknown table {entry['table']}")
        _check_columns(model, entry["data"])
        key = (entry["table"], entry["pk"])
        if model.replication == SHARED:
            rest.append(entry)
        elif entry["op"] == "insert":
            inserts.setdefault(entry["table"], {})[entry["pk"]] = entry
        elif entry["op"] == "update" and entry["pk"] in inserts.get(entry["table"], {}):
            # one writer, in order: an update of a row inserted in this batch joins the insert
            first = inserts[entry["table"]][entry["pk"]]
            inserts[entry["table"]][entry["pk"]] = {**first, "data": {**first["data"], **entry["data"]}}
        elif entry["op"] == "update" and key in updates:
            first = updates[key]
            updates[key] = {**first, "data": {**first["data"], **entry["data"]}}
        elif entry["op"] == "update":
            updates[key] = entry
        else:
            updates.pop(key, None)
            rest.append(entry)
    with applying_remote():
        for table in table_order():
            if table in inserts:
                _insert_many(models[table], list(inserts[table].values()))
        by_shape = {}
        for entry in updates.values():
            by_shape.setdefault((entry["table"], tuple(sorted(entry["data"]))), []).append(entry)
        for (table, _), run in by_shape.items():
            _update_many(models[table], run)
        for _, run in groupby(rest, key=lambda e: (e["table"], e["op"], tuple(sorted(e["data"])))):
            run = list(run)
            model = models[run[0]["table"]]
            if model.replication == SHARED:
                for entry in run:
                    _apply_shared(model, entry, history)
            elif run[0]["op"] == "delete":
                _delete_many(model, run)
    if not CATALOG_TABLES.isdisjoint(inserts.keys() | {table for table, _ in updates} | {e["table"] for e in rest}):
        catalog_changed()


def _check_columns(model, data):
    columns = model._meta.columns
    if "id" not in data and columns.keys() >= data.keys():  # the usual case, without a loop
        return
    unknown = [c for c in data if c not in columns or c == "id"]
    if unknown:
        raise ApplyError(f"{model._meta.table_name}: unknown columns {', '.join(unknown)}")


def _insert_many(model, entries):
    table = model._meta.table_name
    columns = ["id", "commune"] + [c for c in model._meta.columns if c not in ("id", "commune")]
    p = database.param
    q = '"{}"'.format
    sql = (f'INSERT INTO {q(table)} ({", ".join(map(q, columns))}) VALUES ({", ".join([p] * len(columns))}) ')
    if model.replication == APPEND:
        sql += "ON CONFLICT (id) DO NOTHING"
    else:
        sql += "ON CONFLICT (id) DO UPDATE SET " + ", ".join(f"{q(c)} = excluded.{q(c)}" for c in columns[1:])
    defaults = _defaults(model)  # a column the writer's release did not have (schema N-1) takes its default
    rest = [(c, defaults.get(c)) for c in columns[2:]]
    rows = [[e["pk"], e["scope"], *[data.get(c, default) for c, default in rest]]
            for e in entries for data in (e["data"],)]
    executemany(sql, rows)


def _defaults(model):
    """{column: stored default} of the model's fields with a constant default."""
    out = {}
    for column, field in model._meta.columns.items():
        if field.default is not None and not callable(field.default):
            out[column] = field.db_value(field.default)
    return out


def _update_many(model, run):
    table = model._meta.table_name
    columns = sorted(run[0]["data"])
    p = database.param
    sets = ", ".join(f'"{c}" = {p}' for c in columns)
    executemany(f'UPDATE "{table}" SET {sets} WHERE id = {p}',
                 [[e["data"][c] for c in columns] + [e["pk"]] for e in run])


def _delete_many(model, run):
    executemany(f'DELETE FROM "{model._meta.table_name}" WHERE id = {database.param}', [[e["pk"]] for e in run])


def executemany(sql, rows):
    """Run ``sql`` for every row in one go (prepared once; pages of rows on PostgreSQL)."""
    conn = database.connection()
    cursor = conn.cursor()
    try:
        if isinstance(database.obj, PostgresqlDatabase):
            _pg_many(cursor, sql, rows)
        else:
            cursor.executemany(sql, rows)
    finally:
        cursor.close()


def _pg_many(cursor, sql, rows, page=1000):
    """psycopg2's executemany is one round trip per row: send pages of rows instead."""
    from psycopg2.extras import execute_batch, execute_values

    head, values, tail = sql.partition(" VALUES (")
    if values and sql.startswith("INSERT"):
        tail = tail[tail.index(")") + 1:]
        execute_values(cursor, f"{head} VALUES %s{tail}", rows, page_size=page)
    else:
        execute_batch(cursor, sql, rows, page_size=page)


def _apply_shared(model, entry, history):
    """Per-field last-writer-wins; the row is created on its first write from anyone."""
    table, pk = model._meta.table_name, entry["pk"]
    base = entry["base"] or {}
    clocks = {c.field: c for c in FieldClock.select().where(FieldClock.table == table, FieldClock.pk == pk)}
    exists = model.select(model.id).where(model.id == pk).exists()
    winning = {}
    for field, value in entry["data"].items():
        incoming = Write(entry["hlc"], entry["origin"], int(base.get(field, 0)), value)
        if history is not None:
            if not history.take(table, pk, field, incoming, entry["scope"]):
                continue
        else:
            clock = clocks.get(field)
            if clock is not None and not wins(incoming, Write(clock.hlc, clock.node, 0)):
                continue
        winning[field] = value
        clock = clocks.get(field)
        if clock is None:
            FieldClock.insert(table=table, pk=pk, field=field, hlc=entry["hlc"], node=entry["origin"]).execute()
        else:
            FieldClock.update(hlc=entry["hlc"], node=entry["origin"]).where(FieldClock.id == clock.id).execute()
    if not winning and exists:
        return
    if not exists:
        _insert_many(model, [{**entry, "data": winning}])
    else:
        _update_many(model, [{**entry, "data": winning}])


def state_digest(scope, tables):
    """A hash of the rows of ``tables`` in ``scope``: equal on every node once converged."""
    from .encoding import canonical, digest

    models = replicated_models()
    out = []
    for table in sorted(tables):
        model = models[table]
        fields = [model._meta.columns[c] for c in sorted(model._meta.columns)]
        query = model.select(*fields).where(model.commune == scope).order_by(model.id).tuples()
        out.append([table, [[f.db_value(v) for f, v in zip(fields, row)] for row in query]])
    return digest(canonical(out))

