"""The hub's procedure catalog and agencies (operator pages, HTTP Basic).

Procedures and agencies are hub-owned rows for every box (commune "*"): each save here is one
entry of the hub's change log, and the boxes take it in at their next pull. Deactivating a
procedure ("gỡ khỏi các hộp") is an update like any other: the kiosks stop showing it.
"""
import json
import logging
import re

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from peewee import fn

from motcua.htmlclean import clean_html
from motcua.web import int_arg, refuse_cross_site
from office.catalog import LEVELS, ONLINE_LEVELS, WAYS, Procedure, export_file, import_file, record, validate
from office.catalog_shape import GROUPS, limit_label
from office.dossiers import Agency
from office.errors import MotcuaError, NotFound
from office.search import SearchIndex
from sync.models import SyncNode
from sync.policy import GLOBAL_SCOPE

from .auth import audited, requires

log = logging.getLogger("motcua.catalog")
bp = Blueprint("catalog_admin", __name__)

PAGE_SIZE = 100
BLANK_WAYS, BLANK_COMPONENTS = 1, 2  # empty rows offered under the filled ones
TEMPLATE_MAX = 100_000
MAX_UPLOAD = 10 * 1024 * 1024  # a form file (form_files.MAX_BYTES refuses bigger ones)
AGENCY_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{1,39}$")
TEXT_FIELDS = ("code", "name", "field", "agency", "requirements", "result", "online_level", "decision", "kind",
               "applicants", "receiving_place", "result_code", "online_url")
LINE_FIELDS = ("steps", "legal_basis", "consulted", "related")  # one item per line in the form
WAY_KEYS = ("way", "limit", "fee", "description")
DOCUMENT_KEYS = ("group", "case", "name", "originals", "copies", "form", "form_url", "form_sha256", "form_size",
                 "template")


bp.before_request(refuse_cross_site)


def _page(template, status=200, **context):
    return render_template(template, messages=get_flashed_messages(), LEVELS=LEVELS, WAYS=WAYS, GROUPS=GROUPS,
                           ONLINE_LEVELS=ONLINE_LEVELS, printed=_printed, **context), status


def _printed(template):
    """A form's HTML as the kiosks print it (the box keeps layout tags only), for the preview."""

    return clean_html(template)


# ---- list and search -----------------------------------------------------------------------------

def _index():
    """A folding search over the whole catalog (active or not), rebuilt when the hub writes."""
    count, top = Procedure.select(fn.COUNT(Procedure.id), fn.MAX(Procedure.id)).tuples().get()
    node = SyncNode.select(SyncNode.last_seq).first()
    key = (count, top, node.last_seq if node else 0)
    cached = current_app.extensions.get("hub_catalog_index")
    if cached is None or cached[0] != key:
        rows = list(Procedure.select(Procedure.id, Procedure.code, Procedure.name, Procedure.field, Procedure.agency)
                    .tuples())
        cached = (key, SearchIndex([(pk, code, name, f"{field} {agency}") for pk, code, name, field, agency in rows]))
        current_app.extensions["hub_catalog_index"] = cached
    return cached[1]


@bp.get("/catalog")
@requires("catalog.manage")
def catalog():
    q = (request.args.get("q") or "").strip()[:100]
    field = (request.args.get("field") or "").strip()
    state = request.args.get("state") or "all"
    page = int_arg("page", 1, low=1, high=100_000)
    query = Procedure.select()
    if field:
        query = query.where(Procedure.field == field)
    if state in ("active", "inactive"):
        query = query.where(Procedure.active == (state == "active"))
    if q:
        keys = _index().search(q, limit=5000)
        rank = {k: i for i, k in enumerate(keys)}
        rows = sorted(query.where(Procedure.id.in_(keys)), key=lambda p: rank[p.id]) if keys else []
        total, rows = len(rows), rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    else:
        total = query.count()
        rows = list(query.order_by(Procedure.field, Procedure.code).paginate(page, PAGE_SIZE))
    fields = (Procedure.select(Procedure.field, fn.COUNT(Procedure.id)).group_by(Procedure.field)
              .order_by(Procedure.field).tuples())
    counts = dict(Procedure.select(Procedure.active, fn.COUNT(Procedure.id)).group_by(Procedure.active).tuples())
    return _page("catalog.html", rows=rows, total=total, page=page,
                 pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), q=q, field=field, state=state,
                 fields=list(fields), active_count=counts.get(True, 0), inactive_count=counts.get(False, 0))


@bp.get("/catalog/export.<any(json, csv, xlsx):kind>")
@requires("catalog.manage")
def export(kind):
    """The whole catalog in the import shape: what an import of the file gives back unchanged."""
    data, mimetype = export_file(Procedure.select().order_by(Procedure.code), kind)
    return Response(data, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="danh-muc-thu-tuc.{kind}"'})


# ---- import a file -------------------------------------------------------------------------------

def _import(upload):
    if upload is None or not upload.filename:
        raise MotcuaError("Hãy chọn một tệp danh mục (.json, .csv hoặc .xlsx).")
    name = upload.filename
    data = upload.read()
    try:
        with audited("catalog.import", name) as entry:
            report = import_file(name, data)
            counts = report.as_dict()
            entry["detail"] = ", ".join(f"{k} {v}" for k, v in counts.items() if isinstance(v, int)) + \
                f", rejected {len(report.rejected)}"
    except UnicodeDecodeError:
        raise MotcuaError(f"Không đọc được tệp “{name}”: tệp không phải chữ mã UTF-8 "
                          "(hãy lưu lại tệp với bảng mã UTF-8).") from None
    except json.JSONDecodeError as exc:
        raise MotcuaError(f"Không đọc được tệp “{name}”: nội dung JSON sai ở dòng {exc.lineno}, "
                          f"cột {exc.colno}.") from None
    except ValueError as exc:
        raise MotcuaError(f"Không đọc được tệp “{name}”: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a broken spreadsheet raises whatever its reader raises
        log.warning("catalog file %s unreadable: %r", name, exc)
        raise MotcuaError(f"Không đọc được tệp “{name}”: tệp hỏng hoặc không đúng định dạng JSON, CSV, XLSX.") from None
    log.info("catalog import %s: %s", name, report.as_dict() | {"rejected": len(report.rejected)})
    return name, report


@bp.post("/catalog/import")
@requires("catalog.manage")
def import_page():
    try:
        name, report = _import(request.files.get("file"))
    except MotcuaError as exc:
        return _page("catalog_import.html", 400, error=exc.message, report=None, name="")
    return _page("catalog_import.html", report=report, name=name, error=None,
                 json_rows=name.lower().endswith(".json"))


@bp.post("/api/v1/catalog/import")
@requires("catalog.manage")
def import_api():
    """Multipart ``file``: the same import, answered as {created, updated, unchanged, rejected: [...]}."""
    name, report = _import(request.files.get("file"))
    return jsonify(file=name, **report.as_dict())


# ---- one procedure -------------------------------------------------------------------------------

def _procedure(pk):
    p = Procedure.get_or_none(Procedure.id == pk)
    if p is None:
        raise NotFound("Không tìm thấy thủ tục này.")
    return p


def _values_of(p):
    """The edit form's values from a saved procedure (the import shape, as text)."""
    r = record(p)
    values = {**{k: str(r.get(k) or "") for k in TEXT_FIELDS}, "levels": list(r["levels"]),
              **{k: "\n".join(r[k]) for k in LINE_FIELDS}}
    values["ways"] = [{"way": w["way"], "limit": limit_label(w["amount"], w["unit"]), "fee": w["fee"],
                       "description": w["description"]} for w in r["ways"]]
    values["documents"] = [{k: "" if d.get(k) is None else str(d.get(k, "")) for k in DOCUMENT_KEYS}
                           for d in r["documents"]]
    return values


def _rows(form, prefix, keys, significant, numbered=False):
    """The numbered rows of a form table, without the blank ones (a blank row may keep its defaults);
    ``numbered``: each row also says its number on the page (``_n``)."""
    numbers = sorted({int(m.group(1)) for k in form for m in [re.match(rf"^{prefix}-(\d+)-", k)] if m})
    rows = [{k: (form.get(f"{prefix}-{n}-{k}") or "").strip() for k in keys} | ({"_n": n} if numbered else {})
            for n in numbers]
    return [r for r in rows if any(r[k] for k in significant)]


def _values_from(form):
    values = {k: (form.get(k) or "").strip() for k in TEXT_FIELDS}
    values["levels"] = form.getlist("levels")
    for k in LINE_FIELDS:
        values[k] = (form.get(k) or "").replace("\r\n", "\n")
    values["ways"] = _rows(form, "way", WAY_KEYS, ("way",))
    values["documents"] = _rows(form, "document", DOCUMENT_KEYS, ("name", "template"), numbered=True)
    for d in values["documents"]:
        d["template"] = d["template"].replace("\r\n", "\n")
    return values


def _store_uploads(values, files):
    """Form files chosen on the page (``document-N-upload``) kept at the hub; the row then names the
    stored file. Returns the reasons of files refused (the row keeps what it had)."""
    from .form_files import store

    reasons = []
    rows = {d["_n"]: d for d in values["documents"]}
    for key in sorted(files):
        match = re.match(r"^document-(\d+)-upload$", key)
        upload = files.get(key)
        if not match or upload is None or not upload.filename:
            continue
        row = rows.get(int(match.group(1)))
        if row is None:
            reasons.append(f"Tệp mẫu “{upload.filename}” không thuộc dòng giấy tờ nào: hãy ghi tên giấy tờ.")
            continue
        try:
            name, sha, size = store(current_app.extensions["hub"].settings["data_dir"], upload.filename,
                                    upload.read(MAX_UPLOAD + 1))
        except MotcuaError as exc:
            reasons.append(exc.message)
            continue
        row.update(form=name, form_sha256=sha, form_size=str(size))
    return reasons


def _check(values, current=None):
    """(clean fields to save, reasons) through the catalog's own validation, plus what a form adds."""
    reasons = []
    kinds = [w["way"] for w in values["ways"]]
    for kind in {k for k in kinds if kinds.count(k) > 1}:
        reasons.append(f"cách thức “{WAYS.get(kind, kind)}” khai hai lần")
    documents = []
    for number, d in enumerate(values["documents"], start=1):
        if not d["name"]:
            reasons.append(f"giấy tờ số {number} thiếu tên")
        if len(d["template"]) > TEMPLATE_MAX:
            reasons.append(f"mẫu đơn của “{d['name']}” dài quá {TEMPLATE_MAX:,} ký tự".replace(",", "."))
        documents.append({k: v for k, v in d.items() if k != "_n" and (v != "" or k in ("originals", "copies"))})
    row = {k: values[k] for k in TEXT_FIELDS}
    row.update({k: values[k] for k in LINE_FIELDS}, levels=values["levels"] or "xa", ways=values["ways"],
               documents=documents)
    clean, more = validate(row)
    reasons = more + reasons
    code = values["code"]
    other = Procedure.get_or_none(Procedure.code == code, Procedure.commune == GLOBAL_SCOPE)
    if other is not None and (current is None or other.id != current.id):
        reasons.append(f"mã {code} đã là của thủ tục “{other.name}”")
    return (None if reasons else clean), reasons


def _blank_rows(values):
    values["ways"] = values["ways"] + [dict.fromkeys(WAY_KEYS, "")] * BLANK_WAYS
    values["documents"] = values["documents"] + [{**dict.fromkeys(DOCUMENT_KEYS, ""), "group": "nop",
                                                  "originals": "1", "copies": "0"}] * BLANK_COMPONENTS
    return values


def _edit_page(p, values, reasons=(), status=200):
    return _page("catalog_edit.html", status, p=p, values=_blank_rows(dict(values)), reasons=list(reasons))


@bp.get("/catalog/new")
@requires("catalog.manage")
def new():
    values = {**{k: "" for k in TEXT_FIELDS}, "levels": ["xa"], **{k: "" for k in LINE_FIELDS},
              "ways": [{**dict.fromkeys(WAY_KEYS, ""), "way": "truc_tiep"}], "documents": []}
    return _edit_page(None, values)


@bp.post("/catalog/new")
@requires("catalog.manage")
def create():
    values = _values_from(request.form)
    refused = _store_uploads(values, request.files)
    clean, reasons = _check(values)
    reasons = refused + reasons
    if reasons:
        return _edit_page(None, values, reasons, 400)
    with audited("catalog.add", clean.get("code", "")):
        p = Procedure.create(commune=GLOBAL_SCOPE, **clean)
    flash(f"Đã thêm thủ tục {p.code}. Các hộp nhận ở lần đồng bộ tới.")
    return redirect(url_for("catalog_admin.edit", pk=p.id))


@bp.get("/catalog/<pk>")
@requires("catalog.manage")
def edit(pk):
    p = _procedure(pk)
    return _edit_page(p, _values_of(p))


@bp.post("/catalog/<pk>")
@requires("catalog.manage")
def save(pk):
    p = _procedure(pk)
    values = _values_from(request.form)
    refused = _store_uploads(values, request.files)
    clean, reasons = _check(values, current=p)
    reasons = refused + reasons
    if reasons:
        return _edit_page(p, values, reasons, 400)
    with audited("catalog.change", p.code):
        changed = p.save_changes(clean)  # nothing changed: nothing written, nothing sent
    flash(f"Đã lưu thủ tục {p.code}." + (" Các hộp nhận ở lần đồng bộ tới." if changed else " (Không có gì thay đổi.)"))
    return redirect(url_for("catalog_admin.edit", pk=p.id))


@bp.post("/catalog/<pk>/active")
@requires("catalog.manage")
def set_active(pk):
    p = _procedure(pk)
    active = request.form.get("active") == "1"
    with audited("catalog.active", p.code, "công bố" if active else "gỡ"):
        p.save_changes({"active": active})
    flash(f"Thủ tục {p.code} " + ("đã được công bố tới các hộp." if active
                                  else "đã được gỡ khỏi các hộp (kiosk không hiện nữa)."))
    target = request.form.get("next") or ""
    return redirect(target if target.startswith("/catalog") else url_for("catalog_admin.edit", pk=p.id))


# ---- agencies (liên thông) -----------------------------------------------------------------------

@bp.get("/agencies")
@requires("agencies.manage")
def agencies():
    return _page("agencies.html", rows=_agencies(), values={}, reasons=[])


@bp.post("/agencies")
@requires("agencies.manage")
def add_agency():
    """An agency for every commune; the rules are the agency desk's own (central.agency.add_agency)."""
    from .agency import add_agency as add

    values = {"code": (request.form.get("code") or "").strip(), "name": (request.form.get("name") or "").strip()}
    reasons = []
    if values["code"] and not AGENCY_CODE.match(values["code"]):
        reasons.append("Mã cơ quan (mã định danh điện tử) chỉ gồm chữ, số, dấu chấm, gạch ngang; ví dụ 000.00.19.STP.")
    if len(values["name"]) > 200:
        reasons.append("Tên cơ quan dài quá 200 ký tự.")
    status = 400
    if not reasons:
        try:
            with audited("agency.add", values["code"], values["name"]):
                agency = add(GLOBAL_SCOPE, values["code"], values["name"])
        except MotcuaError as exc:
            reasons, status = [exc.message], exc.status
        else:
            flash(f"Đã thêm cơ quan {agency.code} – {agency.name}. Các hộp nhận ở lần đồng bộ tới.")
            return redirect(url_for("catalog_admin.agencies"))
    return _page("agencies.html", status, rows=_agencies(), values=values, reasons=reasons)


def _agencies():
    return list(Agency.select().order_by(Agency.code, Agency.commune))


@bp.post("/agencies/<pk>")
@requires("agencies.manage")
def rename_agency(pk):
    agency = Agency.get_or_none(Agency.id == pk)
    if agency is None:
        raise NotFound("Không tìm thấy cơ quan này.")
    name = (request.form.get("name") or "").strip()
    if not name or len(name) > 200:
        raise MotcuaError("Tên cơ quan không được để trống và không dài quá 200 ký tự.")
    if agency.name != name:
        with audited("agency.change", agency.code, f"{agency.name} → {name}"):
            agency.name = name
            agency.save()
    flash(f"Đã đổi tên cơ quan {agency.code}.")
    return redirect(url_for("catalog_admin.agencies"))


from . import catalog_synonyms  # noqa: E402,F401  (its pages join this blueprint)
