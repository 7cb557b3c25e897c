"""What a box keeps about its provisioning, all inside its data dir.

- ``motcua.toml``: the box's configuration (commune, hub URL, technician password hash),
  read by ``load_settings("edge")`` under whatever the command line, environment or
  ``MOTCUA_CONFIG`` say;
- ``provision.json`` (0600): the bundles applied and where enrolment stands; the one-time
  token is kept only until the hub took it;
- ``network.json`` (0600): network settings from the bundle, for the system to apply;
- ``keys/hub.pub``: the hub key this box trusts (also pinned in the database). A box image
  made for one province may carry it already: then only that hub's bundles are accepted.
- ``keys/hub-cert.pem``: the hub's TLS certificate (or its CA) from the bundle; the box's
  requests to an ``https://`` hub trust this file only.
"""
import fcntl
import json
import os
import sqlite3
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from motcua.settings import BOX_CONFIG
from office.clock import utcnow
from office.errors import MotcuaError
from sync.hlc import wall_ms

STATE = "provision.json"
NETWORK = "network.json"
PIN = Path("keys") / "hub.pub"
CERT = Path("keys") / "hub-cert.pem"
LOCK = ".provision.lock"


@contextmanager
def locked(data_dir, wait=True):
    """One provisioning step at a time per box (the command and the worker); yields False
    when ``wait`` is off and another process holds the lock."""
    path = Path(data_dir) / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


@dataclass
class Local:
    """A read-only look at a box's data dir before anything is written."""

    commune: str = ""  # from the database's node, its office, the config or the provisioning state
    node_id: str = ""
    hub_key: str = ""  # pinned: database first, then keys/hub.pub
    clock_ms: int = 0  # the box's persisted clock (never goes back)
    own_entries: int = 0  # rows the box wrote itself (its change log)
    has_office: bool = False


def peek(settings):
    data_dir = Path(settings["data_dir"])
    local = Local()
    db = Path(settings["database"])
    if not settings["database"].startswith(("postgres", ":memory:")) and db.is_file():
        try:
            conn = sqlite3.connect(f"file:{quote(str(db.resolve()))}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise MotcuaError(f"Không đọc được cơ sở dữ liệu của hộp {db}: {exc}") from exc
        try:
            tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
            if "sync_node" in tables:
                row = conn.execute("select node_id, scope, hub_key, clock from sync_node limit 1").fetchone()
                if row:
                    local.node_id, local.commune, local.hub_key, clock = row
                    local.clock_ms = wall_ms(clock or 0)
                    if "change_entry" in tables:
                        local.own_entries = conn.execute("select count(*) from change_entry where origin = ?",
                                                         (local.node_id,)).fetchone()[0]
            if "office" in tables:
                office = conn.execute("select commune from office limit 1").fetchone()
                if office:
                    local.has_office = True
                    local.commune = local.commune or office[0]
        except sqlite3.Error as exc:
            raise MotcuaError(f"Không đọc được cơ sở dữ liệu của hộp {db}: {exc}") from exc
        finally:
            conn.close()
    local.commune = local.commune or read_config(data_dir).get("commune_code", "") or read_state(data_dir).get("commune", "")
    pin = data_dir / PIN
    if not local.hub_key and pin.is_file() and not pin.is_symlink():
        local.hub_key = pin.read_text().strip()
    return local


def box_now(local):
    """The box's best idea of now: its wall clock, or its persisted clock if that is later
    (a box without a real-time clock may boot in 1970)."""
    now = utcnow()
    if local.clock_ms:
        persisted = datetime.fromtimestamp(local.clock_ms / 1000, UTC).replace(tzinfo=None)
        now = max(now, persisted)
    return now


def _write_private(path, text):
    """Write ``text`` atomically into ``path`` (mode 0600), never through a symlink."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_state(data_dir):
    path = Path(data_dir) / STATE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text("utf-8"))
    except ValueError:
        return {}


def write_state(data_dir, state):
    _write_private(Path(data_dir) / STATE, json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True) + "\n")


def read_config(data_dir):
    path = Path(data_dir) / BOX_CONFIG
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    flat = {k: v for k, v in data.items() if not isinstance(v, dict)}
    flat.update(data.get("edge", {}))
    return flat


def config_text(data_dir, values):
    """The text of ``<data_dir>/motcua.toml`` with ``values`` merged in (other keys kept)."""
    merged = {k: v for k, v in read_config(data_dir).items() if k != "data_dir"}
    merged.update(values)
    lines = ["# Written by `motcua edge provision` from a bundle of the hub; read by every `motcua edge` command.",
             "# Command-line options, MOTCUA_* variables and MOTCUA_CONFIG override it."]
    for name in sorted(merged):
        lines.append(f"{name} = {_toml_value(merged[name])}")
    return "\n".join(lines) + "\n"


def write_config(data_dir, values):
    """Merge ``values`` into ``<data_dir>/motcua.toml`` (top-level keys; other keys kept)."""
    _write_private(Path(data_dir) / BOX_CONFIG, config_text(data_dir, values))


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a TOML basic string (\\uXXXX escapes included)


def write_files(data_dir, files):
    """Write several files of the data dir as one step: ``{relative path: text, (text, mode)
    or None (remove it)}``. Every new content goes to a temporary file first (0600 from its
    first byte, fsynced); only when all are written are they renamed into place, so a
    failure part-way leaves every file as it was."""
    data_dir = Path(data_dir)
    staged = []
    try:
        for name, content in files.items():
            path = data_dir / name
            if content is None:
                staged.append((None, path))
                continue
            text, mode = content if isinstance(content, tuple) else (content, 0o600)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            staged.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            if mode != 0o600:
                os.chmod(tmp, mode)  # a public file (the hub's key, its certificate): readable by all
    except BaseException:
        for tmp, _ in staged:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        raise
    for tmp, path in staged:
        if tmp is None:
            if path.is_file() or path.is_symlink():
                path.unlink()
        else:
            os.replace(tmp, path)  # replaces a symlink itself, never what it points to
