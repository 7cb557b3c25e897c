"""Form files of the catalog (tờ khai, mẫu đơn: .docx, .pdf, ...) kept at the hub, content-addressed.

An operator uploads a document's form on the catalog's edit page; the bytes go to
``<data_dir>/forms/<sha256>`` (written whole or not at all) and the document records the file's
name, SHA-256 and size, which replicate with the catalog. Anyone downloads it at
``/forms/<sha256>/<name>``: the kiosk shows that address as a QR code (its public base is the
hub's), so a citizen takes the form home on the phone.
"""
import hashlib
import os
import re
import tempfile
from pathlib import Path

from flask import Blueprint, abort, current_app, send_file

from office.catalog_shape import FORM_FILE, SHA256
from office.errors import MotcuaError

bp = Blueprint("form_files", __name__)

MAX_BYTES = 10 * 1024 * 1024
TYPES = {"pdf": "application/pdf", "doc": "application/msword", "xls": "application/vnd.ms-excel",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "odt": "application/vnd.oasis.opendocument.text"}
MAGIC = {"pdf": (b"%PDF",), "docx": (b"PK\x03\x04",), "xlsx": (b"PK\x03\x04",), "odt": (b"PK\x03\x04",),
         "doc": (b"\xd0\xcf\x11\xe0",), "xls": (b"\xd0\xcf\x11\xe0",)}


def folder(data_dir):
    return Path(data_dir) / "forms"


def clean_name(filename):
    """The file's own name, without folders or characters a download header cannot carry."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "", Path(str(filename or "")).name).strip(" .")
    return name[:120]


def store(data_dir, filename, data):
    """(name, sha256, size) of an uploaded form, its bytes kept under ``forms/``; MotcuaError in
    Vietnamese when it is not a form file this hub keeps."""
    name = clean_name(filename)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not name or not FORM_FILE.search(name) or extension not in TYPES:
        raise MotcuaError(f"Tệp mẫu “{name or filename}” phải là .doc, .docx, .pdf, .xls, .xlsx hoặc .odt.")
    if not data:
        raise MotcuaError(f"Tệp mẫu “{name}” trống.")
    if len(data) > MAX_BYTES:
        raise MotcuaError(f"Tệp mẫu “{name}” lớn hơn {MAX_BYTES // (1024 * 1024)} MB.")
    if not data.startswith(MAGIC[extension]):
        raise MotcuaError(f"Tệp mẫu “{name}” không phải tệp {extension.upper()} thật (nội dung không khớp đuôi tệp).")
    sha = hashlib.sha256(data).hexdigest()
    target = folder(data_dir) / sha
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, target)
    return name, sha, len(data)


@bp.get("/forms/<sha256>/<name>")
def download(sha256, name):
    """A form file, for anyone (they are published blank forms)."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    path = folder(current_app.extensions["hub"].settings["data_dir"]) / sha256
    if not SHA256.fullmatch(sha256) or extension not in TYPES or clean_name(name) != name or not path.is_file():
        abort(404)
    response = send_file(path, mimetype=TYPES[extension], as_attachment=True, download_name=name, max_age=86400)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
