"""What the hub sends down: the changes in a box's scope, and whole-commune snapshots."""
import gzip
import json

from peewee import SQL

from office.dossiers import Dossier, DossierEvent
from sync.apply import table_order
from sync.capture import now_ms, replicated_models
from sync.encoding import canonical
from sync.keys import sign
from sync.models import ChangeEntry, FieldClock
from sync.policy import GLOBAL_SCOPE, HUB_NODE
from sync.protocol import PROTOCOL, SCHEMA, encode_batch
from sync.schemas import hidden_from, strip_entry, strip_table

from .ingest import log_head
from .models import BoxNode

ROUTING_SCHEMA = 6  # boxes from this schema on decide dossiers other communes received (phi địa giới)


def _routed_rows(model, box):
    """The condition for the rows of another commune that ``box`` decides (phi địa giới)."""
    routed = Dossier.select(Dossier.id).where(Dossier.decided_by == box.commune)
    if model is Dossier:
        return Dossier.decided_by == box.commune
    if model is DossierEvent:
        return DossierEvent.dossier.in_(routed)
    return SQL("1 = 0")


def pull_batch(key, box, cursor, limit, schema=SCHEMA):
    """(body, signature, new cursor, count): entries after ``cursor`` in the box's commune or
    for everyone, that did not come from this box, in the hub's order, as a box at ``schema`` knows them."""
    hidden = hidden_from(schema)
    end = ChangeEntry.select(ChangeEntry.id).order_by(ChangeEntry.id.desc()).first()
    end = end.id if end else 0  # read first: entries committed meanwhile wait for the next pull
    in_scope = ChangeEntry.scope.in_([box.commune, GLOBAL_SCOPE])
    if schema >= ROUTING_SCHEMA:  # dossiers another commune received for this one to decide
        routed = Dossier.select(Dossier.id).where(Dossier.decided_by == box.commune)
        events = DossierEvent.select(DossierEvent.id).where(DossierEvent.dossier.in_(routed))
        in_scope = in_scope | ((ChangeEntry.table == "dossier") & ChangeEntry.pk.in_(routed)) | (
            (ChangeEntry.table == "dossier_event") & ChangeEntry.pk.in_(events))
    query = (ChangeEntry.select()
             .where(ChangeEntry.id > cursor, ChangeEntry.id <= end, ChangeEntry.origin != box.node_id, in_scope)
             .order_by(ChangeEntry.id).limit(limit))
    rows, new_cursor = [], cursor
    seen = 0
    for entry in query:
        seen += 1
        row = strip_entry([entry.origin, entry.seq, entry.hlc, entry.table, entry.pk, entry.op, entry.scope,
                           json.loads(entry.data), json.loads(entry.base) if entry.base else {}, entry.prev,
                           entry.hash], hidden)
        if row is not None:
            rows.append(row)
        new_cursor = entry.id
    if seen < limit:  # nothing more in scope up to ``end``: skip other communes' entries
        new_cursor = max(new_cursor, end)
    # one column: a save() of the whole row read before would put back the acked_seq and
    # last_hash of a push that committed meanwhile (same box, a retried or replayed request)
    BoxNode.update(pull_cursor=new_cursor).where(BoxNode.id == box.id).execute()
    box.pull_cursor = new_cursor
    body, signature = encode_batch(HUB_NODE, rows, key, now_ms(), extra={"cursor": new_cursor})
    return body, signature, new_cursor, len(rows)


def snapshot(key, box, schema=SCHEMA):
    """Every replicated row of the box's commune (and the rows for everyone), the field clocks
    of shared rows, and the log position they correspond to: what a new box starts from.
    ``box_head`` is the last entry of the asking box's own log the hub holds: a box rebuilt
    from the hub under the same key (a damaged card) goes on from there, not from seq 1."""
    models = replicated_models()
    hidden = hidden_from(schema)
    tables = {}
    for table in table_order():
        model = models[table]
        fields = list(model._meta.sorted_fields)
        routed = _routed_rows(model, box) if schema >= ROUTING_SCHEMA else SQL("1 = 0")
        query = model.select(*fields).where(model.commune.in_([box.commune, GLOBAL_SCOPE]) | routed)
        query = query.order_by(model.id).tuples()
        shown = strip_table(table, {"columns": [f.column_name for f in fields],
                                    "rows": [[f.db_value(v) for f, v in zip(fields, row)] for row in query]}, hidden)
        if shown is not None:
            tables[table] = shown
    shared_pks = {(t, r[0]) for t, d in tables.items() for r in d["rows"]}
    clocks = [[c.table, c.pk, c.field, c.hlc, c.node] for c in FieldClock.select()
              if (c.table, c.pk) in shared_pks]
    last = ChangeEntry.select(ChangeEntry.id).order_by(ChangeEntry.id.desc()).first()
    doc = {"protocol": PROTOCOL, "schema": min(schema, SCHEMA), "commune": box.commune, "cursor": last.id if last else 0,
           "hub_time_ms": now_ms(), "tables": tables, "clocks": clocks}
    seq, last_hash = log_head(box.node_id)
    if seq:
        doc["box_head"] = {"seq": seq, "hash": last_hash}
    body = gzip.compress(canonical(doc), compresslevel=1)
    return body, sign(key, body)
