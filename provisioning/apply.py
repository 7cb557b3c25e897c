"""The box's side of provisioning: check a bundle, then become the commune's box.

Which bundles a box takes: a blank box (no office, no rows of its own) trusts the hub key
the first bundle names and pins it; a box that holds office data takes only bundles signed
by the hub key it has pinned, and none at all while it has no pinned key (anyone can sign a
bundle; a stick plugged into a box in service must not rewrite its hub, password or key).

Nothing is written before the bundle passed every check (signature, expiry, commune, the
rows it carries), and only inside the data dir. The order after that: the box's own key
(made here, 0600) -> enrolment at the hub (when it answers: a refusal stops here, the box
stays unprovisioned) -> node identity and the commune's first data in one transaction ->
configuration, network, pinned hub key and certificate, each written to a temporary file
first and renamed into place together -> the commune's data restored from the hub when it
holds some (a replacement box) -> the provisioning state, last. A hub out of reach does
not stop the box: it serves, and ``enrol_pending`` finishes later.
"""
import json
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from motcua.settings import BOX_CONFIG
from office.clock import utcnow
from office.communes import find_commune
from office.errors import MotcuaError

from .bundle import SUFFIX, BundleRefused, format_time, read_bundle
from .enrol import HubPending, after_enrolment, enrol_with, restore_from_hub
from .local import (
    CERT,
    NETWORK,
    PIN,
    box_now,
    config_text,
    locked,
    peek,
    read_state,
    write_files,
    write_state,
)

log = logging.getLogger("motcua.provisioning")

SCAN_DEPTH = 3  # /media/<user>/<label>/bundle.motcua


@dataclass
class Outcome:
    bundle: object
    node_id: str = ""
    already: bool = False  # this bundle was applied to this box before (the stick plugged in again)
    enrolled: bool = False
    hub_url: str = ""
    pending: str = ""  # why enrolment waits (hub out of reach)
    restored: dict = field(default_factory=dict)
    restore_pending: str = ""
    seeded: bool = False
    replaced: list = field(default_factory=list)
    snapshot_rows: int = 0


def seed_standard(commune):
    """The office with the usual services and counters; no officer accounts (no known password
    on a real box: officers are added by the commune)."""
    from office.db import database
    from office.models import Counter, CounterService, Service
    from office.seed import DEMO_COUNTERS, DEMO_SERVICES, ensure_office

    with database.atomic():
        ensure_office(commune)
        services = {}
        for order, (code, name, prefix) in enumerate(DEMO_SERVICES):
            services[code], _ = Service.get_or_create(code=code, defaults={"name": name, "prefix": prefix,
                                                                           "sort_order": order})
        for number, codes in DEMO_COUNTERS.items():
            counter, created = Counter.get_or_create(number=number)
            if created:
                for code in codes:
                    CounterService.create(counter=counter, service=services[code])


def check_snapshot(snapshot, commune):
    """The bundle's rows of hub-owned tables as ``[(table, columns, rows)]``, checked before
    anything is written: any other table, column, row shape or commune is refused."""
    import office.models  # noqa: F401  (every replicated model known, whatever this process imported so far)
    from sync.capture import replicated_models
    from sync.policy import GLOBAL_SCOPE, HUB

    if not snapshot:
        return []
    models, checked = replicated_models(), []
    tables = snapshot.get("tables")
    if not isinstance(tables, dict):
        raise BundleRefused("corrupt", "Dữ liệu kèm gói không đúng định dạng.")
    for table, block in tables.items():
        model = models.get(table)
        if model is None or model.replication != HUB:
            raise BundleRefused("corrupt", f"Dữ liệu kèm gói có bảng “{table}” không do trung tâm quản lý.")
        columns = block.get("columns") if isinstance(block, dict) else None
        if (not isinstance(columns, list) or not {"id", "commune"} <= set(columns)
                or any(c not in model._meta.columns for c in columns)):
            raise BundleRefused("corrupt", f"Dữ liệu kèm gói: cột không hợp lệ trong bảng “{table}”.")
        rows = block.get("rows") or []
        where = columns.index("commune")
        if not isinstance(rows, list) or any(not isinstance(r, list) or len(r) != len(columns)
                                             or r[where] not in (commune, GLOBAL_SCOPE) for r in rows):
            raise BundleRefused("corrupt", f"Dữ liệu kèm gói: dòng của xã khác trong bảng “{table}”.")
        checked.append((table, columns, rows))
    return checked


def load_snapshot(checked):
    """Insert the rows ``check_snapshot`` passed (kept as they are at the hub; the first pull
    brings them again); returns how many."""
    from office.db import database
    from sync.apply import executemany
    from sync.capture import applying_remote

    count = 0
    with database.atomic(), applying_remote():
        for table, columns, rows in checked:
            if rows:
                p = database.param
                names = ", ".join(f'"{c}"' for c in columns)
                executemany(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join([p] * len(columns))}) '
                            "ON CONFLICT (id) DO NOTHING", rows)
                count += len(rows)
    return count


def trusted_key(local):
    """The hub key a bundle must be signed by on this box: its pinned key; "" on a blank box
    (the first bundle's key is trusted, then pinned). A box holding office data without a
    pinned key takes no bundle."""
    if local.hub_key:
        return local.hub_key
    if local.has_office or local.own_entries:
        raise BundleRefused("unpinned", "Hộp này đang có dữ liệu của xã nhưng chưa ghim khoá của trung tâm, nên không "
                            "nhận gói cài đặt nào từ USB (ai cũng có thể tự ký một gói). Bị từ chối. Muốn cài lại hộp "
                            "từ trung tâm: chép khoá công khai của trung tâm (lệnh motcua hub key) vào tệp "
                            "keys/hub.pub trong thư mục dữ liệu của hộp rồi cắm lại USB.", status=403)
    return ""


def provision(settings, path):
    """Set this box up from the bundle at ``path``; return an ``Outcome``. Raises ``BundleRefused``."""
    data_dir = Path(settings["data_dir"])
    local = peek(settings)
    bundle = read_bundle(path, pinned_key=trusted_key(local), now=box_now(local))
    state = read_state(data_dir)
    if bundle.bundle_id in state.get("bundles", []):
        return Outcome(bundle, node_id=local.node_id, already=True, hub_url=state.get("hub_url", ""),
                       enrolled=state.get("status") == "done")
    if local.commune and local.commune != bundle.commune:
        mine = find_commune(local.commune)
        raise BundleRefused("other_commune", f"Hộp này đã được cài cho {mine.full_name if mine else local.commune} "
                            f"(mã {local.commune}); gói này dành cho {bundle.commune_label} (mã {bundle.commune}). "
                            "Bị từ chối: muốn chuyển hộp sang xã khác, hãy cài lại hộp từ đầu.")
    rows = check_snapshot(bundle.snapshot, bundle.commune)
    data_dir.mkdir(parents=True, exist_ok=True)
    with locked(data_dir):
        return _provision(settings, data_dir, bundle, local, rows)


def _provision(settings, data_dir, bundle, local, rows):
    from office.db import bind, open_database
    from office.models import MODELS, Office
    from provisioning.identity import ensure_identity, ensure_key
    from sync.box import SyncFailed
    from sync.client import HubRefused, HubUnreachable
    from sync.models import SyncNode

    state = read_state(data_dir)  # again, under the lock: the worker may have moved it on
    commune = find_commune(bundle.commune)
    key = ensure_key(data_dir)
    fresh = local.own_entries == 0
    outcome = Outcome(bundle)
    try:
        with bundle_cert(data_dir, bundle.hub_cert) as verify:
            url, answer = enrol_with(bundle.hub_urls, key, bundle.box["enrol_token"], bundle.bundle_id,
                                     bundle.commune, fresh, settings.get("sync_timeout", 20.0), verify=verify)
        outcome.enrolled, outcome.replaced = True, answer.get("replaced", [])
    except HubPending as exc:
        url, answer, outcome.pending = bundle.hub_urls[0], None, str(exc)
    outcome.hub_url = url
    files = {
        BOX_CONFIG: config_text(data_dir, {"commune_code": bundle.commune, "hub_url": url,
                                           "technician_password_hash": bundle.box.get("technician_password_hash", "")}),
        str(PIN): (bundle.hub_key.strip() + "\n", 0o644),
        str(CERT): (bundle.hub_cert, 0o644) if bundle.hub_cert else None,  # none in the bundle: none pinned
    }
    if bundle.box.get("network"):
        files[NETWORK] = json.dumps(bundle.box["network"], ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    box_settings = {**settings, "commune_code": bundle.commune, "hub_url": url}
    db = bind(open_database(settings["database"]), MODELS)
    try:
        with db.atomic():
            outcome.node_id = ensure_identity(data_dir, bundle.commune, url, bundle.hub_key)
            SyncNode.update(hub_url=url, hub_key=bundle.hub_key).execute()
            has_office = Office.select().exists()
            if answer is not None:
                after_enrolment(answer, url)
                restore_needed = bool(answer.get("has_data")) and fresh and not has_office
                status = "restore" if restore_needed else "done"
            else:  # a replacement box waits for the hub's copy; a new one starts with the standard set
                restore_needed = bundle.restore and fresh and not has_office
                status = "enrol"
            if not (restore_needed and answer is not None):
                outcome.snapshot_rows = load_snapshot(rows)
                if not restore_needed and not has_office:
                    seed_standard(commune)
                    outcome.seeded = True
        write_files(data_dir, files)
        if restore_needed and answer is not None:
            try:
                outcome.restored = restore_from_hub(box_settings, key)
                status = "done"
            except (HubUnreachable, HubRefused, SyncFailed) as exc:  # enrol_pending tries again
                outcome.restore_pending = getattr(exc, "message", None) or str(exc)
                log.warning("restore after enrolment failed: %s", outcome.restore_pending)
        elif restore_needed:
            outcome.restore_pending = "chờ kết nối được trung tâm"
        state.update(bundles=state.get("bundles", []) + [bundle.bundle_id], bundle_id=bundle.bundle_id,
                     commune=bundle.commune, hub_urls=bundle.hub_urls, hub_url=url, node_id=outcome.node_id,
                     expires_at=bundle.manifest["expires_at"], applied_at=format_time(utcnow()), status=status,
                     token=bundle.box["enrol_token"] if status == "enrol" else "",
                     last_error=outcome.pending or outcome.restore_pending, replaced=outcome.replaced)
        if outcome.enrolled:
            state["enrolled_at"] = format_time(utcnow())
        if outcome.restored:
            state["restored"] = outcome.restored
        write_state(data_dir, state)
    finally:
        db.close()
    return outcome


@contextmanager
def bundle_cert(data_dir, pem):
    """The bundle's hub certificate as a file for the enrolment request (None without one);
    a temporary file of the data dir, gone afterwards: it is pinned only with the rest."""
    if not pem:
        yield None
        return
    path = Path(data_dir) / CERT.parent / f".hub-cert.{os.getpid()}.enrol.pem"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(pem)
        yield str(path)
    finally:
        path.unlink(missing_ok=True)


def find_bundles(settings):
    """``*.motcua`` files under the USB mount folders (a few levels deep, no symlinks followed)."""
    found = []
    for root in filter(None, (d.strip() for d in settings["usb_mount_dirs"].split(","))):
        root = Path(root)
        if not root.is_dir():
            continue
        base = len(root.parts)
        for folder, dirs, files in os.walk(root, followlinks=False, onerror=lambda exc: None):
            if len(Path(folder).parts) - base >= SCAN_DEPTH:
                dirs[:] = []
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                path = Path(folder) / name
                if name.endswith(SUFFIX) and not name.startswith(".") and path.is_file() and not path.is_symlink():
                    found.append(path)
    return found


def scan(settings):
    """The bundle to apply from a USB stick: (path or None, [(path, reason)] of those refused).

    Bundles this box already applied are skipped; several usable bundles for different
    communes are refused (the box cannot know which one is meant for it).
    """
    paths = find_bundles(settings)
    if not paths:  # a stick without a bundle (a photo, a document): nothing to say
        return None, []
    local = peek(settings)
    pinned = trusted_key(local)
    applied = set(read_state(settings["data_dir"]).get("bundles", []))
    usable, refused = [], []
    for path in paths:
        try:
            bundle = read_bundle(path, pinned_key=pinned, now=box_now(local))
        except BundleRefused as exc:
            refused.append((path, exc.message))
            continue
        if bundle.bundle_id in applied:
            continue
        if local.commune and bundle.commune != local.commune:
            refused.append((path, f"gói dành cho xã {bundle.commune}, hộp này đã cài cho xã {local.commune}"))
            continue
        usable.append((bundle.manifest.get("created_at", ""), path, bundle.commune))
    communes = {c for _, _, c in usable}
    if len(communes) > 1:
        listing = ", ".join(f"{p.name} (xã {c})" for _, p, c in usable)
        raise MotcuaError(f"USB có gói cài đặt cho nhiều xã: {listing}. Hộp không biết chọn gói nào: "
                          "chỉ để lại gói của xã này trên USB.")
    if not usable:
        return None, refused
    return max(usable)[1], refused
