"""The provisioning bundle: one signed file a hub makes and a box reads from a USB stick.

Format: an uncompressed POSIX tar (``*.motcua``) holding flat, regular members only:

- ``manifest.json``: what the bundle is (format, version, bundle id, made/expiry times, the
  commune, the hub's public key and URLs, whether the hub already holds the commune's data)
  and the sha256 and size of every other member;
- ``manifest.sig``: the hub's Ed25519 signature over the exact bytes of ``manifest.json``
  (``sync.keys.sign``: base64 text);
- ``box.json``: the one-time enrolment token, the technician password's hash, optional
  network settings;
- ``snapshot.json`` (optional): rows of hub-owned tables (holidays...) for an offline first boot;
- ``hub-cert.pem`` (optional): the hub's TLS certificate or the CA that issued it (PEM); the
  box pins it and trusts nothing else for its ``https://`` hub.

The box never extracts the archive: members are read into memory after every header was
checked, so nothing is ever written from it to a path it names. Anything else (an absolute
path, ``..``, a folder, a link, a device, an unknown or repeated member, a member or a
whole bundle over the limits, a hash that differs from the signed manifest) is refused with
its reason.
"""
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from office.errors import MotcuaError
from sync.keys import load_public_text, public_text, sign, verify

FORMAT = "motcua-provisioning-bundle"
VERSION = 1
SUFFIX = ".motcua"

MANIFEST, SIGNATURE, BOX, SNAPSHOT = "manifest.json", "manifest.sig", "box.json", "snapshot.json"
HUB_CERT = "hub-cert.pem"
MEMBERS = (MANIFEST, SIGNATURE, BOX, SNAPSHOT, HUB_CERT)
REQUIRED = (MANIFEST, SIGNATURE, BOX)

MAX_BUNDLE_BYTES = 16 * 1024 * 1024
MAX_MEMBER_BYTES = 8 * 1024 * 1024
MAX_TOTAL_BYTES = 12 * 1024 * 1024
MAX_ENTRIES = 16  # tar headers read before giving up (pax headers are not counted by tarfile)

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class BundleRefused(MotcuaError):
    """A bundle the box will not use; ``reason`` a short code, the message Vietnamese."""

    def __init__(self, reason, message, status=400):
        super().__init__(message, status=status, detail={"reason": reason})
        self.reason = reason


@dataclass
class Bundle:
    manifest: dict
    box: dict
    snapshot: dict | None = None
    path: str = ""
    members: dict = field(default_factory=dict, repr=False)

    @property
    def bundle_id(self):
        return self.manifest["bundle_id"]

    @property
    def commune(self):
        return self.manifest["commune"]["code"]

    @property
    def commune_label(self):
        c = self.manifest["commune"]
        return f"{c.get('full_name') or c.get('name')}, {c.get('province', '')}".rstrip(", ")

    @property
    def hub_key(self):
        return self.manifest["hub"]["public_key"]

    @property
    def hub_urls(self):
        return list(self.manifest["hub"]["urls"])

    @property
    def expires_at(self):
        return parse_time(self.manifest["expires_at"])

    @property
    def hub_cert(self):
        """The hub's TLS certificate or CA (PEM text), or "" when the bundle carries none."""
        data = self.members.get(HUB_CERT)
        return data.decode("ascii") if data else ""

    @property
    def restore(self):
        """Whether the hub held data of this commune when it made the bundle (a replacement)."""
        return bool(self.manifest.get("restore"))


def format_time(moment):
    """Naive UTC -> ``2026-11-23T18:44:33Z``."""
    return moment.strftime(TIME_FORMAT)


def parse_time(text):
    return datetime.strptime(text, TIME_FORMAT)


def local_time(moment):
    """Naive UTC -> what a person in Vietnam reads: ``01:44 ngày 24/11/2026``."""
    local = moment.replace(tzinfo=UTC).astimezone(LOCAL_TZ)
    return local.strftime("%H:%M ngày %d/%m/%Y")


def _json_bytes(obj):
    return (json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()


def build_bundle(hub_key, manifest, box, snapshot=None, hub_cert=""):
    """The bytes of a signed bundle. ``manifest`` without ``members``/``format``/``version``;
    ``hub_cert``: PEM text of the hub's TLS certificate (or CA) for the box to pin."""
    members = {BOX: _json_bytes(box)}
    if snapshot is not None:
        members[SNAPSHOT] = _json_bytes(snapshot)
    if hub_cert:
        members[HUB_CERT] = check_certificate(hub_cert).encode("ascii")
    manifest = {**manifest, "format": FORMAT, "version": VERSION,
                "members": {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                            for name, data in members.items()}}
    manifest.setdefault("hub", {})["public_key"] = public_text(hub_key)
    manifest_bytes = _json_bytes(manifest)
    ordered = [(MANIFEST, manifest_bytes), (SIGNATURE, (sign(hub_key, manifest_bytes) + "\n").encode())]
    ordered += list(members.items())
    return tar_bytes(ordered, mtime=int(parse_time(manifest["created_at"]).replace(tzinfo=UTC).timestamp()))


def check_certificate(pem):
    """``pem`` if it holds one or more X.509 certificates (PEM), else a clear refusal."""
    from cryptography import x509

    try:
        text = pem.decode("ascii") if isinstance(pem, bytes) else pem
        if not x509.load_pem_x509_certificates(text.encode("ascii")):
            raise ValueError("no certificate")
    except (ValueError, UnicodeError) as exc:
        raise BundleRefused("certificate", "Chứng chỉ TLS của trung tâm trong gói không hợp lệ (cần tệp PEM "
                            "chứa chứng chỉ X.509).") from exc
    return text


def tar_bytes(members, mtime=0):
    """A plain tar of ``[(name, bytes)]``: regular files, mode 0600, owner 0."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o600, mtime
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _safe_name(name):
    """Refuse any member name that is not one flat, plain file name."""
    if not name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise BundleRefused("unsafe_path", f"Gói cài đặt chứa đường dẫn tuyệt đối “{name}”: bị từ chối.")
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if ".." in parts:
        raise BundleRefused("unsafe_path", f"Gói cài đặt chứa đường dẫn ra ngoài thư mục (“{name}”): bị từ chối.")
    if len(parts) != 1 or name != parts[0] or any(ord(ch) < 32 for ch in name):
        raise BundleRefused("unsafe_path", f"Gói cài đặt chứa thư mục hoặc tên tệp không hợp lệ (“{name}”): bị từ chối.")


def read_members(path):
    """``{name: bytes}`` of a bundle file, every header checked before any content is read."""
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        raise BundleRefused("not_found", f"Không tìm thấy tệp gói cài đặt {path} (hoặc đó không phải một tệp thường).")
    size = path.stat().st_size
    if size > MAX_BUNDLE_BYTES:
        raise BundleRefused("too_big", f"Gói cài đặt quá lớn ({size:,} byte; tối đa {MAX_BUNDLE_BYTES:,}).")
    data = path.read_bytes()[:MAX_BUNDLE_BYTES + 1]
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            infos, total = [], 0
            for count, info in enumerate(tar, 1):
                if count > MAX_ENTRIES:
                    raise BundleRefused("too_many", "Gói cài đặt có quá nhiều tệp.")
                _safe_name(info.name)
                if info.issym() or info.islnk():
                    raise BundleRefused("link", f"Gói cài đặt chứa liên kết “{info.name}” → “{info.linkname}”: bị từ chối.")
                if info.type not in (tarfile.REGTYPE, tarfile.AREGTYPE) or info.issparse():
                    raise BundleRefused("special", f"Gói cài đặt chứa “{info.name}” không phải tệp thường "
                                        "(thư mục, thiết bị, FIFO...): bị từ chối.")
                if info.name not in MEMBERS:
                    raise BundleRefused("unknown_member", f"Gói cài đặt chứa tệp lạ “{info.name}”: bị từ chối.")
                if any(i.name == info.name for i in infos):
                    raise BundleRefused("duplicate", f"Gói cài đặt chứa “{info.name}” hai lần: bị từ chối.")
                if info.size > MAX_MEMBER_BYTES:
                    raise BundleRefused("too_big", f"Tệp “{info.name}” trong gói quá lớn ({info.size:,} byte).")
                total += info.size
                if total > MAX_TOTAL_BYTES:
                    raise BundleRefused("too_big", "Nội dung gói cài đặt quá lớn.")
                infos.append(info)
            members = {}
            for info in infos:
                content = tar.extractfile(info).read(MAX_MEMBER_BYTES + 1)
                if len(content) != info.size:
                    raise BundleRefused("corrupt", f"Tệp “{info.name}” trong gói bị cắt cụt.")
                members[info.name] = content
    except (tarfile.TarError, EOFError, OSError, UnicodeError) as exc:
        raise BundleRefused("corrupt", f"Gói cài đặt bị hỏng hoặc không đúng định dạng ({exc}).") from exc
    for name in REQUIRED:
        if name not in members:
            raise BundleRefused("missing", f"Gói cài đặt thiếu “{name}”.")
    return members


def _json(members, name):
    try:
        value = json.loads(members[name].decode("utf-8"))
    except (UnicodeError, ValueError) as exc:
        raise BundleRefused("corrupt", f"“{name}” trong gói không phải JSON hợp lệ.") from exc
    if not isinstance(value, dict):
        raise BundleRefused("corrupt", f"“{name}” trong gói không đúng định dạng.")
    return value


def read_bundle(path, pinned_key="", now=None):
    """Check a bundle completely and return it; raise ``BundleRefused`` with the reason.

    ``pinned_key``: the hub key this box already trusts (base64); the bundle must come from
    that hub. Without one, the key the bundle names is trusted (the USB stick in the
    technician's hand is the proof), and its signature must still hold.
    ``now``: the box's best idea of the time (naive UTC), for the expiry.
    """
    members = read_members(path)
    manifest = _json(members, MANIFEST)
    if manifest.get("format") != FORMAT:
        raise BundleRefused("corrupt", "Tệp này không phải gói cài đặt motcua.")
    if manifest.get("version") != VERSION:
        raise BundleRefused("version", f"Gói cài đặt phiên bản {manifest.get('version')} chưa được phần mềm "
                            "của hộp hỗ trợ: hãy cập nhật phần mềm hoặc tạo gói bằng trung tâm cùng phiên bản.")
    try:
        claimed = manifest["hub"]["public_key"]
        key_text = pinned_key or claimed
        hub_key = load_public_text(key_text)
    except (KeyError, TypeError) as exc:
        raise BundleRefused("corrupt", "Bản kê của gói thiếu khoá của trung tâm.") from exc
    except MotcuaError as exc:
        raise BundleRefused("corrupt", exc.message) from exc
    if pinned_key and claimed.strip() != pinned_key.strip():
        raise BundleRefused("wrong_hub", f"Gói cài đặt do một trung tâm khác tạo (khoá {claimed[:12]}…), "
                            f"không phải trung tâm mà hộp này đã gắn (khoá {pinned_key[:12]}…): bị từ chối.")
    signature = members[SIGNATURE].decode("ascii", "replace").strip()
    if not verify(hub_key, members[MANIFEST], signature):
        who = "trung tâm mà hộp này đã gắn" if pinned_key else "trung tâm ghi trong gói"
        raise BundleRefused("signature", f"Chữ ký của gói cài đặt không hợp lệ: gói đã bị sửa hoặc không do {who} "
                            "ký. Bị từ chối.")
    listed = manifest.get("members")
    if not isinstance(listed, dict):
        raise BundleRefused("corrupt", "Bản kê của gói thiếu danh sách tệp.")
    for name in members:
        if name in (MANIFEST, SIGNATURE):
            continue
        if name not in listed:
            raise BundleRefused("unknown_member", f"Tệp “{name}” không có trong bản kê đã ký: bị từ chối.")
        if hashlib.sha256(members[name]).hexdigest() != listed[name].get("sha256"):
            raise BundleRefused("hash", f"Nội dung “{name}” không khớp với bản kê đã ký: gói đã bị sửa. Bị từ chối.")
    for name in listed:
        if name not in members:
            raise BundleRefused("missing", f"Gói cài đặt thiếu “{name}” (có trong bản kê).")
    try:
        bundle = Bundle(manifest, _json(members, BOX), _json(members, SNAPSHOT) if SNAPSHOT in members else None,
                        str(path), members)
        expires, code, urls = bundle.expires_at, bundle.commune, bundle.hub_urls
        well_formed = (isinstance(bundle.bundle_id, str) and isinstance(code, str)
                       and isinstance(bundle.box["enrol_token"], str)
                       and isinstance(bundle.box.get("technician_password_hash", ""), str)
                       and isinstance(bundle.box.get("network") or {}, dict))
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleRefused("corrupt", f"Bản kê của gói thiếu thông tin ({exc}).") from exc
    if not well_formed:
        raise BundleRefused("corrupt", "Gói cài đặt có thông tin không đúng kiểu.")
    if HUB_CERT in members:
        check_certificate(members[HUB_CERT])
    if not urls or not all(isinstance(u, str) and u.startswith(("http://", "https://")) for u in urls):
        raise BundleRefused("corrupt", "Gói cài đặt không có địa chỉ trung tâm hợp lệ.")
    if now is not None and now > expires:
        raise BundleRefused("expired", f"Gói cài đặt đã hết hạn lúc {local_time(expires)} (giờ Việt Nam). "
                            "Hãy xin trung tâm tạo gói mới.")
    from office.communes import find_commune

    if find_commune(code) is None:
        raise BundleRefused("corrupt", f"Gói cài đặt dành cho mã xã “{code}” không có trong danh mục.")
    return bundle
