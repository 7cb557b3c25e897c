"""Files of a dossier at the desk: papers a citizen uploaded online (their bytes come down from the
hub), scans and photos an officer makes of papers received in person (số hóa), results.

The dossier page lists each file; one whose bytes have not arrived yet says "đang tải tệp" and the
rest of the desk works as usual. Files open for signed-in officers only.
"""
from flask import Response, current_app, flash, g, redirect, request, url_for

from blobs import BlobError, open_store
from motcua.current import current_request
from office.attachments import Attachment, attach_file, attachments_of
from office.errors import MotcuaError, NotFound

from .box import current_box
from .dossier_views import _detail, _dossier, bp, desk  # the desk's routes, helpers and page context

SCAN_FIELD = "scan"


def box_store():
    stores = current_app.extensions.setdefault("blob_stores", {})
    if "box" not in stores:
        stores["box"] = open_store(current_box().settings)
    return stores["box"]


def scan_limit():
    return int(float(current_box().settings["scan_max_mb"]) * 1024 * 1024)


def allow_scan_bodies():
    """Before any hook reads the form: a scan's form may be larger than the box's other forms (they stay
    under the app's small limit). Room for twice the limit, so a file somewhat too large reaches the
    view and gets the desk page with its reason; past that, the plain 413 page."""
    req = current_request()
    if req.endpoint == "dossiers.scan":
        req.max_content_length = 2 * scan_limit() + 1024 * 1024


@bp.context_processor
def _files():
    return {"dossier_files": dossier_files}


def dossier_files(dossier):
    """[(attachment, here)] of a dossier: ``here`` False while its bytes are still on the way."""
    store = box_store()
    return [(row, store.has(row.sha256)) for row in attachments_of(dossier.id)]


@bp.get("/<code>/tep/<file_id>")
@desk
def open_file(code, file_id):
    dossier = _dossier(code)
    row = Attachment.get_or_none(Attachment.id == file_id, Attachment.owner == dossier.id)
    if row is None:
        raise NotFound("Không có tệp này trong hồ sơ.")
    try:
        handle = box_store().open(row.sha256)
    except BlobError:
        raise MotcuaError("Tệp đang tải về từ trung tâm (đang tải tệp): hãy mở lại sau ít phút.", status=404) from None
    ascii_name = row.name.encode("ascii", "ignore").decode() or "tep"
    return Response(_pieces(handle), mimetype=row.mime, headers={
        "Content-Length": str(row.size), "Cache-Control": "private, no-store",
        "Content-Disposition": f'inline; filename="{ascii_name}"', "X-Content-Type-Options": "nosniff"})


def _pieces(handle):
    with handle:
        while piece := handle.read(256 * 1024):
            yield piece


@bp.post("/<code>/so-hoa")
@desk
def scan(code):
    dossier = _dossier(code)
    upload = request.files.get(SCAN_FIELD)
    label = request.form.get("label", "").strip()
    try:
        if upload is None or not upload.filename:
            raise MotcuaError("Chưa chọn tệp: hãy chụp hoặc chọn bản quét giấy tờ.")
        row = attach_file(dossier.id, "scan", upload.stream, upload.filename, box_store(),
                          added_by=g.officer.full_name, label=label, limit=scan_limit())
    except MotcuaError as exc:
        if exc.status == 413:
            exc = MotcuaError(f"Tệp quá lớn: tối đa {current_box().settings['scan_max_mb']} MB. Hãy chụp với độ "
                              "phân giải thấp hơn hoặc quét từng trang.", status=413)
        current_app.logger.info("scan refused for dossier %s: %s", dossier.code, exc.message)
        return _detail(dossier, error=exc.message, values={"action": "scan", "label": label}, status=exc.status)
    flash(f"Đã đính kèm bản quét “{row.label or row.name}”; tệp sẽ được gửi lên trung tâm khi có mạng.")
    return redirect(url_for("dossiers.detail", code=dossier.code) + "#files", 303)
