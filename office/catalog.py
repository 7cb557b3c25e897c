"""The procedure catalog (thủ tục hành chính): authored at the hub, replicated to every box.

Import shape — the national public-service portal's record (JSON: a list of objects; CSV/XLSX: one
row per procedure with the same column names, list fields one item per line; an XLSX may carry the
documents on a second sheet "giay_to", one row per document with the procedure's ``code``)::

    code            "1.001193" (or "1001193")      required
    name            "Thủ tục đăng ký khai sinh"     required
    levels          ["xa", "tinh"] or "Cấp Tỉnh, Cấp Xã"   several; other levels are kept, not refused
    decision        "1872/QĐ-BTP"                  the decision that published it
    kind            "TTHC được luật giao quy định chi tiết"   procedure type
    applicants      "Công dân Việt Nam"            who may apply
    field           "Hộ tịch"                      (lĩnh vực)
    agency          "UBND cấp xã"                  the agency that decides
    receiving_place "Trung tâm Phục vụ hành chính công cấp xã"
    consulted       ["Công an cấp xã"]             agencies consulted
    related         ["1.000894"]                   related procedures (codes)
    steps           ["Bước 1: ...", ...]
    ways            [{"way": "truc_tiep"|"truc_tuyen"|"buu_chinh", "amount": 3,
                      "unit": "ngay_lam_viec"|"ngay"|"gio"|"thang"|"trong_ngay"|"",
                      "fee": "Miễn lệ phí", "description": "..."}]
                    or lines "Trực tiếp | 03 Ngày làm việc | Miễn lệ phí | ..."; a limit that is not
                    stated (unit "") stays not stated
    documents       [{"group": "nop"|"xuat_trinh"|"ghi_chu", "case": "", "name": "Tờ khai ...",
                      "originals": 1, "copies": 0, "form": "To-khai.docx", "form_url": "https://..."}]
                    or lines "group | case | name | originals | copies | form | form_url"; a row with
                    no original and no copy is a note
    requirements    "..."
    legal_basis     ["Luật Hộ tịch số 60/2014/QH13", ...]
    result          "Giấy khai sinh"
    result_code     "KQ.G15.000031"
    online_level    "toan_trinh" | "mot_phan" | ""
    online_url      "https://dichvucong.gov.vn/..."

The previous shape (``level`` "xa"|"tinh", ways with whole ``days``/``hours``, ``components`` as
{name, copies, template}) is still read. ``components`` (the column) holds the documents;
``details`` the rest of the record; ``days``/``hours`` the direct way's limit as the previous
release computes due dates.
"""
import csv
import io
import json
import re
from dataclasses import dataclass, field

from peewee import BooleanField, CharField, IntegerField, TextField

from sync.capture import ReplicatedModel
from sync.policy import GLOBAL_SCOPE, HUB

from . import catalog_shape as shape

from .db import database

LEVELS = shape.LEVELS
WAYS = shape.WAYS
ONLINE_LEVELS = {"toan_trinh": "Toàn trình", "mot_phan": "Một phần", "": "Chưa cung cấp trực tuyến"}
CODE = re.compile(r"^\d\.\d{6}$")
LIST_FIELDS = ("steps", "legal_basis", "consulted", "related")
DETAIL_TEXT = ("decision", "kind", "applicants", "receiving_place", "result_code", "online_url")
MAX_ROWS = 20_000


class Procedure(ReplicatedModel):
    replication = HUB

    code = CharField()
    name = CharField()
    level = CharField(default="xa")
    field = CharField(default="")
    agency = CharField(default="")
    steps = TextField(default="[]")
    ways = TextField(default="[]")
    components = TextField(default="[]")
    requirements = TextField(default="")
    legal_basis = TextField(default="[]")
    result = TextField(default="")
    online_level = CharField(default="")
    days = IntegerField(default=0)  # time limit of direct receipt, in working days (0: same day / hours)
    hours = IntegerField(default=0)  # or in working hours
    active = BooleanField(default=True)
    details = TextField(default="{}")  # the rest of the national record (levels, decision, ...): JSON

    class Meta:
        indexes = ((("commune", "code"), True),)

    def as_dict(self):
        return {
            "id": self.id, "code": self.code, "name": self.name, "level": self.level, "field": self.field,
            "agency": self.agency, "steps": json.loads(self.steps), "ways": json.loads(self.ways),
            "components": json.loads(self.components), "requirements": self.requirements,
            "legal_basis": json.loads(self.legal_basis), "result": self.result,
            "online_level": self.online_level, "days": self.days, "hours": self.hours,
            **self.detail_fields(),
        }

    def detail_fields(self):
        return details_of(self)

    def levels(self):
        return self.detail_fields()["levels"]


def details_of(row):
    """The rest of the national record of a procedure (or of a row read as a tuple with ``details``
    and ``level``), with its levels always there."""
    try:
        details = json.loads(row.details or "{}")
    except ValueError:
        details = {}
    details = details if isinstance(details, dict) else {}
    if not details.get("levels"):
        details["levels"] = [row.level]
    return details


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list = field(default_factory=list)  # (row number, code, [reasons])

    def as_dict(self):
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": [{"row": r, "code": c, "reasons": why} for r, c, why in self.rejected]}


DOCUMENTS_SHEET = "giay_to"
DOCUMENT_COLUMNS = ("code", "group", "case", "name", "originals", "copies", "form", "form_url", "form_sha256",
                    "form_size", "template")
EXPORT_COLUMNS = ("code", "name", "levels", "decision", "kind", "applicants", "field", "agency",
                  "receiving_place", "consulted", "related", "steps", "ways", "requirements", "legal_basis",
                  "result", "result_code", "online_level", "online_url")


def parse_file(name, data):
    """Rows (dicts) of a JSON, CSV or XLSX catalog file."""
    lower = name.lower()
    if lower.endswith(".json"):
        rows = json.loads(data.decode("utf-8-sig"))
        if not isinstance(rows, list):
            raise ValueError("tệp JSON phải là một danh sách thủ tục")
        return rows
    if lower.endswith(".csv"):
        return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    if lower.endswith(".xlsx"):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = _sheet_rows(book.worksheets[0])
        if DOCUMENTS_SHEET in book.sheetnames:  # one row per document, keyed by the procedure's code
            by_code = {}
            for doc in _sheet_rows(book[DOCUMENTS_SHEET]):
                by_code.setdefault(shape.code_of(doc.pop("code", "")), []).append(doc)
            for row in rows:
                docs = by_code.get(shape.code_of(row.get("code")))
                if docs and not row.get("documents"):
                    row["documents"] = docs
        return rows
    raise ValueError("chỉ nhận tệp .json, .csv hoặc .xlsx")


def _sheet_rows(sheet):
    rows = sheet.iter_rows(values_only=True)
    header = [str(h or "").strip() for h in next(rows, [])]
    return [dict(zip(header, ("" if v is None else v for v in row))) for row in rows if any(row)]


def validate(row):
    """(clean procedure fields, reasons it is refused). Only what is really broken is refused:
    procedures of any level are kept (the kiosk filters by level)."""
    reasons = []
    if not isinstance(row, dict):
        return None, ["dòng không phải một đối tượng"]
    code = shape.code_of(row.get("code"))
    name = " ".join(str(row.get("name") or "").split())
    if not CODE.match(code):
        reasons.append(f"mã thủ tục “{code}” không đúng dạng 1.001193")
    if not name:
        reasons.append("thiếu tên thủ tục")
    try:
        levels = shape.normalise_levels(row.get("levels") or row.get("level") or "xa")
    except ValueError as exc:
        reasons.append(str(exc))
        levels = []
    online = str(row.get("online_level") or "").strip()
    if online not in ONLINE_LEVELS:
        reasons.append(f"mức độ trực tuyến “{online}” phải là toan_trinh, mot_phan hoặc để trống")
    result_code = str(row.get("result_code") or "").strip()
    if result_code and not shape.RESULT_CODE.match(result_code):
        reasons.append(f"mã kết quả “{result_code}” không đúng dạng KQ.G15.000031")
    lists = {}
    for name_ in LIST_FIELDS:
        try:
            lists[name_] = _as_list(row.get(name_), name_)
        except ValueError as exc:
            reasons.append(str(exc))
    ways, documents = [], []
    try:
        ways = [shape.normalise_way(item) for item in _as_list(row.get("ways"), "ways", keep=True)]
    except ValueError as exc:
        reasons.append(str(exc))
    try:
        docs = row.get("documents") if row.get("documents") not in (None, "") else row.get("components")
        documents = [shape.normalise_document(item) for item in _as_list(docs, "documents", keep=True)]
    except ValueError as exc:
        reasons.append(str(exc))
    if reasons:
        return None, reasons
    direct = next((w for w in ways if w["way"] == "truc_tiep"), ways[0] if ways else None)
    details = {"levels": levels, "limit": ({"amount": direct["amount"], "unit": direct["unit"]} if direct
                                           else {"amount": None, "unit": ""})}
    details.update({k: str(row.get(k) or "").strip() for k in DETAIL_TEXT})
    details.update({k: lists.pop(k) for k in ("consulted", "related")})
    details["related"] = [shape.code_of(c) for c in details["related"]]
    return {
        "code": code, "name": name, "level": shape.primary_level(levels),
        "field": str(row.get("field") or "").strip(), "agency": str(row.get("agency") or "").strip(),
        "requirements": str(row.get("requirements") or "").strip(),
        "result": str(row.get("result") or "").strip(), "online_level": online,
        "days": direct["days"] if direct else 0, "hours": direct["hours"] if direct else 0,
        "ways": _dumps(ways), "components": _dumps(documents), "details": _dumps(details),
        **{k: _dumps(v) for k, v in lists.items()},
    }, []


def _dumps(value):
    return json.dumps(value, ensure_ascii=False, sort_keys=isinstance(value, dict))


def _as_list(value, name, keep=False):
    """A list from JSON or from a cell's lines; ``keep``: items stay as they are (dicts or lines)."""
    if value in (None, ""):
        return []
    if isinstance(value, list):
        items = value
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("["):  # a JSON list in a CSV cell
            try:
                items = json.loads(text)
            except ValueError:
                raise ValueError(f"{name}: danh sách JSON không đọc được") from None
        else:
            items = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        raise ValueError(f"{name} phải là danh sách")
    return items if keep else [str(item) for item in items]


def record(p):
    """The procedure in the import shape: what an export writes and an import reads back."""
    details = p.detail_fields()
    ways = [{k: w.get(k) for k in ("way", "amount", "unit", "fee", "description")}
            for w in (shape.normalise_way(w) for w in json_list(p.ways))]
    documents = [shape.normalise_document(d) for d in json_list(p.components)]
    return {
        "code": p.code, "name": p.name, "levels": details.get("levels") or [p.level],
        **{k: details.get(k, "") for k in DETAIL_TEXT},
        "consulted": details.get("consulted", []), "related": details.get("related", []),
        "field": p.field, "agency": p.agency, "steps": json_list(p.steps), "ways": ways,
        "documents": documents, "requirements": p.requirements, "legal_basis": json_list(p.legal_basis),
        "result": p.result, "online_level": p.online_level,
    }


def json_list(text):
    """The list a JSON text column holds ([] when it holds something else or is broken)."""
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def export_file(procedures, kind):
    """(bytes, mimetype) of the procedures as JSON, CSV (documents as lines in one cell) or XLSX
    (documents on the sheet "giay_to")."""
    records = [record(p) for p in procedures]
    if kind == "json":
        return json.dumps(records, ensure_ascii=False, indent=1).encode("utf-8"), "application/json"
    rows = [{k: _cell(k, r[k]) for k in EXPORT_COLUMNS} for r in records]
    if kind == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=[*EXPORT_COLUMNS, "documents"])
        writer.writeheader()
        for row, r in zip(rows, records):
            writer.writerow({**row, "documents": "\n".join(_document_line(d) for d in r["documents"])})
        return out.getvalue().encode("utf-8-sig"), "text/csv"
    if kind == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "thu_tuc"
        sheet.append(list(EXPORT_COLUMNS))
        for row in rows:
            sheet.append([row[k] for k in EXPORT_COLUMNS])
        docs = book.create_sheet(DOCUMENTS_SHEET)
        docs.append(list(DOCUMENT_COLUMNS))
        for r in records:
            for d in r["documents"]:
                docs.append([r["code"], *("" if d.get(k) is None else d[k] for k in DOCUMENT_COLUMNS[1:])])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    raise ValueError("chỉ xuất được .json, .csv hoặc .xlsx")


def _cell(key, value):
    if key == "ways":
        return "\n".join(_way_line(w) for w in value)
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return value


def _way_line(way):
    limit = shape.limit_label(way["amount"], way["unit"]) if way["unit"] else "Không quy định"
    return " | ".join([shape.WAYS[way["way"]], limit, way["fee"], way["description"]]).rstrip(" |")


def _document_line(doc):
    counts = ["" if doc[k] is None else str(doc[k]) for k in ("originals", "copies")]
    stored = [doc.get("form_sha256", ""), str(doc.get("form_size", "")) if doc.get("form_sha256") else ""]
    return " | ".join([doc["group"], doc["case"], doc["name"], *counts, doc["form"], doc["form_url"], *stored]).rstrip(" |")


def time_limit(procedure, way="truc_tiep"):
    """(amount, unit) of the procedure's time limit for ``way`` (its own line when the record has
    one, else the direct way's); unit "" when the record states none."""
    for item in json_list(getattr(procedure, "ways", "[]")):
        if isinstance(item, dict) and item.get("way") == way:
            try:
                normal = shape.normalise_way(item)
            except ValueError:
                break
            return normal["amount"], normal["unit"]
    limit = procedure.detail_fields().get("limit") if hasattr(procedure, "detail_fields") else None
    if isinstance(limit, dict) and limit.get("unit", "") in shape.UNITS:
        return limit.get("amount"), limit.get("unit", "")
    if procedure.hours:
        return procedure.hours, "gio"
    if procedure.days:
        return procedure.days, "ngay_lam_viec"
    return None, "trong_ngay"


def import_file(name, data):
    """Import a catalog file; rows are numbered as a person sees them (after a header row)."""
    rows = parse_file(name, data)
    return import_rows(rows, first_row=1 if name.lower().endswith(".json") else 2)


def import_rows(rows, first_row=1):
    """Create or update procedures by code; refused rows are reported, the good ones kept."""
    if len(rows) > MAX_ROWS:
        raise ValueError(f"tệp có quá {MAX_ROWS} thủ tục")
    report = ImportReport()
    existing = {p.code: p for p in Procedure.select().where(Procedure.commune == GLOBAL_SCOPE)}
    seen = set()
    with database.atomic():
        for number, row in enumerate(rows, start=first_row):
            clean, reasons = validate(row)
            code = clean["code"] if clean else str((row or {}).get("code", "") if isinstance(row, dict) else "")
            if clean and code in seen:
                reasons, clean = [f"mã {code} trùng với một dòng trước"], None
            if not clean:
                report.rejected.append((number, code, reasons))
                continue
            seen.add(code)
            procedure = existing.get(code)
            if procedure is None:
                Procedure.create(commune=GLOBAL_SCOPE, **clean)
                report.created += 1
                continue
            if procedure.save_changes(clean):
                report.updated += 1
            else:
                report.unchanged += 1
    return report
