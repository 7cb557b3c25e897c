"""A box's side of replication: push its log, pull the hub's, restore from a snapshot.

The change log is the outbox and the truth: each exchange starts again from the seq the hub
last confirmed, so a killed task, a lost answer or a duplicated request loses nothing and
applies nothing twice.
"""
import gzip
import json
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from office.clock import utcnow
from office.db import database

from .apply import apply_entries, table_order
from . import capture
from .capture import applying_remote, observe, replicated_models, this_node
from .client import CLOCK_REFUSALS, HubBusy, HubClient, HubRefused, HubUnreachable, pinned_cert, refusal_reason
from .hlc import pack
from .keys import load_public_text, verify
from .models import ChangeEntry, FieldClock, SyncNode
from .protocol import MAX_PULL_RAW, RELAYED, BatchRejected, decode_batch, encode_batch_texts, entry_text

log = logging.getLogger("motcua.sync")

MAX_BACKOFF_S = 15 * 60


class SyncFailed(Exception):
    pass


def hub_url(settings, node=None):
    """The one hub this box talks to: the ``hub_url`` setting when given (config file,
    environment, command line: how a box is pointed elsewhere without touching its
    database), else the address stored in the box by ``edge init --hub-url`` or enrolment.
    The periodic sync, ``client_for``, the status API/page and the console all ask here."""
    return hub_url_with_source(settings, node)[0]


def hub_url_with_source(settings, node=None):
    """``(url, source)``: source is "setting", "box" or "" when there is no hub."""
    if (settings or {}).get("hub_url"):
        return settings["hub_url"], "setting"
    if node is None:  # asked on every ticket issued (its QR code): one plain statement
        row = database.execute_sql("SELECT hub_url FROM sync_node LIMIT 1").fetchone()
        stored = row[0] if row else ""  # no node before `edge init`: no hub either
    else:
        stored = node.hub_url
    return (stored, "box") if stored else ("", "")


def client_for(settings, key):
    node = this_node()
    url = hub_url(settings, node)
    if not url:
        raise SyncFailed("Chưa cấu hình địa chỉ trung tâm (hub_url).")
    return HubClient(url, key, node.node_id, timeout=settings.get("sync_timeout", 20.0),
                     verify=pinned_cert(settings.get("data_dir")), clock_offset_ms=node.hub_offset_ms)


def pending_count():
    node = this_node()
    return ChangeEntry.select().where(ChangeEntry.origin == node.node_id, ChangeEntry.seq > node.acked_seq).count()


def push(client, key, batch_size=2000, budget_s=60.0, sleep=time.sleep):
    """Send unconfirmed entries batch by batch; return how many the hub confirmed.

    The next batch is read and encoded while the hub takes in the one sent (one request in
    flight: the hub takes a box's batches in order), so box and hub work at the same time. The
    box confirms a batch only from the hub's answer, in order; after a failure the next run
    starts again from the first batch not confirmed (the one built ahead is dropped).

    A hub taking in other boxes' data answers 503 with Retry-After (``HubBusy``): the box
    waits that long (plus up to half again, so refused boxes spread out) and sends the batch
    again, newly stamped, while its budget lasts; after that ``HubBusy`` goes up to the caller."""
    started, confirmed, restamped = time.monotonic(), 0, False
    acked = this_node().acked_seq
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="motcua-push") as sender:
        batch = _outgoing(client, key, acked, batch_size)
        while batch is not None and time.monotonic() - started < budget_s:
            in_flight = sender.submit(client.push, batch.body, batch.signature)
            ahead = _outgoing(client, key, batch.last_seq, batch_size)  # while the hub takes in `batch`
            try:
                status, answer = in_flight.result()
            except HubBusy as exc:
                wait = exc.retry_after * random.uniform(1.0, 1.5)
                if time.monotonic() - started + wait >= budget_s:
                    raise
                sleep(wait)
                batch = _outgoing(client, key, acked, batch_size)
                continue
            if refusal_reason(answer) in CLOCK_REFUSALS and not restamped:
                _observe_hub(client)
                restamped = True  # the refusal taught us the hub's time: once more, restamped
                batch = _outgoing(client, key, acked, batch_size)
                continue
            if status != 200 and answer.get("reason") != "gap":
                _observe_hub(client)
                raise HubRefused(status, answer.get("error") or f"mã {status}")
            hub_acked = int(answer.get("acked_seq", acked))
            _acknowledge(client, hub_acked)
            confirmed += max(hub_acked - acked, 0)
            if status != 200 and hub_acked == acked:  # the hub wants what we no longer have
                raise SyncFailed(answer.get("error", "trung tâm yêu cầu gửi lại nhưng không tiến triển"))
            if status != 200 or hub_acked != batch.last_seq:  # the hub stands elsewhere: go on from there
                ahead = _outgoing(client, key, hub_acked, batch_size)
            acked, batch = hub_acked, ahead
    return confirmed


@dataclass
class _Outgoing:
    """A batch ready to send: its signed bytes and the seq of its last entry."""

    body: bytes
    signature: str
    last_seq: int


def _outgoing(client, key, after, limit):
    """The next batch of own entries after seq ``after``, stamped with the hub's estimated
    time; None when there is none. ``pending`` (the hub's estimate of the backlog) counts from
    ``after``: a box's seqs have no holes."""
    node = this_node()
    texts, last_seq = _unsent_texts(node.node_id, after, limit)
    if not texts:
        return None
    body, signature = encode_batch_texts(node.node_id, texts, key, node.clock, at_ms=client.hub_now_ms(),
                                         extra={"pending": node.last_seq - after, "sent_ms": capture.now_ms()})
    return _Outgoing(body, signature, last_seq)


def _unsent_texts(origin, after, limit):
    """(canonical JSON of each own entry after seq ``after``, the last one's seq), from the
    stored texts: the log keeps data and base as canonical JSON, so nothing is decoded."""
    p = database.param
    rows = database.execute_sql(
        f'SELECT seq, hlc, "table", pk, op, scope, data, base, prev, hash FROM change_entry'
        f" WHERE origin = {p} AND seq > {p} ORDER BY seq LIMIT {p}", (origin, after, limit)).fetchall()
    return [entry_text(*row) for row in rows], (rows[-1][0] if rows else after)


def _acknowledge(client, acked):
    """Record the hub's confirmation and its clock in one transaction (one commit a batch)."""
    with database.atomic():
        SyncNode.update(acked_seq=acked).execute()  # the one row: this node
        _observe_hub(client)


def _unsent(node, limit):
    """Own entries after ``node.acked_seq`` as decoded arrays (``FIELDS``), for tools and tests
    that change them before encoding; ``push`` sends the stored texts (``_unsent_texts``)."""
    query = (ChangeEntry.select().where(ChangeEntry.origin == node.node_id, ChangeEntry.seq > node.acked_seq)
             .order_by(ChangeEntry.seq).limit(limit).tuples())
    columns = [f.name for f in ChangeEntry._meta.sorted_fields]
    rows = []
    for values in query:
        e = dict(zip(columns, values))
        rows.append([e["seq"], e["hlc"], e["table"], e["pk"], e["op"], e["scope"], json.loads(e["data"]),
                     json.loads(e["base"]) if e["base"] else {}, e["prev"], e["hash"]])
    return rows


def pull(client, batch_size=2000, budget_s=60.0):
    """Apply the hub's new entries for this commune; return how many."""
    started, applied = time.monotonic(), 0
    hub_key = _hub_key(client)
    while time.monotonic() - started < budget_s:
        node = this_node()
        body, signature = client.pull(node.pull_cursor, batch_size)
        try:
            batch = decode_batch(body, signature, hub_key, fields=RELAYED, cap=MAX_PULL_RAW)
        except BatchRejected as exc:
            raise SyncFailed(f"Lô dữ liệu từ trung tâm bị từ chối: {exc.message}") from exc
        cursor = int(batch.extra.get("cursor", node.pull_cursor))
        with database.atomic():
            apply_entries(batch.entries)
            SyncNode.update(pull_cursor=cursor).where(SyncNode.id == node.id).execute()
        if batch.entries:
            observe(max(e["hlc"] for e in batch.entries))
        applied += len(batch.entries)
        _observe_hub(client)
        if len(batch.entries) < batch_size:
            break
    return applied


def _hub_key(client):
    node = this_node()
    if not node.hub_key:  # first contact without a pinned key (the USB bundle pins it)
        key_text = client.hub_info()["public_key"]
        SyncNode.update(hub_key=key_text).where(SyncNode.id == node.id).execute()
        log.warning("pinned the hub key on first contact: %s", key_text)
        return load_public_text(key_text)
    return load_public_text(node.hub_key)


def _observe_hub(client):
    if client.hub_time_ms:
        observe(pack(client.hub_time_ms, 0))
        offset = client.hub_time_ms - capture.now_ms()
        SyncNode.update(hub_offset_ms=offset).execute()


def sync_now(settings, key, client=None):
    """Push then pull once; record the outcome for the status page. Returns a summary dict."""
    client = client or client_for(settings, key)
    try:
        sent = push(client, key, settings.get("sync_batch_size", 2000))
        received = pull(client, settings.get("sync_batch_size", 2000))
    except (HubUnreachable, HubRefused, SyncFailed) as exc:
        message = getattr(exc, "message", None) or str(exc)
        # a busy hub asked for the next run, not for a longer backoff
        _record_failure(message, count=not isinstance(exc, HubBusy))
        return {"ok": False, "error": message, "pending": pending_count()}
    SyncNode.update(last_success_at=utcnow(), last_error="", failures=0).execute()
    return {"ok": True, "sent": sent, "received": received, "pending": pending_count()}


def say_hello(settings, key, client=None):
    """An idle box's sign of life: a signed hello every few minutes, so the hub's fleet page and
    silence alert see the box over lunch, at night and on weekends. Fails quietly (logged): the
    sync records and retries what matters."""
    if not hub_url(settings):
        return None
    try:
        client = client or client_for(settings, key)
        answer = client.hello(pending_count())
        _observe_hub(client)
        return answer
    except (HubUnreachable, HubRefused, SyncFailed) as exc:
        log.info("hello to the hub not answered: %s", getattr(exc, "message", None) or exc)
        return None


def _record_failure(message, count=True):
    node = this_node()
    failures = node.failures + 1 if count else node.failures
    SyncNode.update(last_error=message[:500], last_error_at=utcnow(), failures=failures).execute()
    log.warning("sync failed (%s in a row): %s", failures, message)


def due(now=None):
    """Whether the periodic sync should run now: exponential backoff with jitter after failures."""
    node = this_node()
    if not node.failures or node.last_error_at is None:
        return True
    delay = min(10 * 2 ** min(node.failures, 10), MAX_BACKOFF_S) * random.uniform(0.5, 1.0)
    return (now or utcnow()) >= node.last_error_at + timedelta(seconds=delay)


def status(settings=None, now=None):
    """What the technician and the status page see; ``hub_url`` is the hub the sync uses
    (see ``hub_url``), ``hub_url_source`` where that address comes from."""
    node = this_node()
    url, source = hub_url_with_source(settings, node)
    now = now or utcnow()
    oldest = (ChangeEntry.select(ChangeEntry.created_at)
              .where(ChangeEntry.origin == node.node_id, ChangeEntry.seq > node.acked_seq)
              .order_by(ChangeEntry.seq).first())
    return {
        "node_id": node.node_id,
        "commune": node.scope,
        "hub_url": url,
        "hub_url_source": source,
        "pending": pending_count(),
        "oldest_pending_age_s": int((now - oldest.created_at).total_seconds()) if oldest else 0,
        "acked_seq": node.acked_seq,
        "last_seq": node.last_seq,
        "pull_cursor": node.pull_cursor,
        "last_success_at": node.last_success_at.isoformat() + "Z" if node.last_success_at else None,
        "last_error": node.last_error,
        "last_error_at": node.last_error_at.isoformat() + "Z" if node.last_error_at else None,
        "failures": node.failures,
        "hub_offset_ms": node.hub_offset_ms,
    }


def restore(client):
    """Load this commune's state from the hub into an empty box (new or replacement box)."""
    return apply_snapshot(fetch_snapshot(client))


def fetch_snapshot(client):
    """The hub's snapshot of this box's commune, its signature checked (nothing written but
    the hub key pinned on first contact): fetched before the write lock is taken."""
    body, signature = client.snapshot()
    hub_key = _hub_key(client)
    if not verify(hub_key, body, signature):
        raise SyncFailed("Chữ ký của bản sao dữ liệu từ trung tâm không hợp lệ.")
    return json.loads(gzip.decompress(body))


def _id_stamp(value):
    """The clock stamp that starts a time-ordered row id; 0 for an id made otherwise (rows the
    hub seeds with readable ids, e.g. search synonyms)."""
    try:
        return int(str(value)[:16], 16)
    except ValueError:
        return 0


def apply_snapshot(doc):
    """Write a fetched snapshot into the empty box; returns the rows per table."""
    node = this_node()
    if doc["commune"] != node.scope:
        raise SyncFailed(f"Bản sao dữ liệu của xã {doc['commune']}, không phải {node.scope}.")
    models = replicated_models()
    if any(models[t].select().exists() for t in doc["tables"] if t in models):
        raise SyncFailed("Hộp đã có dữ liệu; chỉ khôi phục vào hộp mới.")
    counts, newest = {}, 0
    with database.atomic(), applying_remote():
        for table in table_order():
            block = doc["tables"].get(table)
            if not block or not block["rows"]:
                continue
            model = models[table]
            columns = block["columns"]
            bad = [c for c in columns if c not in model._meta.columns]
            if bad:
                raise SyncFailed(f"{table}: cột không biết {bad}")
            placeholders = ", ".join([database.param] * len(columns))
            cols = ", ".join(f'"{c}"' for c in columns)
            cursor = database.connection().cursor()
            cursor.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({placeholders})', block["rows"])
            cursor.close()
            counts[table] = len(block["rows"])
            newest = max([newest] + [_id_stamp(r[columns.index("id")]) for r in block["rows"]])
        for table, pk, field, hlc, origin in doc["clocks"]:
            FieldClock.create(table=table, pk=pk, field=field, hlc=hlc, node=origin)
            newest = max(newest, hlc)  # an edit may be newer than its row and the hub's time
        SyncNode.update(pull_cursor=doc["cursor"]).where(SyncNode.id == node.id).execute()
        head = doc.get("box_head")
        if head and node.last_seq == 0:  # this key wrote before (a rebuilt card): its log goes on from the hub's
            seq, last_hash = int(head["seq"]), str(head["hash"])
            SyncNode.update(last_seq=seq, last_hash=last_hash, acked_seq=seq, pruned_seq=seq,
                            pruned_hash=last_hash).where(SyncNode.id == node.id).execute()
    observe(max(newest, pack(doc["hub_time_ms"], 0)))
    return counts
