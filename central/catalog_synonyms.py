"""The hub's synonyms for the kiosk's search, under the catalog (operator pages, as the catalog).

Synonyms are hub-owned rows for every box (commune "*"), like procedures: each save is one
entry of the hub's change log, audited, and the boxes take it in at their next pull. Withdrawing
one switches it off (the kiosks stop using it); nothing is deleted.
"""
from flask import flash, redirect, request, url_for

from office.errors import NotFound
from office.synonyms import SearchSynonym, check, import_file
from sync.policy import GLOBAL_SCOPE

from .auth import audited, requires
from .catalog_admin import _page, bp

SENT = "Các hộp nhận ở lần đồng bộ tới."


def _rows():
    return list(SearchSynonym.select().order_by(SearchSynonym.active.desc(), SearchSynonym.phrase))


def _list(status=200, values=None, reasons=(), report=None):
    return _page("catalog_synonyms.html", status, rows=_rows(), values=values or {"phrase": "", "means": ""},
                 reasons=list(reasons), report=report)


def _synonym(pk):
    row = SearchSynonym.get_or_none(SearchSynonym.id == pk)
    if row is None:
        raise NotFound("Không tìm thấy từ đồng nghĩa này.")
    return row


@bp.get("/catalog/synonyms")
@requires("catalog.manage")
def synonyms():
    return _list()


@bp.post("/catalog/synonyms")
@requires("catalog.manage")
def add_synonym():
    values = {k: (request.form.get(k) or "").strip() for k in ("phrase", "means")}
    reasons = check(values["phrase"], values["means"])
    if reasons:
        return _list(400, values, reasons)
    with audited("catalog.synonym.add", values["phrase"], f"→ {values['means']}"):
        SearchSynonym.create(commune=GLOBAL_SCOPE, **values)
    flash(f"Đã thêm “{values['phrase']}” → “{values['means']}”. {SENT}")
    return redirect(url_for("catalog_admin.synonyms"))


@bp.post("/catalog/synonyms/<pk>")
@requires("catalog.manage")
def save_synonym(pk):
    row = _synonym(pk)
    values = {k: (request.form.get(k) or "").strip() for k in ("phrase", "means")}
    reasons = check(values["phrase"], values["means"], current=row)
    if reasons:
        return _list(400, values, reasons)
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if changed:  # nothing changed: nothing written, sent or audited
        with audited("catalog.synonym.change", row.phrase, f"{values['phrase']} → {values['means']}"):
            row.save_changes(changed)
    flash(f"Đã lưu “{row.phrase}”." + (f" {SENT}" if changed else " (Không có gì thay đổi.)"))
    return redirect(url_for("catalog_admin.synonyms"))


@bp.post("/catalog/synonyms/<pk>/active")
@requires("catalog.manage")
def set_synonym_active(pk):
    row = _synonym(pk)
    active = request.form.get("active") == "1"
    with audited("catalog.synonym.active", row.phrase, "dùng" if active else "thôi dùng"):
        row.save_changes({"active": active})
    state = "được dùng lại khi tìm kiếm." if active else "không còn được dùng khi tìm kiếm."
    flash(f"“{row.phrase}” {state} {SENT}")
    return redirect(url_for("catalog_admin.synonyms"))


@bp.post("/catalog/synonyms/import")
@requires("catalog.manage")
def import_synonyms():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _list(400, reasons=["Hãy chọn một tệp (.json hoặc .csv với các cột phrase, means)."])
    name = upload.filename
    try:
        with audited("catalog.synonym.import", name) as entry:
            report = import_file(name, upload.read())
            entry["detail"] = (f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
                               f"rejected {len(report.rejected)}")
    except (UnicodeDecodeError, ValueError) as exc:
        reason = "tệp không phải chữ mã UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)
        return _list(400, reasons=[f"Không đọc được tệp “{name}”: {reason}."])
    return _list(report=report)
