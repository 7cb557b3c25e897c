"""Resumable uploads of a citizen's papers: the tus 1.0.0 protocol (core, creation, termination) at
``/cong-dan/tai-len/``. A phone on a weak link sends a file in pieces; when the connection drops, the
client asks (HEAD) how much arrived and goes on from there (PATCH). Bytes go to the blob store's
partial upload named by the upload's id; the last piece turns it into a blob (sha256).

An upload belongs to the proved phone that created it: for any other session it does not exist
(404). Browsers send the session's CSRF token in ``X-CSRFToken`` (the hub's gate checks it)."""
import base64
import io
import logging

from flask import Blueprint, current_app, request, url_for

from blobs.store import BlobError, open_store
from office.errors import MotcuaError
from office.online_dossiers import online_procedure, papers

from . import online_drafts
from .citizens import current_citizen

bp = Blueprint("citizen_uploads", __name__, url_prefix="/cong-dan/tai-len")
log = logging.getLogger("motcua.hub.uploads")

VERSION = "1.0.0"
EXTENSIONS = "creation,termination"


def _headers(**extra):
    return {"Tus-Resumable": VERSION, "Cache-Control": "no-store", **extra}


def _reply(status, **headers):
    return "", status, _headers(**headers)


def _settings():
    return current_app.extensions["hub"].settings


def _store():
    return open_store(_settings())


def _phone():
    citizen = current_citizen()
    if citizen is None:
        raise MotcuaError("Cần xác minh số điện thoại trước khi tải tệp lên.", status=401)
    if citizen.consent_at is None:
        raise MotcuaError("Cần đồng ý cho xử lý dữ liệu cá nhân trước khi tải tệp lên.", status=403)
    return citizen.phone


def _require_version():
    if request.headers.get("Tus-Resumable") != VERSION:
        raise MotcuaError(f"Cần tiêu đề Tus-Resumable: {VERSION}.", status=412)


@bp.errorhandler(MotcuaError)
def _error(exc):
    """tus clients read the status and the headers; the body says why, in Vietnamese, as text."""
    headers = _headers()
    if exc.status == 409 and isinstance(exc.detail, dict) and "offset" in exc.detail:
        headers["Upload-Offset"] = str(exc.detail["offset"])
    if exc.status >= 500:
        log.error("upload %s %s: %s", request.method, request.path, exc.message)
    return exc.message, exc.status, {**headers, "Content-Type": "text/plain; charset=utf-8"}


def metadata(header):
    """tus ``Upload-Metadata``: "key base64,key2 base64" -> {key: text}."""
    out = {}
    for pair in (header or "").split(","):
        parts = pair.strip().split(" ", 1)
        if not parts[0]:
            continue
        try:
            out[parts[0]] = base64.b64decode(parts[1]).decode("utf-8") if len(parts) > 1 else ""
        except (ValueError, UnicodeDecodeError):
            raise MotcuaError("Upload-Metadata không hợp lệ.", status=400) from None
    return out


@bp.route("/", methods=["OPTIONS"], provide_automatic_options=False)
def options():
    per_file, _ = online_drafts.limits(_settings())
    return _reply(204, **{"Tus-Version": VERSION, "Tus-Max-Size": str(per_file), "Tus-Extension": EXTENSIONS})


@bp.post("/")
def create():
    _require_version()
    phone = _phone()
    try:
        length = int(request.headers.get("Upload-Length", ""))
    except ValueError:
        raise MotcuaError("Cần tiêu đề Upload-Length (số byte của tệp).", status=400) from None
    meta = metadata(request.headers.get("Upload-Metadata"))
    draft = online_drafts.open_draft(phone, meta.get("draft", ""))
    listed = {p["index"] for p in papers(online_procedure(draft.commune, draft.procedure_code))}
    paper = int(meta["paper"]) if meta.get("paper", "").isdigit() else -1
    if paper not in listed:
        raise MotcuaError("Giấy tờ này không có trong danh mục của thủ tục.", status=400)
    upload = online_drafts.new_upload(_settings(), draft, paper, meta.get("filename", ""), meta.get("filetype", ""),
                                      length)
    return _reply(201, Location=url_for(".upload", upload_id=upload.id, _external=True), **{"Upload-Offset": "0"})


@bp.route("/<upload_id>", methods=["HEAD"])
def upload(upload_id):
    _require_version()
    upload = online_drafts.upload_of(_phone(), upload_id)
    offset = upload.length if upload.sha256 else _store().partial_size(upload.id)
    return _reply(200, **{"Upload-Offset": str(offset), "Upload-Length": str(upload.length)})


@bp.patch("/<upload_id>")
def append(upload_id):
    _require_version()
    upload = online_drafts.upload_of(_phone(), upload_id)
    if request.mimetype != "application/offset+octet-stream":
        raise MotcuaError("Content-Type phải là application/offset+octet-stream.", status=415)
    try:
        offset = int(request.headers.get("Upload-Offset", ""))
    except ValueError:
        raise MotcuaError("Cần tiêu đề Upload-Offset.", status=400) from None
    store = _store()
    if upload.sha256:
        raise BlobError("Tệp đã tải lên đủ.", status=409, detail={"offset": upload.length})
    body = request.stream
    if offset == 0:  # the first bytes say what the file really is
        head = body.read(8)
        online_drafts.check_magic(upload.mime, head)
        body = _Chain(head, body)
    size = store.append(upload.id, offset, body, limit=upload.length)
    if size == upload.length:
        sha, size = store.commit(upload.id, expect_size=upload.length)
        online_drafts.finished(upload, sha, size)
    return _reply(204, **{"Upload-Offset": str(size)})


@bp.delete("/<upload_id>")
def terminate(upload_id):
    _require_version()
    upload = online_drafts.upload_of(_phone(), upload_id)
    online_drafts.open_draft(upload.phone, upload.draft)
    online_drafts.remove_upload(_store(), upload)
    return _reply(204)


class _Chain(io.RawIOBase):
    """``head`` bytes already read, then the rest of ``stream``."""

    def __init__(self, head, stream):
        self.head, self.stream = head, stream

    def read(self, size=-1):
        if self.head:
            data, self.head = self.head, b""
            return data
        return self.stream.read(size if size and size > 0 else 1024 * 1024)
