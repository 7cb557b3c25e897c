"""A damaged card: the box's database fails ``PRAGMA quick_check`` (or cannot be opened) at start.

``at_start(settings)`` runs in every box process before it opens the database (web, worker,
device service; one at a time, under a lock of the data dir). On a sound file it does nothing
but the check. On a damaged one it:

1. keeps the file aside, renamed ``<name>.damaged-<UTC time>`` (its ``-wal``/``-shm`` with it),
   never deleted;
2. reads what can still be read of it: the node row and the box's own change log, row by row,
   skipping what the damage made unreadable;
3. makes a new database under the same key (the box's identity lives in ``keys/``, not in the
   database) and loads the commune from the hub, the replacement box's path (``sync.box.restore``):
   the hub's snapshot names the last entry of this box's log it holds, and the new log goes
   on from there;
4. writes a report, ``<data_dir>/recovery/<time>.json``, and a readable ``.txt`` beside it:
   which of the box's entries the hub had not acknowledged, by kind and time (they are lost:
   the hub never had them), and how many could not even be read. The technician console shows
   the newest report; ``motcua edge`` prints it as it starts.

With the hub out of reach the new database holds the identity only, the provisioning state
says "restore" and the worker's ``enrol_pending`` loads the commune when the hub answers (and
completes the report). Personal data (names, ID numbers, phones) is never copied into a report:
only kinds, times, ticket numbers, actions and scores.
"""
import fcntl
import json
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from office.clock import utcnow
from sync.hlc import wall_ms

log = logging.getLogger("motcua.recovery")

REPORTS = "recovery"
LOCK = ".recovery.lock"
MAX_READ_ERRORS = 5000  # unreadable spots skipped while reading the damaged change log
SHOWN_DAYS = 30  # the console names a recovery this many days after it

KINDS = {
    "ticket": "Vé", "ticket_event": "Thao tác với vé", "rating": "Đánh giá", "counter": "Quầy",
    "counter_service": "Dịch vụ của quầy", "officer": "Tài khoản cán bộ", "service": "Dịch vụ",
    "office": "Thông tin cơ quan", "place": "Thông tin địa phương", "dossier": "Hồ sơ",
    "dossier_event": "Thao tác với hồ sơ", "agency": "Cơ quan", "notice": "Thông báo",
    "procedure": "Thủ tục", "holiday": "Ngày nghỉ",
}
OPS = {"insert": "thêm", "update": "sửa", "delete": "xoá"}
ACTIONS = {"issue": "cấp số", "call": "gọi số", "recall": "gọi lại", "serve": "bắt đầu phục vụ",
           "finish": "hoàn thành", "no_show": "vắng mặt", "transfer": "chuyển", "cancel": "huỷ"}
SCORES = {1: "Chưa hài lòng", 2: "Hài lòng", 3: "Rất hài lòng"}
SAFE_FIELDS = ("number", "code", "action", "score", "ticket_id")  # what a report may quote of an entry


@dataclass
class Salvage:
    """What could be read of a damaged database."""

    node: dict = field(default_factory=dict)  # node_id, scope, hub_url, hub_key, acked_seq, last_seq
    entries: list = field(default_factory=list)  # the box's own change-log entries, by seq
    read_errors: int = 0
    error: str = ""  # why nothing at all could be read


def database_file(settings):
    """The box's SQLite file, or None (PostgreSQL, in memory)."""
    url = settings["database"]
    if url.startswith(("postgresql://", "postgres://")) or url == ":memory:":
        return None
    return Path(url[len("sqlite:///"):] if url.startswith("sqlite:///") else url)


def check_file(path):
    """``(ok, problem)``: ``PRAGMA quick_check`` of the file in a connection of its own."""
    try:
        conn = _connect(path)
    except sqlite3.Error as exc:
        return False, f"không mở được tệp: {exc}"
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check")]
    except sqlite3.Error as exc:
        return False, f"không đọc được tệp: {exc}"
    finally:
        conn.close()
    if rows == ["ok"]:
        return True, ""
    return False, "; ".join(str(r) for r in rows[:5])


def _connect(path, immutable=False):
    """A read-only connection (the file is not changed by looking at it); a file that needs
    its write-ahead log recovered first is opened for writing, as the box would."""
    uri = Path(path).resolve().as_uri() + ("?immutable=1" if immutable else "?mode=ro")
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=15)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        if immutable or "unable to open" not in str(exc):
            raise
        return sqlite3.connect(str(path), timeout=15)


def at_start(settings, echo=None):
    """Check the box's database before a process opens it; rebuild it when damaged. Returns the
    report (a dict) when this call found damage, else None. ``echo`` prints a line for people."""
    path = database_file(settings)
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return None
    data_dir = Path(settings["data_dir"])
    data_dir.mkdir(parents=True, exist_ok=True)
    with _locked(data_dir):
        ok, problem = check_file(path)
        if ok:
            return None
        report = recover(settings, path, problem)
        for line in summary_lines(report):  # said before another process may start on the new file
            (echo or print)(line)
    return report


def _locked(data_dir):
    class Lock:
        def __enter__(self):
            self.fd = os.open(Path(data_dir) / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)

        def __exit__(self, *exc):
            os.close(self.fd)

    return Lock()


def recover(settings, path, problem, now=None):
    """Set the damaged file aside, read what it still holds, rebuild from the hub, report."""
    now = now or utcnow()
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    log.error("the box's database %s is damaged (%s): kept aside, rebuilding from the hub", path, problem)
    aside = set_aside(path, stamp)
    salvage = read_damaged(aside)
    report = {
        "detected_at": now.isoformat() + "Z", "problem": problem, "damaged_file": str(aside),
        "database": str(path), "status": "pending", "restored": {}, "error": "",
    }
    try:
        node_id, restored, error = rebuild(settings, salvage)
    except Exception as exc:  # noqa: BLE001 - the report must say it; the box still starts
        log.exception("rebuilding the box's database failed")
        node_id, restored, error = salvage.node.get("node_id", ""), None, str(exc)
    report.update(node_id=node_id, error=error, local_last_seq=salvage.node.get("last_seq"),
                  local_acked_seq=salvage.node.get("acked_seq"), read_errors=salvage.read_errors,
                  salvage_error=salvage.error, entries=[_listed(e) for e in salvage.entries])
    if restored is not None:
        report.update(status="restored", restored=restored)
    finish_report(report, _hub_acked(settings) if restored is not None else None, settings["timezone"])
    write_report(settings["data_dir"], stamp, report)
    return report


def set_aside(path, stamp):
    """Rename the database file (and its -wal, -shm) to ``<name>.damaged-<stamp>``; return the new path."""
    path = Path(path)
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    for suffix in ("-wal", "-shm"):  # the log first: the main file's name is what pairs them
        extra = Path(f"{path}{suffix}")
        if extra.exists():
            os.replace(extra, f"{aside}{suffix}")
    os.replace(path, aside)
    _sync_dir(path.parent)
    return aside


def _sync_dir(folder):
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_damaged(path):
    """The node row and the node's own change-log entries that can still be read.

    Read from a scratch copy of the file and its write-ahead log (the last transactions before
    a power cut may still be there, and reading them means replaying the log into the file):
    the file kept aside stays as it was found. Without room for a copy, the file alone is read."""
    scratch = Path(path).parent / f".{Path(path).name}.reading"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        scratch.mkdir()
        copy = scratch / "damaged.db"
        shutil.copyfile(path, copy)
        if Path(f"{path}-wal").is_file():
            shutil.copyfile(f"{path}-wal", f"{copy}-wal")
        return _read_salvage(lambda: sqlite3.connect(str(copy), timeout=15))
    except OSError as exc:
        log.warning("no room to copy the damaged database (%s): reading the file alone", exc)
        return _read_salvage(lambda: _connect(path, immutable=True))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _read_salvage(connect):
    salvage = Salvage()
    try:
        conn = connect()
    except sqlite3.Error as exc:
        salvage.error = str(exc)
        return salvage
    try:
        try:
            row = conn.execute("SELECT node_id, scope, hub_url, hub_key, acked_seq, last_seq FROM sync_node "
                               "LIMIT 1").fetchone()
            if row:
                salvage.node = dict(zip(("node_id", "scope", "hub_url", "hub_key", "acked_seq", "last_seq"), row))
        except sqlite3.Error as exc:
            salvage.error = f"sync_node: {exc}"
        rows, errors = _readable_rows(conn, 'SELECT rowid, origin, seq, hlc, "table", pk, op, data, created_at '
                                            "FROM change_entry WHERE rowid > ? ORDER BY rowid")
        salvage.read_errors = errors
        origin = salvage.node.get("node_id")
        entries = {}
        for _, row_origin, seq, hlc, table, pk, op, data, created_at in rows:
            if origin and row_origin != origin:
                continue
            try:
                values = json.loads(data) if data else {}
            except (TypeError, ValueError):
                values = {}
            entries[seq] = {"seq": seq, "hlc": hlc, "table": table, "pk": pk, "op": op, "data": values,
                            "created_at": str(created_at or "")}
        salvage.entries = [entries[s] for s in sorted(entries)]
    finally:
        conn.close()
    return salvage


def _readable_rows(conn, sql):
    """Rows of ``sql`` (which takes the last rowid read) past every spot that cannot be read:
    after an error the next read starts further on, a step that doubles while errors last."""
    rows, last, step, errors = [], 0, 1, 0
    while errors < MAX_READ_ERRORS:
        try:
            for row in conn.execute(sql, (last,)):
                rows.append(row)
                last, step = row[0], 1
            return rows, errors
        except sqlite3.Error as exc:
            if "no such table" in str(exc):
                return rows, errors
            errors += 1
            last += step
            step = min(step * 2, 1 << 20)
    return rows, errors


def rebuild(settings, salvage):
    """A new database under the box's key, loaded from the hub. Returns (node id, restored
    counts or None when the hub could not be reached, the reason)."""
    from office.db import bind, database, open_database
    from office.models import MODELS
    from provisioning.enrol import restore_from_hub
    from provisioning.identity import ensure_identity, ensure_key
    from provisioning.local import PIN, read_config, read_state, write_state
    from sync import box as sync_box
    from sync.client import HubRefused, HubUnreachable

    data_dir = Path(settings["data_dir"])
    config = read_config(data_dir)
    commune = settings.get("commune_code") or salvage.node.get("scope") or config.get("commune_code", "")
    hub_url = settings.get("hub_url") or salvage.node.get("hub_url") or config.get("hub_url", "")
    pin = data_dir / PIN
    hub_key = salvage.node.get("hub_key") or (pin.read_text().strip() if pin.is_file() else "")
    if not commune:
        raise RuntimeError("không biết hộp thuộc xã nào (không có commune_code)")
    key = ensure_key(data_dir)
    db = bind(open_database(settings["database"]), MODELS)
    try:
        node_id = ensure_identity(data_dir, commune, hub_url, hub_key)
        if salvage.node.get("node_id") and salvage.node["node_id"] != node_id:
            log.warning("the damaged database belonged to node %s, the key here is %s", salvage.node["node_id"], node_id)
        restored, error = None, ""
        if not hub_url:
            error = "chưa cấu hình địa chỉ trung tâm (hub_url)"
        else:
            try:
                restored = restore_from_hub({**settings, "hub_url": hub_url}, key)
                keep_numbers([_listed(e) for e in salvage.entries])
            except (HubUnreachable, HubRefused, sync_box.SyncFailed) as exc:
                error = getattr(exc, "message", None) or str(exc)
        if restored is None:  # the worker's enrol_pending restores it when the hub answers
            state = read_state(data_dir)
            state.update(status="restore", hub_url=hub_url, hub_urls=state.get("hub_urls") or [hub_url],
                         commune=commune, node_id=node_id, last_error=error[:500], recovery=True)
            write_state(data_dir, state)
            log.warning("restore from the hub pending: %s", error)
    finally:
        db.close()
        database.initialize(None)
    return node_id, restored, error


def keep_numbers(entries):
    """Ticket numbers handed out in entries the hub never had are not handed out again: the day's
    counter moves past them (a citizen may still hold that paper ticket)."""
    from office.db import database

    last = {}
    for e in entries:
        if e.get("numbering"):
            day, prefix, seq = e["numbering"]
            last[day, prefix] = max(last.get((day, prefix), 0), int(seq))
    with database.atomic():
        for (day, prefix), seq in last.items():
            database.execute_sql(
                "INSERT INTO ticket_sequence (day, prefix, last) VALUES (?, ?, ?) "
                "ON CONFLICT (day, prefix) DO UPDATE SET last = max(last, excluded.last)", (day, prefix, seq))


def _hub_acked(settings):
    """The last seq of this box's log the hub holds, read from the rebuilt database."""
    from office.db import database, open_database
    from sync.models import SyncNode

    db = open_database(settings["database"])
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
        return SyncNode.select().first().acked_seq
    finally:
        db.close()
        database.initialize(None)


def _listed(entry):
    """An entry as a report keeps it: no field but the safe ones."""
    data = entry.get("data") or {}
    listed = {"seq": entry["seq"], "hlc": entry["hlc"], "table": entry["table"], "op": entry["op"],
              "pk": entry["pk"], "safe": {k: data[k] for k in SAFE_FIELDS if k in data}}
    if entry["table"] == "ticket" and entry["op"] == "insert" and {"day", "prefix", "seq"} <= set(data):
        listed["numbering"] = [data["day"], data["prefix"], data["seq"]]
    return listed


def finish_report(report, hub_acked, tz):
    """Fill in what was lost, once the hub's acknowledged seq is known (None: not yet)."""
    report["hub_acked_seq"] = hub_acked
    floor = hub_acked if hub_acked is not None else (report.get("local_acked_seq") or 0)
    entries = [e for e in report["entries"] if e["seq"] > floor]
    numbers = {e["pk"]: e["safe"].get("number") for e in report["entries"] if e["table"] == "ticket"}
    report["lost"] = [_described(e, numbers, tz) for e in entries]
    last = report.get("local_last_seq")
    report["unreadable"] = max(last - floor - len(entries), 0) if isinstance(last, int) else None
    counts = {}
    for item in report["lost"]:
        counts[item["kind"]] = counts.get(item["kind"], 0) + 1
    report["lost_by_kind"] = counts
    return report


def _described(entry, numbers, tz):
    safe = entry["safe"]
    when = datetime.fromtimestamp(wall_ms(entry["hlc"]) / 1000, timezone.utc).astimezone(ZoneInfo(tz))
    what = []
    number = safe.get("number") or numbers.get(safe.get("ticket_id"))
    if number:
        what.append(f"vé {number}")
    if entry["table"] == "ticket_event" and entry["op"] == "insert":
        if safe.get("action"):
            what.append(ACTIONS.get(safe["action"], safe["action"]))
    if safe.get("code"):
        what.append(f"mã {safe['code']}")
    if safe.get("score") in SCORES:
        what.append(SCORES[safe["score"]])
    return {"seq": entry["seq"], "time": when.strftime("%H:%M:%S %d/%m/%Y"),
            "kind": KINDS.get(entry["table"], entry["table"]), "op": OPS.get(entry["op"], entry["op"]),
            "what": ", ".join(what)}


def write_report(data_dir, stamp, report):
    folder = Path(data_dir) / REPORTS
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stamp}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", "utf-8")
    (folder / f"{stamp}.txt").write_text("\n".join(summary_lines(report, full=True)) + "\n", "utf-8")


def latest_report(data_dir):
    """``(stamp, report)`` of the newest recovery, or (None, None)."""
    folder = Path(data_dir) / REPORTS
    names = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not names:
        return None, None
    try:
        return names[-1].stem, json.loads(names[-1].read_text("utf-8"))
    except (OSError, ValueError):
        return None, None


def complete_pending(data_dir, hub_acked, tz, restored):
    """The hub answered after all (the worker's restore, the database bound): finish the newest
    pending report."""
    stamp, report = latest_report(data_dir)
    if report is None or report.get("status") != "pending":
        return
    keep_numbers(report["entries"])
    report.update(status="restored", restored=restored, error="")
    finish_report(report, hub_acked, tz)
    write_report(data_dir, stamp, report)


def summary_lines(report, full=False):
    """The report in plain Vietnamese, for the terminal and the .txt file."""
    lines = [f"CƠ SỞ DỮ LIỆU CỦA HỘP BỊ HỎNG ({report['problem']}).",
             f"Tệp hỏng được giữ lại tại {report['damaged_file']} (không bị xoá)."]
    if report["status"] == "restored":
        total = sum(report["restored"].values())
        lines.append(f"Đã dựng lại cơ sở dữ liệu từ trung tâm: {total} dòng dữ liệu của xã.")
    else:
        lines.append("Chưa tải được dữ liệu từ trung tâm"
                     + (f" ({report['error']})" if report.get("error") else "")
                     + ": hộp sẽ tự tải khi kết nối được trung tâm.")
    lost, unreadable = report.get("lost") or [], report.get("unreadable")
    if report["status"] == "restored":
        if lost or unreadable:
            lines.append(f"Không khôi phục được {len(lost) + (unreadable or 0)} mục trung tâm chưa nhận: "
                         + ", ".join(f"{k} {n}" for k, n in report["lost_by_kind"].items())
                         + (f"; {unreadable} mục không đọc được" if unreadable else "") + ".")
        else:
            lines.append("Không mất mục nào: trung tâm đã nhận mọi thay đổi của hộp.")
    elif lost:
        lines.append(f"{len(lost)} mục trung tâm có thể chưa nhận (xác định khi tải xong).")
    shown = lost if full else lost[:10]
    for item in shown:
        lines.append(f"  - {item['time']}  {item['kind']} ({item['op']}){': ' + item['what'] if item['what'] else ''}")
    if len(shown) < len(lost):
        lines.append(f"  ... và {len(lost) - len(shown)} mục khác (xem tệp báo cáo trong thư mục {REPORTS}/).")
    return lines
