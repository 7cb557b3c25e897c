"""What the hub sends down: the changes in a box's scope, and whole-commune snapshots."""
import gzip
import json

from sync.apply import table_order
from sync.capture import now_ms, replicated_models
from sync.encoding import canonical
from sync.keys import sign
from sync.models import ChangeEntry, FieldClock
from sync.policy import GLOBAL_SCOPE, HUB_NODE
from sync.protocol import PROTOCOL, SCHEMA, encode_batch

from .ingest import log_head
from .models import BoxNode


def pull_batch(key, box, cursor, limit):
    """(body, signature, new cursor, count): entries after ``cursor`` in the box's commune or
    for everyone, that did not come from this box, in the hub's order."""
    end = ChangeEntry.select(ChangeEntry.id).order_by(ChangeEntry.id.desc()).first()
    end = end.id if end else 0  # read first: entries committed meanwhile wait for the next pull
    query = (ChangeEntry.select()
             .where(ChangeEntry.id > cursor, ChangeEntry.id <= end, ChangeEntry.origin != box.node_id,
                    ChangeEntry.scope.in_([box.commune, GLOBAL_SCOPE]))
             .order_by(ChangeEntry.id).limit(limit))
    rows, new_cursor = [], cursor
    for entry in query:
        rows.append([entry.origin, entry.seq, entry.hlc, entry.table, entry.pk, entry.op, entry.scope,
                     json.loads(entry.data), json.loads(entry.base) if entry.base else {}, entry.prev, entry.hash])
        new_cursor = entry.id
    if len(rows) < limit:  # nothing more in scope up to ``end``: skip other communes' entries
        new_cursor = max(new_cursor, end)
    # one column: a save() of the whole row read before would put back the acked_seq and
    # last_hash of a push that committed meanwhile (same box, a retried or replayed request)
    BoxNode.update(pull_cursor=new_cursor).where(BoxNode.id == box.id).execute()
    box.pull_cursor = new_cursor
    body, signature = encode_batch(HUB_NODE, rows, key, now_ms(), extra={"cursor": new_cursor})
    return body, signature, new_cursor, len(rows)


def snapshot(key, box):
    """Every replicated row of the box's commune (and the rows for everyone), the field clocks
    of shared rows, and the log position they correspond to: what a new box starts from.
    ``box_head`` is the last entry of the asking box's own log the hub holds: a box rebuilt
    from the hub under the same key (a damaged card) goes on from there, not from seq 1."""
    models = replicated_models()
    tables = {}
    for table in table_order():
        model = models[table]
        fields = list(model._meta.sorted_fields)
        query = model.select(*fields).where(model.commune.in_([box.commune, GLOBAL_SCOPE])).order_by(model.id).tuples()
        tables[table] = {"columns": [f.column_name for f in fields],
                         "rows": [[f.db_value(v) for f, v in zip(fields, row)] for row in query]}
    shared_pks = {(t, r[0]) for t, d in tables.items() for r in d["rows"]}
    clocks = [[c.table, c.pk, c.field, c.hlc, c.node] for c in FieldClock.select()
              if (c.table, c.pk) in shared_pks]
    last = ChangeEntry.select(ChangeEntry.id).order_by(ChangeEntry.id.desc()).first()
    doc = {"protocol": PROTOCOL, "schema": SCHEMA, "commune": box.commune, "cursor": last.id if last else 0,
           "hub_time_ms": now_ms(), "tables": tables, "clocks": clocks}
    seq, last_hash = log_head(box.node_id)
    if seq:
        doc["box_head"] = {"seq": seq, "hash": last_hash}
    body = gzip.compress(canonical(doc), compresslevel=1)
    return body, sign(key, body)
