"""What the hub sends down: the changes in a box's scope, and whole-commune snapshots."""
import gzip
import heapq
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
    rows, new_cursor = [], cursor
    seen = 0
    for entry_id, *entry in pulled_entries(box, cursor, end, limit, schema):
        seen += 1
        entry[7], entry[8] = json.loads(entry[7]), json.loads(entry[8]) if entry[8] else {}  # data, base
        row = strip_entry(entry, hidden)
        if row is not None:
            rows.append(row)
        new_cursor = entry_id
    if seen < limit:  # nothing more in scope up to ``end``: skip other communes' entries
        new_cursor = max(new_cursor, end)
    # one column: a save() of the whole row read before would put back the acked_seq and
    # last_hash of a push that committed meanwhile (same box, a retried or replayed request)
    BoxNode.update(pull_cursor=new_cursor).where(BoxNode.id == box.id).execute()
    box.pull_cursor = new_cursor
    body, signature = encode_batch(HUB_NODE, rows, key, now_ms(), extra={"cursor": new_cursor})
    return body, signature, new_cursor, len(rows)


PULLED = (ChangeEntry.id, ChangeEntry.origin, ChangeEntry.seq, ChangeEntry.hlc, ChangeEntry.table, ChangeEntry.pk,
          ChangeEntry.op, ChangeEntry.scope, ChangeEntry.data, ChangeEntry.base, ChangeEntry.prev, ChangeEntry.hash)


def pulled_entries(box, cursor, end, limit, schema=SCHEMA):
    """The first ``limit`` entries with an id in (``cursor``, ``end``] that ``box`` receives, in id
    order, as lists (id, then ``RELAYED``): those of its commune and those for everyone, not from
    itself, and (from ``ROUTING_SCHEMA``) those of the dossiers it decides for other communes.

    Each part is read through the index on (scope, id) up to ``limit`` entries, and the parts
    merged: read by id alone, a pull went through every commune's entries after its cursor. A
    routed dossier's entries, its events' too, are in the scope of the commune that received it
    (an event takes its dossier's commune), so only those communes' entries are read for them."""
    def part(where):
        return [list(row) for row in ChangeEntry.select(*PULLED).where(
            where, ChangeEntry.id > cursor, ChangeEntry.id <= end, ChangeEntry.origin != box.node_id,
        ).order_by(ChangeEntry.id).limit(limit).tuples()]

    parts = [part(ChangeEntry.scope == box.commune), part(ChangeEntry.scope == GLOBAL_SCOPE)]
    if schema >= ROUTING_SCHEMA:
        routed = Dossier.select(Dossier.id).where(Dossier.decided_by == box.commune)
        receivers = [commune for (commune,) in Dossier.select(Dossier.commune).distinct().where(
            Dossier.decided_by == box.commune, Dossier.commune.not_in([box.commune, GLOBAL_SCOPE])).tuples()]
        if receivers:
            events = DossierEvent.select(DossierEvent.id).where(DossierEvent.dossier.in_(routed))
            parts.append(part(ChangeEntry.scope.in_(receivers) & (
                ((ChangeEntry.table == "dossier") & ChangeEntry.pk.in_(routed))
                | ((ChangeEntry.table == "dossier_event") & ChangeEntry.pk.in_(events)))))
    return list(heapq.merge(*parts))[:limit]  # the parts' scopes differ: no entry is in two


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
