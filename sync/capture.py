"""Change capture: every write of a replicated model appends to the change log in the same
transaction, and no other write path exists.

``ReplicatedModel.save()`` and ``delete_instance()`` are the only ways to change a replicated
row; bulk queries (``update()``, ``insert_many()``, ``delete()``...) raise unless they run
inside ``capture.applying_remote()`` (the merge of entries received from others, which are
already in their origin's log).
"""
import contextvars
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

from peewee import CharField

from office.db import BaseModel, database, insert_row, serialize_log_writes
from office.group_commit import in_a_unit_of_its_own
from office.clock import utcnow

from .encoding import canonical, digest
from .hlc import COUNTER_BITS, COUNTER_MAX, HLC
from .merge import entry_texts
from .models import FieldClock, SyncNode
from .policy import BOX, GLOBAL_SCOPE, SHARED, may_write
from .text import check_row

_writing = contextvars.ContextVar("motcua_capture_writing", default=False)
_block = contextvars.ContextVar("motcua_capture_one_savepoint", default=None)  # the ``one_savepoint`` running


class CaptureError(RuntimeError):
    pass


@contextmanager
def _allow():
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


applying_remote = _allow  # the merge writes rows that are already in another node's log


@contextmanager
def one_savepoint():
    """A transaction (a savepoint inside one) for a unit of writes that fails or commits whole:
    the rows it saves write their log entries in it, without a savepoint each (SAVEPOINT and
    RELEASE: four of the 26 statements a ticket took). Only for code that catches no failed save
    inside the block: the failure must reach this savepoint, which then drops every row and log
    entry of the block together. In a function the group commit runs as a unit of its own
    (``office.group_commit.own_savepoint``) the unit itself is rolled back: no savepoint.

    The node's clock and the log's end are written once, at the block's end (``_Block``)."""
    outer = _block.get()
    if outer is not None:  # this one starts from what the enclosing block holds (and may roll back to it)
        outer.write()
    with nullcontext() if in_a_unit_of_its_own() else database.atomic():
        block = _Block()
        token = _block.set(block)
        try:
            yield
            block.write()
        finally:
            _block.reset(token)


class _Block:
    """The node as a ``one_savepoint`` block leaves it. Its first write ticks the stored clock and
    reads the log's end (``_tick``); the others tick in Python by the same rule (``HLC.tick``) and
    chain their entries here; the block's end writes clock and end once: a ticket's two rows took
    four statements on ``sync_node``, two now. A block that fails writes nothing."""

    def __init__(self):
        self.node, self.stamp = None, 0

    def tick(self):
        self.stamp = HLC(self.stamp).tick(now_ms())
        return self.node, self.stamp

    def write(self):
        if self.node is not None:
            p = database.param
            database.execute_sql(f"UPDATE sync_node SET clock = {p}, last_seq = {p}, last_hash = {p}",
                                 (self.stamp, self.node.last_seq, self.node.last_hash))
            self.node = None  # a later write reads the stored node again


def _guarded(name):
    def method(cls, *args, **kwargs):
        if not _writing.get():
            raise CaptureError(
                f"{cls.__name__}.{name}() would bypass the change log: use save() or delete_instance()"
            )
        return getattr(super(ReplicatedModel, cls), name)(*args, **kwargs)

    method.__name__ = name
    return classmethod(method)


def now_ms():
    return int(time.time() * 1000)


def make_id(stamp, node_id):
    """Time-ordered, globally unique row id: the HLC stamp, then the node."""
    return f"{stamp:016x}-{node_id[-12:]}"


class ReplicatedModel(BaseModel):
    """A table that replicates. ``commune`` is the row's scope: the box's commune, or "*"
    for rows every box receives (hub-authored only)."""

    id = CharField(primary_key=True, max_length=40)
    commune = CharField(index=True)
    replication = BOX

    class Meta:
        only_save_dirty = True

    for _name in ("update", "insert", "insert_many", "insert_from", "delete", "replace", "replace_many"):
        locals()[_name] = _guarded(_name)
    del _name

    def routed_to(self, scope):
        """Whether a box of commune ``scope`` may write this row of another commune (a dossier it
        decides for the commune that received it: phi địa giới). Rows are their commune's alone."""
        return False

    def save(self, force_insert=False, only=None):
        inserting = force_insert or self._pk is None
        fields = self._meta.sorted_fields if inserting else self.dirty_fields
        if not inserting and not fields:
            return 0
        values = {f.column_name: f.db_value(self.__data__.get(f.name)) for f in fields}
        check_row(type(self), values)  # before anything is written: text every database on the way stores alike
        with nullcontext() if _block.get() else database.atomic():  # the row and its entry, or neither
            node, stamp = _tick()
            if inserting and self._pk is None:
                self._pk = make_id(stamp, node.node_id)
            if node.scope != GLOBAL_SCOPE:
                if inserting and not (self.commune and self.commune != node.scope and self.routed_to(node.scope)):
                    self.commune = node.scope  # a box writes its own commune's rows only
                elif self.commune != node.scope and not self.routed_to(node.scope):
                    raise CaptureError(f"{type(self).__name__}: row of commune {self.commune} on box of {node.scope}")
            elif not self.commune:
                raise CaptureError(f"{type(self).__name__}: the hub must name the commune of a row ('*' for all)")
            for name in ("id", "commune"):  # the two values that may have been set just now
                if name in values:
                    values[name] = self._meta.columns[name].db_value(self.__data__.get(name))
            with _allow():
                rows = insert_row(self, values) if inserting else super().save(only=fields)
            data = {f.column_name: values[f.column_name] for f in fields if not f.primary_key}
            _record(node, stamp, self, "insert" if inserting else "update", data)
        return rows

    def save_changes(self, values):
        """Set the fields whose value differs, save, and return those: an unchanged field is
        neither written nor logged (nor stamped: it cannot win over a concurrent edit)."""
        changed = {k: v for k, v in values.items() if getattr(self, k) != v}
        for key, value in changed.items():
            setattr(self, key, value)
        if changed or self._pk is None:
            self.save()
        return changed

    def delete_instance(self, recursive=False, delete_nullable=False):
        if recursive:
            raise CaptureError("recursive deletes are not captured; delete the children first")
        # The database would cascade (or set null) into child rows without logging them.
        for query, fk in self.dependencies(search_nullable=True):
            if issubclass(fk.model, ReplicatedModel) and fk.model.select().where(query).exists():
                raise CaptureError(f"{type(self).__name__} {self._pk} still has {fk.model.__name__} rows: "
                                   "delete or change them first, so every change is logged")
        with database.atomic():
            node, stamp = _tick()
            with _allow():
                rows = super().delete_instance()
            _record(node, stamp, self, "delete", {})
        return rows


def replicated_models():
    """Every replicated model class, by table name (the merge's registry)."""
    found, todo = {}, list(ReplicatedModel.__subclasses__())
    while todo:
        cls = todo.pop()
        found[cls._meta.table_name] = cls
        todo.extend(cls.__subclasses__())
    return found


def this_node():
    node = SyncNode.select().first()
    if node is None:
        raise CaptureError("this node has no identity yet: run `motcua edge init` (or init_node())")
    return node


@dataclass
class _Node:
    node_id: str
    scope: str
    last_seq: int
    last_hash: str


def _tick():
    """Advance this node's persisted HLC by one local event, in the caller's transaction.

    One statement (the hot path of every replicated write): the same rule as ``HLC.tick``; none
    after the first in a ``one_savepoint`` block (``_Block``).
    """
    block = _block.get()
    if block is not None and block.node is not None:
        return block.tick()
    serialize_log_writes()
    p = database.param
    wall = now_ms()
    row = database.execute_sql(
        f"UPDATE sync_node SET clock = CASE"
        f" WHEN {p} > (clock >> {COUNTER_BITS}) THEN {p} << {COUNTER_BITS}"
        f" WHEN (clock & {COUNTER_MAX}) < {COUNTER_MAX} THEN clock + 1"
        f" ELSE ((clock >> {COUNTER_BITS}) + 1) << {COUNTER_BITS} END"
        f" RETURNING clock, node_id, scope, last_seq, last_hash",
        (wall, wall),
    ).fetchone()
    if row is None:
        raise CaptureError("this node has no identity yet: run `motcua edge init` (or init_node())")
    node, stamp = _Node(*row[1:]), row[0]
    if block is not None:  # the block's next writes tick and chain from here (``_Block``)
        block.node, block.stamp = node, stamp
    return node, stamp


def observe(remote_stamp):
    """Move this node's clock past a stamp seen elsewhere (the hub's time, received entries)."""
    with database.atomic():
        node = this_node()
        stamp = HLC(node.clock).observe(remote_stamp, now_ms())
        SyncNode.update(clock=stamp).where(SyncNode.id == node.id).execute()
    return stamp


def _record(node, stamp, row, op, data):
    model = type(row)
    table = model._meta.table_name
    reason = may_write(model.replication, node.scope == GLOBAL_SCOPE, op)
    if reason:
        raise CaptureError(f"{table}: {reason}")
    base = {}
    if model.replication == SHARED:
        base = _stamp_fields(table, str(row._pk), data, stamp, node, row.commune)
    seq, prev = node.last_seq + 1, node.last_hash
    entry = dict(origin=node.node_id, seq=seq, hlc=stamp, table=table, pk=str(row._pk), op=op,
                 scope=row.commune, data=data, base=base, prev=prev)
    entry_id, data_text, base_text = entry_texts(entry)  # the data encoded once, for the hash and the log
    p = database.param
    database.execute_sql(
        f'INSERT INTO change_entry (origin, seq, hlc, "table", pk, op, scope, data, base, prev, hash, created_at)'
        f" VALUES ({', '.join([p] * 12)})",
        (node.node_id, seq, stamp, table, entry["pk"], op, row.commune, data_text,
         base_text if base else "", prev, entry_id, str(utcnow())),
    )
    if _block.get() is not None:  # written at the block's end
        node.last_seq, node.last_hash = seq, entry_id
    else:
        database.execute_sql(f"UPDATE sync_node SET last_seq = {p}, last_hash = {p}", (seq, entry_id))


def _stamp_fields(table, pk, data, stamp, node, scope):
    """Record our stamp on each written field; return the stamps we overwrote (what we saw).

    At the hub, its own edits join the field history like everyone else's, so an edit of a
    value the hub had not yet received is kept as a conflict too.
    """
    from .history import FieldHistory
    from .merge import Write

    seen = {c.field: c for c in FieldClock.select().where(FieldClock.table == table, FieldClock.pk == pk)}
    base = {}
    for field, value in data.items():
        clock = seen.get(field)
        base[field] = clock.hlc if clock else 0
        if node.scope == GLOBAL_SCOPE:
            FieldHistory().take(table, pk, field, Write(stamp, node.node_id, base[field], value), scope)
        if clock:
            clock.hlc, clock.node = stamp, node.node_id
            clock.save()
        else:
            FieldClock.create(table=table, pk=pk, field=field, hlc=stamp, node=node.node_id)
    return base


def entry_hash(entry):
    """The hash chaining an entry to its predecessor; any changed field changes it."""
    return digest(canonical([entry["origin"], entry["seq"], entry["hlc"], entry["table"], entry["pk"],
                             entry["op"], entry["scope"], entry["data"], entry["base"], entry["prev"]]))


def init_node(node_id, scope, hub_url="", hub_key=""):
    """Give this database its node identity (idempotent for the same node)."""
    node = SyncNode.select().first()
    if node is not None:
        if node.node_id != node_id:
            raise CaptureError(f"this database already belongs to node {node.node_id}")
        return node
    return SyncNode.create(node_id=node_id, scope=scope, hub_url=hub_url, hub_key=hub_key, clock=0)

