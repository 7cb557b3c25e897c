"""A release's manifest: its version and the sha256 and size of every file, signed by the hub.

The manifest is canonical JSON; the box checks the signature with the hub key it pinned at
enrolment before it downloads a byte, and every file against the manifest before it uses it.
"""
import hashlib
import json
import re
from pathlib import Path

from office.errors import MotcuaError
from sync.encoding import canonical
from sync.keys import sign, verify

VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$")
FILE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,200}\.whl$")


class ManifestRefused(MotcuaError):
    """A manifest or a file that does not match its signed manifest."""


def file_sha256(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def build_manifest(wheels_dir, version, published_at):
    """The manifest of every wheel in ``wheels_dir`` (one of them must be motcua ``version``)."""
    check_version(version)
    wheels = sorted(Path(wheels_dir).glob("*.whl"))
    if not any(w.name.startswith(f"motcua-{version}-") for w in wheels):
        raise MotcuaError(f"Thư mục {wheels_dir} không có tệp motcua-{version}-*.whl.")
    files = []
    for wheel in wheels:
        if not FILE_RE.match(wheel.name):
            raise MotcuaError(f"Tên tệp không hợp lệ: {wheel.name}")
        files.append({"name": wheel.name, "sha256": file_sha256(wheel), "size": wheel.stat().st_size})
    return {"version": version, "files": files, "published_at": published_at}


def sign_manifest(key, manifest):
    """(bytes, signature) of ``manifest`` signed by ``key`` (the hub's)."""
    body = canonical(manifest)
    return body, sign(key, body)


def check_version(version):
    if not isinstance(version, str) or not VERSION_RE.match(version):
        raise MotcuaError(f"Số phiên bản không hợp lệ: “{version}”.")
    return version


def verify_manifest(body, signature, public_key):
    """The manifest in ``body`` when ``signature`` is the hub's, else ``ManifestRefused``."""
    if isinstance(body, str):
        body = body.encode()
    if not signature or not verify(public_key, body, signature):
        raise ManifestRefused("Chữ ký của bản cập nhật không hợp lệ: không phải do trung tâm phát hành.")
    try:
        manifest = json.loads(body)
        check_version(manifest["version"])
        files = manifest["files"]
        for item in files:
            if not FILE_RE.match(item["name"]) or not re.fullmatch(r"[0-9a-f]{64}", item["sha256"]):
                raise ValueError(item.get("name"))
            int(item["size"])
    except (ValueError, KeyError, TypeError, MotcuaError) as exc:
        raise ManifestRefused(f"Bản kê của bản cập nhật hỏng: {exc}") from exc
    return manifest
