"""The procedure catalog and local information on the box: the kiosk's API, pages for citizens,
and the places management of signed-in officers.

Procedures are authored at the hub and arrive by the pull (hub-owned rows, commune "*"); the box
only reads them. Places are shared rows: officers edit them here through ``Place.save()``, so
every edit is captured in the change log and merged field by field with the hub's edits.

Searching folds diacritics (``office.search``): the index of the catalog (with the hub's
synonyms) is built once per process and rebuilt when the catalog may have changed (the node's
catalog version, which moves whenever the box takes in catalog rows from the hub, and the highest ids).
"""
import functools
import gc
from dataclasses import dataclass
from urllib.parse import quote

import segno

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup

from motcua.htmlclean import clean_html
from motcua.web import refuse_cross_site
from office import catalog_shape as shape
from office.catalog import LEVELS, ONLINE_LEVELS, WAYS, Procedure, details_of, json_list
from office.errors import MotcuaError, NotFound
from office.models import Officer, Place, PrintJob
from office.db import database
from office.search import SearchIndex, fold, procedure_texts
from office.synonyms import SearchSynonym, active_synonyms
from sync.models import CatalogVersion
from sync.policy import GLOBAL_SCOPE

from .box import current_box

bp = Blueprint("catalog", __name__)

SEARCH_LIMIT = 30
MAX_LIMIT = 200
QUERY_MAX = 100
PLACE_CATEGORIES = {
    "co-quan": "Cơ quan, công sở",
    "truong-hoc": "Trường học",
    "y-te": "Y tế",
    "cho": "Chợ, mua sắm",
    "dia-chi-do": "Địa chỉ đỏ, di tích lịch sử",
    "nong-thon-moi": "Mô hình nông thôn mới",
    "van-hoa": "Văn hóa, thể thao",
    "khac": "Khác",
}
PLACE_LIMITS = {"name": 200, "address": 300, "phone": 40, "opening_hours": 200, "description": 4000}
PLACE_FORM_FIELDS = ("name", "category", "address", "phone", "opening_hours", "description")
OFFICE_LEVELS = frozenset({"xa", "tinh"})  # since 1/7/2025 a commune office also receives provincial procedures
READING_RESET_FACTOR = 3  # reading pages of the kiosk wait longer before going back to the start


@bp.app_context_processor
def _office_hours():
    """“7:00–11:30 và 13:30–17:00”: the office's hours, for the kiosk's start screen."""
    periods = [f"{a.hour}:{a.minute:02d}–{b.hour}:{b.minute:02d}" for a, b in current_box().hours]
    return {"office_hours_text": " và ".join(periods)}


# ---- the catalog, indexed once per process -------------------------------------------------------

@dataclass
class CatalogIndex:
    key: tuple
    index: SearchIndex
    rows: dict  # id -> summary of an active procedure
    fields: list  # [(field, count)], by name
    by_field: dict  # field -> [ids], by name


def _catalog_key():
    """Changes whenever the active catalog (or its synonyms) on this node may have changed: one
    statement on two one-row tables and two index look-ups, never a read of the catalog's text.

    A box receives the catalog by the pull only, which moves its catalog version when it brings
    catalog rows (``sync.apply.catalog_changed``; not the pull cursor, which moves at nearly every
    pull); the hub writes it with its own log (its last seq). The highest ids catch rows written
    otherwise (a restore into the empty box)."""
    p = Procedure._meta.table_name
    s = SearchSynonym._meta.table_name
    row = database.execute_sql(
        f'SELECT scope, last_seq, (SELECT version FROM "{CatalogVersion._meta.table_name}" WHERE id = 1), '
        f'(SELECT MAX(id) FROM "{p}"), (SELECT MAX(id) FROM "{s}") FROM sync_node LIMIT 1').fetchone()
    if row is None:
        return None
    scope, last_seq, version, top, top_synonym = row
    return version, last_seq if scope == GLOBAL_SCOPE else 0, top, top_synonym


def catalog_index():
    key = _catalog_key()
    cached = current_app.extensions.get("catalog_index")
    if cached is not None and cached.key == key and key is not None:
        return cached
    rows, texts = {}, {}
    columns = (Procedure.id, Procedure.code, Procedure.name, Procedure.field, Procedure.agency, Procedure.level,
               Procedure.ways, Procedure.online_level, Procedure.days, Procedure.hours, Procedure.result,
               Procedure.details)
    for p in Procedure.select(*columns).where(Procedure.active == True).namedtuples():  # noqa: E712
        if OFFICE_LEVELS.isdisjoint(details_of(p)["levels"]):
            continue  # kept in the catalog (and at /procedures/<code>), not offered at the office
        rows[p.id] = summary(p)
        texts[p.id] = procedure_texts(p.name, result=p.result, field=p.field, agency=p.agency)
    ordered = sorted(rows.values(), key=lambda r: (fold(r["name"]), r["code"]))
    by_field = {}
    for row in ordered:
        if row["field"]:
            by_field.setdefault(row["field"], []).append(row["id"])
    index = SearchIndex([(r["id"], r["code"], texts[r["id"]]) for r in ordered], synonyms=active_synonyms(),
                        closest=True)
    fields = sorted(((f, len(ids)) for f, ids in by_field.items()), key=lambda item: fold(item[0]))
    built = CatalogIndex(key, index, rows, fields, by_field)
    current_app.extensions["catalog_index"] = built
    gc.freeze()  # the index's many objects are long-lived: the collector's full passes skip them
    return built


def _ways(procedure):
    """Each way of submitting with its own time limit (in its own unit; "not stated" says so) and fee."""
    out = []
    for item in json_list(procedure.ways):
        try:
            way = shape.normalise_way(item)
        except (ValueError, AttributeError):
            continue
        out.append({"way": way["way"], "label": WAYS[way["way"]], "days": way["days"], "hours": way["hours"],
                    "amount": way["amount"], "unit": way["unit"],
                    "time_limit": shape.limit_label(way["amount"], way["unit"]),
                    "fee": way["fee"] or "Không quy định", "note": way["description"]})
    return out


def _direct_limit(procedure):
    limit = details_of(procedure).get("limit")
    if isinstance(limit, dict):
        return shape.limit_label(limit.get("amount"), limit.get("unit", ""))
    if procedure.hours:
        return shape.limit_label(procedure.hours, "gio")
    return shape.limit_label(procedure.days or None, "ngay_lam_viec" if procedure.days else "trong_ngay")


def _components(procedure):
    """The documents, numbered from 1 in the record's order, each with what to bring of it."""
    out = []
    for number, item in enumerate(json_list(procedure.components), start=1):
        try:
            doc = shape.normalise_document(item if isinstance(item, dict) else {"name": str(item)})
        except ValueError:
            continue
        template = str(doc.get("template") or "").strip()
        out.append({**doc, "number": number, "copies": doc["copies"], "bring": shape.bring_label(doc),
                    "has_template": bool(template), "template": template})
    return out


def document_cases(components):
    """[(case, [(group label, documents)])]: what to bring, per case, hand-in first, then show, then notes."""
    cases = []
    for case, groups in shape.cases_of(components):
        cases.append((case, [(group, shape.GROUPS[group], docs) for group, docs in groups.items() if docs]))
    return cases


def summary(p):
    """A procedure as a search result."""
    ways = _ways(p)
    direct = next((w for w in ways if w["way"] == "truc_tiep"), ways[0] if ways else None)
    levels = details_of(p)["levels"]
    return {
        "id": p.id, "code": p.code, "name": p.name, "field": p.field, "agency": p.agency,
        "level": p.level, "level_label": LEVELS.get(p.level, p.level), "levels": levels,
        "levels_label": ", ".join(LEVELS.get(x, x) for x in levels),
        "time_limit": direct["time_limit"] if direct else _direct_limit(p),
        "fee": direct["fee"] if direct else "",
        "online_level": p.online_level, "online_label": ONLINE_LEVELS.get(p.online_level, p.online_level),
        "url": f"/procedures/{p.id}",
    }


def detail(p):
    """A procedure as the kiosk and the API show it: every field, with Vietnamese labels."""
    return {
        **summary(p),
        "steps": [str(s) for s in json_list(p.steps)],
        "ways": _ways(p),
        "components": [{k: c[k] for k in ("number", "name", "group", "case", "originals", "copies", "bring",
                                           "form", "form_url", "has_template")} for c in _components(p)],
        "requirements": p.requirements, "legal_basis": [str(x) for x in json_list(p.legal_basis)],
        "result": p.result,
        **{k: v for k, v in p.detail_fields().items() if k not in ("levels", "limit")},
    }


def search(q="", field="", limit=SEARCH_LIMIT, closest=None):
    """(matching summaries, how many matched in all, the catalog's fields).

    ``closest``: a list that gets True when no procedure holds every word of ``q`` (the answer
    is then the procedures holding the rarest of them)."""
    catalog = catalog_index()
    if q:
        numbers, every = catalog.index.find(q)
        keys = [catalog.index.docs[n].key for n in numbers]
        if closest is not None and keys and not every:
            closest.append(True)
        if field:
            keys = [k for k in keys if catalog.rows[k]["field"] == field]
    elif field:
        keys = catalog.by_field.get(field, [])
    else:
        keys = [k for f, _ in catalog.fields for k in catalog.by_field[f]]
    return [catalog.rows[k] for k in keys[:limit]], len(keys), catalog.fields


def _args():
    q = (request.args.get("q") or "").strip()[:QUERY_MAX]
    try:
        limit = min(max(int(request.args.get("limit") or SEARCH_LIMIT), 1), MAX_LIMIT)
    except ValueError:
        raise MotcuaError("Tham số limit phải là một số.") from None
    return q, limit


def get_procedure(pk):
    """An active procedure by id, or by its code (posters may link /procedures/1.001193)."""
    p = Procedure.get_or_none(Procedure.id == pk) or Procedure.get_or_none(Procedure.code == pk)
    if p is None or not p.active:
        raise NotFound("Không tìm thấy thủ tục này. Có thể thủ tục đã được bãi bỏ hoặc thay thế.")
    return p


@bp.get("/api/v1/procedures")
def procedures_api():
    """?q= (folding search, codes and exact phrases first) &field= (lĩnh vực) &limit= (default 30).

    A field without a query lists the whole field (up to 200); neither lists the catalog by field.
    Always with the catalog's fields and their counts, for the kiosk's choices."""
    q, limit = _args()
    field = (request.args.get("field") or "").strip()
    closest = []
    rows, total, fields = search(q, field, limit if (q or not field) else max(limit, MAX_LIMIT), closest)
    return jsonify(q=q, field=field, total=total, procedures=rows, closest=bool(closest),
                   fields=[{"name": f, "count": n} for f, n in fields])


@bp.get("/api/v1/procedures/<pk>")
def procedure_api(pk):
    return jsonify(detail(get_procedure(pk)))


CHECKLISTS_PENDING_MAX = 3  # more waiting lists than this: the printer is busy or broken, say so


@bp.post("/api/v1/procedures/<pk>/checklist/print")
def print_checklist(pk):
    """The kiosk's “In danh sách giấy tờ cần mang”: the list on the ticket printer (no A4 printer at a
    kiosk), with the QR code of the procedure's page to read it on a phone."""
    from .printing import PRINTER_FAILING, printer_trouble, queue_checklist

    p = get_procedure(pk)
    box = current_box()
    pending = PrintJob.select().where(PrintJob.state == PrintJob.PENDING, PrintJob.ticket.is_null(),
                                      PrintJob.payload.contains('"kind": "checklist"')).count()
    if pending >= CHECKLISTS_PENDING_MAX:
        raise MotcuaError("Máy in đang bận in các danh sách trước. Xin quý khách quét mã QR để xem trên điện thoại.",
                          status=429)
    d = detail(p)
    office = box.office
    job = queue_checklist({
        "office": office.name if office else "", "office_title": box.settings.get("office_title", ""),
        "procedure": p.name, "code": p.code, "field": p.field,
        "time_limit": d["time_limit"], "fee": d["fee"],
        "components": [[c["name"], c["bring"]] for c in d["components"]],
        "qr": procedure_url(p),
    })
    box.enqueue("print_job", job.id)
    failing = PRINTER_FAILING if printer_trouble() else None
    return jsonify(ok=True, id=job.id, printer_error=failing, qr=procedure_url(p)), 201


def procedure_url(p):
    """The procedure's page as a phone reaches it (the public address of the box)."""
    return f"{current_box().public_url()}/procedures/{p.id}"


# ---- pages of the catalog ------------------------------------------------------------------------

def _page(template, status=200, **context):
    box = current_box()
    kiosk = request.args.get("kiosk") == "1"
    response = current_app.make_response((render_template(
        template, office=box.office, settings=box.settings, kiosk=kiosk,
        reading_reset=box.settings["kiosk_reset_seconds"] * READING_RESET_FACTOR, **context), status))
    # Catalog text (and a form's HTML) comes from the hub: no script may run from it.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
    return response


@bp.get("/procedures")
def procedures_page():
    q, limit = _args()
    field = (request.args.get("field") or "").strip()
    if q or field:
        rows, total, fields = search(q, field, limit if q else MAX_LIMIT)
    else:
        rows, total, fields = [], 0, catalog_index().fields
    return _page("procedures.html", q=q, field=field, rows=rows, total=total, fields=fields)


@bp.get("/procedures/<pk>")
def procedure_page(pk):
    p = get_procedure(pk)
    shown = detail(p)
    ways = shown["ways"]
    chosen = request.args.get("way", "")
    way = next((w for w in ways if w["way"] == chosen), None) or next(
        (w for w in ways if w["way"] == "truc_tiep"), ways[0] if ways else None)
    components = _components(p)
    for c in components:  # a form file kept at the hub is downloaded from there (reachable from a phone)
        if c.get("form_sha256"):
            c["form_url"] = f"{current_box().tracking_base()}/forms/{c['form_sha256']}/{quote(c['form'])}"
    if request.args.get("kiosk") == "1":  # the kiosk has no use for a download: a QR code takes it to the phone
        for c in components:
            if c["form_url"].startswith(("https://", "http://")):
                c["qr"] = Markup(segno.make(c["form_url"], error="m").svg_inline(scale=3, dark="#0b2545"))
    return _page("procedure.html", p=shown, components=components, cases=document_cases(components), way=way,
                 related=_related(shown.get("related") or []), phone_url=procedure_url(p))


def _related(codes):
    """[(code, name or "")] of related procedures, named when the catalog holds them."""
    names = dict(Procedure.select(Procedure.code, Procedure.name).where(Procedure.code.in_(codes)).tuples()) if codes else {}
    return [(code, names.get(code, "")) for code in codes]


@bp.get("/procedures/<pk>/forms/<int:number>")
def procedure_form(pk, number):
    """Component ``number`` (from 1) printed on A4: its form, else the list of what to bring; 0: the list."""
    p = get_procedure(pk)
    components = _components(p)
    if not 0 <= number <= len(components):
        raise NotFound(f"Thủ tục này không có mẫu số {number}.")
    component = components[number - 1] if number else None
    form_html = Markup(clean_html(component["template"])) if component and component["template"] else None
    return _page("procedure_form.html", p=detail(p), components=components, component=component,
                 form_html=form_html)




# ---- places: the kiosk's directory ---------------------------------------------------------------

def category_label(code):
    return PLACE_CATEGORIES.get(code, code or "Khác")


def place_row(place):
    return {"id": place.id, "name": place.name, "category": place.category,
            "category_label": category_label(place.category), "address": place.address, "phone": place.phone,
            "opening_hours": place.opening_hours, "description": place.description}


def _place_order(row):
    order = list(PLACE_CATEGORIES)
    return (order.index(row["category"]) if row["category"] in order else len(order), fold(row["name"]))


def place_index(rows):
    """A folding search over the active places; places are few, so the index is keyed on their content."""
    key = tuple((r["id"], r["name"], r["category"], r["address"], r["description"]) for r in rows)
    cached = current_app.extensions.get("place_index")
    if cached is not None and cached[0] == key:
        return cached[1]
    index = SearchIndex([(r["id"], "", r["name"], f"{r['category_label']} {r['address']} {r['description']}")
                         for r in rows])
    current_app.extensions["place_index"] = (key, index)
    return index


@bp.get("/api/v1/places")
def places_api():
    """?q= (folding search) &category= &limit=: the active places of the commune."""
    q, limit = _args()
    category = (request.args.get("category") or "").strip()
    rows = sorted((place_row(p) for p in Place.select().where(Place.active == True)), key=_place_order)  # noqa: E712
    counts = {}
    for row in rows:
        counts[row["category"]] = counts.get(row["category"], 0) + 1
    if q:
        by_id = {r["id"]: r for r in rows}
        rows = [by_id[k] for k in place_index(rows).search(q, limit=len(rows) or 1)]
    if category:
        rows = [r for r in rows if r["category"] == category]
    categories = [{"code": c, "label": category_label(c), "count": n}
                  for c, n in sorted(counts.items(), key=lambda item: _place_order({"category": item[0], "name": ""}))]
    return jsonify(q=q, category=category, total=len(rows), places=rows[:max(limit, MAX_LIMIT) if not q else limit],
                   categories=categories)


# ---- places: management by the commune's officers ------------------------------------------------

def officer_page(view):
    """A signed-in officer; others get a page (or 401) telling them to sign in at a counter."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        officer_id = session.get("officer_id")
        officer = (Officer.get_or_none(Officer.id == officer_id, Officer.active == True)  # noqa: E712
                   if officer_id else None)
        if officer is None:
            if request.method == "GET":
                return _page("place_signin.html", status=401)
            raise MotcuaError("Bạn cần đăng nhập tại quầy để sửa thông tin địa phương.", status=401)
        if request.method != "GET":
            refuse_cross_site()
        request.officer = officer
        return view(*args, **kwargs)

    return wrapped


def _place(pk):
    place = Place.get_or_none(Place.id == pk)
    if place is None:
        raise NotFound("Không tìm thấy địa điểm này.")
    return place


def _place_form_values():
    return {k: (request.form.get(k) or "").strip() for k in PLACE_FORM_FIELDS}


def validate_place(values, current_category=None):
    errors = []
    values = dict(values)
    values["description"] = values["description"].replace("\r\n", "\n")
    if not values["name"]:
        errors.append("Cần nhập tên địa điểm.")
    for key, limit in PLACE_LIMITS.items():
        if len(values[key]) > limit:
            errors.append(f"{PLACE_LABELS[key]} dài quá {limit} ký tự.")
    if values["category"] not in PLACE_CATEGORIES and values["category"] != (current_category or None):
        errors.append("Hãy chọn một nhóm địa điểm trong danh sách.")
    phone = values["phone"]
    if phone and not all(ch.isdigit() or ch in " +.-()" for ch in phone):
        errors.append("Số điện thoại chỉ gồm chữ số, dấu cách và các dấu + . - ( ).")
    return values, errors


PLACE_LABELS = {"name": "Tên địa điểm", "category": "Nhóm", "address": "Địa chỉ", "phone": "Số điện thoại",
                "opening_hours": "Giờ mở cửa", "description": "Giới thiệu"}


@bp.get("/places")
@officer_page
def places_page():
    q = (request.args.get("q") or "").strip()[:QUERY_MAX]
    rows = sorted(Place.select(), key=lambda p: (not p.active, _place_order(place_row(p))))
    if q:
        index = SearchIndex([(p.id, "", p.name, f"{category_label(p.category)} {p.address} {p.description}")
                             for p in rows])
        by_id = {p.id: p for p in rows}
        rows = [by_id[k] for k in index.search(q, limit=len(rows) or 1)]
    return _page("places.html", rows=rows, q=q, officer=request.officer, labels=PLACE_CATEGORIES,
                 category_label=category_label, saved=request.args.get("saved"))


@bp.get("/places/new")
@officer_page
def new_place():
    return _page("place_edit.html", place=None, values={k: "" for k in PLACE_FORM_FIELDS}, errors=[],
                 officer=request.officer, categories=PLACE_CATEGORIES, labels=PLACE_LABELS)


@bp.post("/places")
@officer_page
def create_place():
    values, errors = validate_place(_place_form_values())
    if errors:
        return _page("place_edit.html", 400, place=None, values=values, errors=errors, officer=request.officer,
                     categories=PLACE_CATEGORIES, labels=PLACE_LABELS)
    place = Place.create(**values)
    return redirect(url_for("catalog.places_page", saved=place.id))


@bp.get("/places/<pk>")
@officer_page
def edit_place(pk):
    place = _place(pk)
    return _page("place_edit.html", place=place, values={k: getattr(place, k) for k in PLACE_FORM_FIELDS},
                 errors=[], officer=request.officer, categories=PLACE_CATEGORIES, labels=PLACE_LABELS)


@bp.post("/places/<pk>")
@officer_page
def save_place(pk):
    place = _place(pk)
    values, errors = validate_place(_place_form_values(), current_category=place.category)
    if errors:
        return _page("place_edit.html", 400, place=place, values=values, errors=errors, officer=request.officer,
                     categories=PLACE_CATEGORIES, labels=PLACE_LABELS)
    # Only the fields the officer changed: each is stamped, and merges with the hub's edits, on its own.
    place.save_changes(values)
    return redirect(url_for("catalog.places_page", saved=place.id))


@bp.post("/places/<pk>/active")
@officer_page
def place_active(pk):
    place = _place(pk)
    place.save_changes({"active": request.form.get("active") == "1"})
    return redirect(url_for("catalog.places_page", saved=place.id))
