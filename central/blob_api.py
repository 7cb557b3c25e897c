"""Blob bytes between the hub and its boxes: ``/sync/v1/blobs/<sha256>``, signed like a pull.

- ``GET ?offset=N``: a box fetches a file from byte N (a cut transfer goes on where its partial
  stopped). Served only when an Attachment row of the box's commune names the blob: a box never
  reads another commune's files (404 otherwise, the same answer as for a blob the hub lacks).
- ``HEAD``: how many bytes of the blob the hub holds (``Upload-Offset``), and whether whole.
- ``PATCH ?offset=N&digest=<sha256 of the body>``: a box sends the next piece of a file it made
  (a scan, an answer photo, a result). Accepted only for a blob an Attachment row of the box's
  commune names (the row comes up through the normal push first); the hub appends to its partial
  under a lock per blob (several web workers), and when the row's size is reached it checks the
  hash: a mismatch is refused (422) and the partial dropped, so the box sends it again whole.

The signature covers the action (which names the blob) and the query (offset, the body's digest).
"""
import hashlib
import io

from flask import Blueprint, Response, current_app, jsonify, request

from blobs import BlobError, is_sha256, open_store
from office.attachments import Attachment
from sync.client import BLOB_SIZE, BLOB_WHOLE, REASON, UPLOAD_OFFSET
from sync.protocol import BatchRejected

from .sync_api import hub, signed_box, stamp_hub_time

bp = Blueprint("blob_api", __name__, url_prefix="/sync/v1/blobs")
bp.after_request(stamp_hub_time)

MAX_PIECE = 8 * 1024 * 1024  # one PATCH body at most (boxes send 1 MB)


def store():
    stores = current_app.extensions.setdefault("blob_stores", {})
    if "hub" not in stores:
        stores["hub"] = open_store(hub().settings)
    return stores["hub"]


@bp.errorhandler(BatchRejected)
@bp.errorhandler(BlobError)
def refused(exc):
    body = exc.to_dict()
    reason = (exc.detail or {}).get("reason", "")
    response = jsonify(body) if request.method != "HEAD" else Response(status=exc.status)
    response.status_code = exc.status
    if reason:
        response.headers[REASON] = reason
    if "offset" in (exc.detail or {}):
        response.headers[UPLOAD_OFFSET] = str(exc.detail["offset"])
    return response


def _named_for(box, sha):
    """The size an Attachment row of ``box``'s commune gives blob ``sha``; 404 when none names it."""
    if not is_sha256(sha):
        raise BlobError("Mã tệp không hợp lệ.", status=404)
    row = (Attachment.select(Attachment.size)
           .where(Attachment.sha256 == sha, Attachment.commune == box.commune).first())
    if row is None:
        raise BlobError("Không có tệp này cho hộp của xã.", status=404)
    return row.size


@bp.route("/<sha>", methods=["GET", "HEAD", "PATCH"])
def blob(sha):
    if request.method == "PATCH":
        return _receive(sha)
    if request.method == "HEAD":
        return _offset(sha)
    return _send(sha)


def _send(sha):
    box = signed_box(f"blob-get {sha}")
    _named_for(box, sha)
    size = store().size(sha)
    if size is None:
        raise BlobError("Trung tâm chưa có tệp này.", status=404)
    offset = request.args.get("offset", 0, type=int)
    if not 0 <= offset <= size:
        raise BlobError(f"Vị trí {offset} nằm ngoài tệp ({size} byte).", status=416)
    handle = store().open(sha)
    handle.seek(offset)

    def pieces():
        with handle:
            while piece := handle.read(256 * 1024):
                yield piece

    headers = {BLOB_SIZE: str(size), "Content-Length": str(size - offset)}
    if offset:
        headers["Content-Range"] = f"bytes {offset}-{size - 1}/{size}" if size > offset else f"bytes */{size}"
    return Response(pieces(), status=206 if offset else 200, mimetype="application/octet-stream",
                    headers=headers, direct_passthrough=True)


def _offset(sha):
    box = signed_box(f"blob-head {sha}")
    size = _named_for(box, sha)
    whole = store().has(sha)
    held = size if whole else store().partial_size(sha)
    return Response(status=200, headers={UPLOAD_OFFSET: str(held), BLOB_WHOLE: "1" if whole else "0",
                                         BLOB_SIZE: str(size)})


def _receive(sha):
    box = signed_box(f"blob-patch {sha}")
    size = _named_for(box, sha)
    offset = request.args.get("offset", -1, type=int)
    body = request.get_data(cache=False)
    if len(body) > MAX_PIECE:
        raise BlobError("Phần tệp gửi lên quá lớn.", status=413)
    if hashlib.sha256(body).hexdigest() != request.args.get("digest", ""):
        raise BlobError("Phần tệp nhận được không khớp mã kiểm tra: cần gửi lại.", status=400)
    files = store()
    with files.locked(sha):
        if files.has(sha):
            return _done(size)
        held = files.partial_size(sha)
        if offset != held:
            return Response(status=409, headers={UPLOAD_OFFSET: str(held)})
        held = files.append(sha, offset, io.BytesIO(body), limit=size)
        if held == size:
            files.commit(sha, expect_sha=sha, expect_size=size)  # 422 (and the partial dropped) on a mismatch
            return _done(size)
    return Response(status=204, headers={UPLOAD_OFFSET: str(held), BLOB_WHOLE: "0"})


def _done(size):
    return Response(status=204, headers={UPLOAD_OFFSET: str(size), BLOB_WHOLE: "1"})
