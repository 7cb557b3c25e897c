"""The hub takes in a box's batch: who sent it, is it whole, is it theirs to write, apply once."""
import io
import json
import logging

from peewee import PostgresqlDatabase

from office.clock import utcnow
from office.db import database, serialize_log_writes
from sync.apply import ApplyError, apply_entries, executemany
from sync.capture import now_ms, observe, replicated_models
from sync.encoding import canonical, canonical_text
from sync.keys import load_public_text
from sync.history import FieldHistory
from sync.merge import check_entry, verify_chain
from sync.models import ChangeEntry
from sync.protocol import BatchRejected, parse_batch, push_stamp, verify_body
from sync.text import column_limits, may_hold, printable, row_problems

from .models import Alert, BoxNode, HeldEntry, RefusalCount, Rejection
from .replay import STALE, check_stamp, remember_nonce

log = logging.getLogger("motcua.hub.ingest")

# A hub on SQLite checkpoints its WAL every this many pages (64 MB) rather than SQLite's 1,000
# (4 MB): a batch of 2,000 entries writes a few MB, so every commit would copy back the index
# pages the next batch touches again. Durability is the WAL's (synchronous = full) either way.
WAL_CHECKPOINT_PAGES = 16384


def ingest(origin, body, signature, future_bound_ms, hub_now_ms=None, window_ms=None):
    """Verify and apply one pushed batch; return the answer for the box.

    Raises ``BatchRejected`` when nothing may be applied: refusals that prove nothing (unknown
    box, bad signature, replay...) are counted per origin, the others recorded. Only a fresh
    request of the box itself learns where its log stands (``exc.acked_seq``).
    """
    hub_now_ms = hub_now_ms if hub_now_ms is not None else now_ms()
    box = _known_box(origin)
    try:
        verify_body(body, signature, load_public_text(box.public_key))
    except BatchRejected as exc:
        count_refusal(box.node_id, exc)
        raise
    try:
        batch = parse_batch(body)
        if batch.origin != box.node_id:
            raise BatchRejected("origin", "Lô dữ liệu ghi nguồn khác với hộp đã ký.", status=401)
        at_ms, nonce = push_stamp(batch)
        check_stamp(at_ms, nonce, window_ms, hub_now_ms)
    except BatchRejected as exc:
        if exc.reason in STALE:
            count_refusal(box.node_id, exc)
        else:
            _reject(box.node_id, exc)
        raise
    if not isinstance(database.obj, PostgresqlDatabase):
        database.execute_sql(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
    try:
        with database.atomic():  # the nonce is kept in the batch's transaction: one commit a batch
            serialize_log_writes()
            remember_nonce(box.node_id, nonce, window_ms, hub_now_ms)
            try:
                result = _apply(BoxNode.get_by_id(box.id), batch, future_bound_ms, hub_now_ms)
            except UnicodeError as exc:  # a lone surrogate: no box writes one (capture refuses it)
                raise BatchRejected("malformed", "Lô dữ liệu có ký tự Unicode hỏng.") from exc
    except BatchRejected as exc:  # the batch's transaction is rolled back; what follows is kept
        if exc.reason in STALE:  # a replay: nothing of it was written
            count_refusal(box.node_id, exc)
            raise
        _remember_refused(box.node_id, nonce, window_ms, hub_now_ms)
        if exc.reason == "fork":
            _quarantine(box, exc.message)
        _reject(box.node_id, exc)
        exc.acked_seq = BoxNode.get_by_id(box.id).acked_seq
        raise
    except Exception:
        _remember_refused(box.node_id, nonce, window_ms, hub_now_ms)
        raise
    return result


def _remember_refused(origin, nonce, window_ms, hub_now_ms):
    """Keep the nonce of a batch whose transaction was rolled back, so that a copy of it is refused
    as a replay, as before it was applied; a copy that got in first has kept it already."""
    try:
        with database.atomic():
            remember_nonce(origin, nonce, window_ms, hub_now_ms)
    except BatchRejected:
        pass
    except Exception:  # noqa: BLE001 (the database itself failing: the refusal that led here goes up)
        log.exception("nonce of a refused batch from %s not kept", origin)


def _known_box(origin):
    box = BoxNode.get_or_none(BoxNode.node_id == (origin or "")[:64])
    if box is None:
        exc = BatchRejected("unknown_box", "Hộp chưa được đăng ký với trung tâm.", status=401)
        count_refusal("?", exc, origin)
        raise exc
    if box.status == BoxNode.REVOKED:
        exc = BatchRejected("revoked", "Khoá của hộp này đã bị thu hồi.", status=403)
        count_refusal(origin, exc)
        raise exc
    if box.status == BoxNode.QUARANTINED:
        exc = BatchRejected("quarantined", "Hộp đang bị cách ly: hãy liên hệ quản trị trung tâm.", status=423)
        count_refusal(origin, exc)
        raise exc
    return box


def _apply(box, batch, future_bound_ms, hub_now_ms):
    entries = batch.entries
    acked_seq, last_hash = log_head(box.node_id)  # the log itself, not a copy that could lag
    verdict = verify_chain(entries, acked_seq, last_hash, lambda seq: _hash_at(box.node_id, seq))
    if verdict.fork is not None:
        raise BatchRejected("fork", verdict.message, status=409)
    if verdict.reason:
        raise BatchRejected(verdict.reason, verdict.message, status=409)
    if verdict.duplicates and not verdict.apply:
        # A routine resend (the box did not get the answer to its last push): acknowledged,
        # applied nothing, and not listed among the rejected batches: nothing is wrong.
        log.info("box %s sent %s entries again (resend after a lost answer)", box.node_id, verdict.duplicates)
    policies = {name: model.replication for name, model in replicated_models().items()}
    checked, refused = _text_checked(verdict.apply)
    scopes = _row_scopes(checked)
    routed = _routed(box.commune, checked, scopes)
    apply, held = [], []
    for entry in checked:
        problem = check_entry(entry, policies, box.commune, False, scopes.get((entry["table"], entry["pk"])),
                              hub_now_ms, future_bound_ms, routed=(entry["table"], entry["pk"]) in routed)
        if problem and problem[0] == "future":
            held.append((entry, problem[1]))
        elif problem:
            raise BatchRejected(problem[0], f"Mục số {entry['seq']}: {problem[1]}", status=403)
        else:
            apply.append(entry)
    try:
        apply, failed = _apply_or_hold(apply, verdict.texts)
        if apply:  # the hub's later edits must be stamped after what it holds (HLC receive rule)
            observe(max(e["hlc"] for e in apply))
    except ApplyError as exc:
        raise BatchRejected("invalid", f"Dữ liệu không hợp lệ: {exc}", status=400) from exc
    for entry, message in held:
        _hold(box, entry, message)
    if held:
        Alert.create(at=utcnow(), kind="future", origin=box.node_id,
                     message=f"{len(held)} mục có dấu thời gian ở tương lai bị giữ lại: đồng hồ của hộp sai.")
    unapplied = sorted(refused + failed, key=lambda pair: pair[0]["seq"])
    for entry, message in unapplied:
        _hold(box, entry, message)
        table, pk = printable(entry["table"], 40), printable(entry["pk"], 60)
        Alert.create(at=utcnow(), kind="held", origin=box.node_id, message=(
            f"Hộp {box.node_id}, bảng {table}, dòng {pk} (mục số {entry['seq']}): "
            f"không áp dụng được, giữ lại để xem xét: {message}")[:1000])
        log.error("entry %s/%s (%s %s) held: %s", box.node_id, entry["seq"], table, pk, message)
    held = held + unapplied
    if verdict.apply:
        acked_seq, last_hash = verdict.apply[-1]["seq"], verdict.apply[-1]["hash"]
    seen = {"acked_seq": acked_seq, "last_hash": last_hash, "last_seen_at": utcnow(),
            "pending_estimate": max(int(batch.extra.get("pending", 0)) - len(verdict.apply), 0)}
    if batch.extra.get("sent_ms"):
        seen["clock_offset_ms"] = int(batch.extra["sent_ms"]) - hub_now_ms
    BoxNode.update(**seen).where(BoxNode.id == box.id).execute()  # only these: status may change meanwhile
    return {"ok": True, "acked_seq": acked_seq, "applied": len(apply), "held": len(held),
            "duplicates": verdict.duplicates, "hub_time_ms": hub_now_ms,
            "notices": sum(1 for e in apply if e["table"] == "notice")}


def _text_checked(entries):
    """(entries to apply, [(entry, reason)] whose text no database on the way may store)."""
    models, good, bad = replicated_models(), [], []
    for entry in entries:
        model = models.get(entry["table"])
        values = {"id": entry["pk"], "commune": entry["scope"]}
        if isinstance(entry["data"], dict):
            values.update(entry["data"])
        problems = []
        if model is not None and not may_hold(column_limits(model), values):
            problems = row_problems(model, values)
        if problems:
            bad.append((entry, "Nội dung không hợp lệ: " + "; ".join(f"{printable(c, 40)} {p}" for c, p in problems)))
        else:
            good.append(entry)
    return good, bad


def _apply_or_hold(entries, texts=None):
    """Apply ``entries``; one the database refuses is held back, the others applied.

    (applied, [(entry, reason)]). All at once first (the hot path); when the database refuses,
    again one by one, each in its own savepoint, so one poisoned entry never stalls the rest
    of its box's stream. ``ApplyError`` (a malformed entry, found before writing) propagates.
    """
    if not entries:
        return [], []
    try:
        with database.atomic():
            _log_entries(entries, texts)
            apply_entries(entries, history=FieldHistory())
        return entries, []
    except ApplyError:
        raise
    except Exception:  # noqa: BLE001 (any refusal of the database: find which entry below)
        pass
    applied, failed = [], []
    for entry in entries:
        try:
            with database.atomic():
                _log_entries([entry], texts)
                apply_entries([entry], history=FieldHistory())
            applied.append(entry)
        except ApplyError:
            raise
        except Exception as exc:  # noqa: BLE001
            failed.append((entry, f"Cơ sở dữ liệu từ chối: {_short(exc)}"))
    return applied, failed


def _short(exc):
    return printable(f"{type(exc).__name__}: {' '.join(str(exc).split())}", 200)


def _hold(box, entry, message):
    HeldEntry.create(origin=box.node_id, seq=entry["seq"], reason=printable(message, 255),
                     entry=canonical(entry).decode(), held_at=utcnow())


def log_head(origin):
    """(seq, hash) of the last entry of ``origin`` the hub holds, applied or held."""
    applied = (ChangeEntry.select(ChangeEntry.seq, ChangeEntry.hash).where(ChangeEntry.origin == origin)
               .order_by(ChangeEntry.seq.desc()).first())
    held = HeldEntry.select(HeldEntry.seq, HeldEntry.entry).where(HeldEntry.origin == origin) \
        .order_by(HeldEntry.seq.desc()).first()
    head = (applied.seq, applied.hash) if applied else (0, "")
    if held and held.seq > head[0]:
        head = (held.seq, json.loads(held.entry)["hash"])
    return head


def _hash_at(origin, seq):
    entry = ChangeEntry.get_or_none(ChangeEntry.origin == origin, ChangeEntry.seq == seq)
    if entry is not None:
        return entry.hash
    held = HeldEntry.get_or_none(HeldEntry.origin == origin, HeldEntry.seq == seq)
    return json.loads(held.entry)["hash"] if held else None


ROUTING_FIELDS = {"commune", "decided_by", "collect_at"}  # the receiving commune's alone


def _routed(commune, entries, scopes):
    """{(table, pk)} of the entries that write, for another commune, a dossier routed to ``commune``
    (phi địa giới): updates of the dossier (never of who decides it) and new events of it."""
    from office.dossiers import Dossier

    wanted, claimed = {}, {}
    for entry in entries:
        if entry["scope"] == commune:
            continue
        key = (entry["table"], entry["pk"])
        if entry["table"] == "dossier" and entry["op"] == "update" and not ROUTING_FIELDS & set(entry["data"]):
            wanted[key], claimed[key] = entry["pk"], entry["scope"]
        elif entry["table"] == "dossier_event" and entry["op"] == "insert":
            wanted[key], claimed[key] = str(entry["data"].get("dossier") or ""), entry["scope"]
    if not wanted:
        return set()
    deciding = {pk: (decided_by, row_commune) for pk, decided_by, row_commune in
                Dossier.select(Dossier.id, Dossier.decided_by, Dossier.commune)
                .where(Dossier.id.in_(list(set(wanted.values())))).tuples()}
    allowed = set()
    for key, dossier in wanted.items():
        decided_by, row_commune = deciding.get(dossier, ("", None))
        if decided_by == commune and row_commune == claimed[key] and scopes.get(key, row_commune) == row_commune:
            allowed.add(key)
    return allowed


def _row_scopes(entries):
    """The stored commune of every row the entries touch (an "insert" of an existing id too:
    a forged id must not move another commune's row)."""
    models, wanted = replicated_models(), {}
    for entry in entries:
        wanted.setdefault(entry["table"], set()).add(entry["pk"])
    scopes = {}
    for table, pks in wanted.items():
        model = models.get(table)
        if model is None:
            continue
        if isinstance(database.obj, PostgresqlDatabase):
            sql = f'SELECT id, commune FROM "{table}" WHERE id = ANY(%s)'
            params = (list(pks),)
        else:  # one parameter, not one per id (and no query tree of thousands of nodes)
            sql = f'SELECT id, commune FROM "{table}" WHERE id IN (SELECT value FROM json_each(?))'
            params = (json.dumps(list(pks)),)
        for pk, commune in database.execute_sql(sql, params).fetchall():
            scopes[(table, pk)] = commune
    return scopes


def _log_entries(entries, texts=None):
    """Keep the applied entries in the hub's log: the boxes pull from it. ``texts``: seq -> (data,
    base) as canonical JSON, when already encoded (``verify_chain`` does)."""
    if not entries:
        return
    p = database.param
    sql = (f'INSERT INTO change_entry (origin, seq, hlc, "table", pk, op, scope, data, base, prev, hash, created_at)'
           f" VALUES ({', '.join([p] * 12)})")
    now = str(utcnow())
    texts = texts or {}
    rows = []
    for e in entries:
        data, base = texts.get(e["seq"]) or (canonical_text(e["data"]), canonical_text(e["base"]))
        rows.append((e["origin"], e["seq"], e["hlc"], e["table"], e["pk"], e["op"], e["scope"], data,
                     base if e["base"] else "", e["prev"], e["hash"], now))
    if isinstance(database.obj, PostgresqlDatabase):  # COPY: the log is append-only, no conflict to handle
        buf = io.StringIO()
        for r in rows:
            buf.write("\t".join(_copy_text(v) for v in r) + "\n")
        buf.seek(0)
        cursor = database.connection().cursor()
        try:
            cursor.copy_expert('COPY change_entry (origin, seq, hlc, "table", pk, op, scope, data, base, prev, hash, '
                               'created_at) FROM STDIN', buf)
        finally:
            cursor.close()
        return
    executemany(sql, rows)


def _copy_text(value):
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _quarantine(box, message):
    """Same seq, other content: a cloned SD card or forgery. Stop taking this box's data."""
    with database.atomic():
        BoxNode.update(status=BoxNode.QUARANTINED, status_reason=message).where(BoxNode.id == box.id).execute()
        Alert.create(at=utcnow(), kind="fork", origin=box.node_id, message=message)
    log.error("box %s quarantined: %s", box.node_id, message)


def _reject(origin, exc):
    """Record the refusal of a request the box itself signed (bounded by what the box sends)."""
    Rejection.create(at=utcnow(), origin=origin, reason=exc.reason, message=exc.message[:1000])
    log.warning("batch from %s rejected (%s): %s", origin, exc.reason, exc.message[:200])


def count_refusal(origin, exc, claimed=""):
    """Count a refusal that proves nothing about its sender: one row per (origin, reason)."""
    now = utcnow()
    origin, reason = (origin or "?")[:64], exc.reason[:32]
    message = (f"{claimed[:40]!r}: " if claimed else "") + exc.message
    message = message[:200]
    (RefusalCount.insert(origin=origin, reason=reason, count=1, first_at=now, last_at=now, last_message=message)
     .on_conflict(conflict_target=[RefusalCount.origin, RefusalCount.reason],
                  update={RefusalCount.count: RefusalCount.count + 1, RefusalCount.last_at: now,
                          RefusalCount.last_message: message})
     .execute())
    log.info("request from %s refused (%s)", origin, reason)
