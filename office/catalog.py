"""The procedure catalog (thủ tục hành chính): authored at the hub, replicated to every box.

Import shape (JSON: a list of objects; CSV/XLSX: one row per procedure, same column names,
list fields one item per line, ``ways`` lines as ``way|days|hours|fee|note``)::

    code           "1.001193"                      required, digits.digits
    name           "Đăng ký khai sinh"             required
    level          "xa" | "tinh"
    field          "Hộ tịch"                       (lĩnh vực)
    agency         "UBND cấp xã"                   implementing agency
    steps          ["Bước 1: ...", ...]             trình tự
    ways           [{"way": "truc_tiep"|"truc_tuyen"|"buu_chinh", "days": 3, "hours": 0,
                     "fee": "Miễn lệ phí", "note": ""}]
    components     [{"name": "Tờ khai ...", "copies": 1, "template": "<html form, optional>"}]
    requirements   "..."                           yêu cầu, điều kiện
    legal_basis    ["Luật Hộ tịch số 60/2014/QH13", ...]
    result         "Giấy khai sinh"
    online_level   "toan_trinh" | "mot_phan" | ""
"""
import csv
import io
import json
import re
from dataclasses import dataclass, field

from peewee import BooleanField, CharField, IntegerField, TextField

from sync.capture import ReplicatedModel
from sync.policy import GLOBAL_SCOPE, HUB

from .db import database

LEVELS = {"xa": "Cấp xã", "tinh": "Cấp tỉnh"}
WAYS = {"truc_tiep": "Trực tiếp", "truc_tuyen": "Trực tuyến", "buu_chinh": "Qua bưu chính"}
ONLINE_LEVELS = {"toan_trinh": "Toàn trình", "mot_phan": "Một phần", "": "Chưa cung cấp trực tuyến"}
CODE = re.compile(r"^\d\.\d{6}$")
LIST_FIELDS = ("steps", "components", "legal_basis", "ways")
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

    class Meta:
        indexes = ((("commune", "code"), True),)

    def as_dict(self):
        return {
            "id": self.id, "code": self.code, "name": self.name, "level": self.level, "field": self.field,
            "agency": self.agency, "steps": json.loads(self.steps), "ways": json.loads(self.ways),
            "components": json.loads(self.components), "requirements": self.requirements,
            "legal_basis": json.loads(self.legal_basis), "result": self.result,
            "online_level": self.online_level, "days": self.days, "hours": self.hours,
        }


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list = field(default_factory=list)  # (row number, code, [reasons])

    def as_dict(self):
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": [{"row": r, "code": c, "reasons": why} for r, c, why in self.rejected]}


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

        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(h or "").strip() for h in next(rows, [])]
        return [dict(zip(header, ("" if v is None else v for v in row))) for row in rows if any(row)]
    raise ValueError("chỉ nhận tệp .json, .csv hoặc .xlsx")


def validate(row):
    """(clean procedure fields, reasons it is refused)."""
    reasons = []
    if not isinstance(row, dict):
        return None, ["dòng không phải một đối tượng"]
    code = str(row.get("code") or "").strip()
    name = str(row.get("name") or "").strip()
    if not CODE.match(code):
        reasons.append(f"mã thủ tục “{code}” không đúng dạng 1.001193")
    if not name:
        reasons.append("thiếu tên thủ tục")
    level = str(row.get("level") or "xa").strip()
    if level not in LEVELS:
        reasons.append(f"cấp “{level}” phải là xa hoặc tinh")
    online = str(row.get("online_level") or "").strip()
    if online not in ONLINE_LEVELS:
        reasons.append(f"mức độ trực tuyến “{online}” phải là toan_trinh, mot_phan hoặc để trống")
    lists = {}
    for name_ in LIST_FIELDS:
        try:
            lists[name_] = _as_list(row.get(name_), name_)
        except ValueError as exc:
            reasons.append(str(exc))
    ways = lists.get("ways", [])
    for way in ways:
        if way.get("way") not in WAYS:
            reasons.append(f"cách thức “{way.get('way')}” phải là truc_tiep, truc_tuyen hoặc buu_chinh")
        for key in ("days", "hours"):
            if not isinstance(way.get(key, 0), int) or way.get(key, 0) < 0:
                reasons.append(f"thời hạn ({key}) phải là số nguyên không âm")
    if reasons:
        return None, reasons
    direct = next((w for w in ways if w["way"] == "truc_tiep"), ways[0] if ways else {})
    return {
        "code": code, "name": name, "level": level, "field": str(row.get("field") or "").strip(),
        "agency": str(row.get("agency") or "").strip(), "requirements": str(row.get("requirements") or "").strip(),
        "result": str(row.get("result") or "").strip(), "online_level": online,
        "days": direct.get("days", 0), "hours": direct.get("hours", 0),
        **{k: json.dumps(v, ensure_ascii=False) for k, v in lists.items()},
    }, []


def _as_list(value, name):
    if value in (None, ""):
        return []
    if isinstance(value, list):
        items = value
    elif isinstance(value, str):
        items = [line.strip() for line in value.splitlines() if line.strip()]
    else:
        raise ValueError(f"{name} phải là danh sách")
    if name == "ways":
        return [_way(item) for item in items]
    if name == "components":
        return [item if isinstance(item, dict) else {"name": str(item), "copies": 1} for item in items]
    return [str(item) for item in items]


def _way(item):
    if isinstance(item, dict):
        way = dict(item)
    else:
        parts = [p.strip() for p in str(item).split("|")] + [""] * 5
        way = {"way": parts[0], "days": parts[1] or 0, "hours": parts[2] or 0, "fee": parts[3], "note": parts[4]}
    for key in ("days", "hours"):
        try:
            way[key] = int(way.get(key) or 0)
        except (TypeError, ValueError):
            raise ValueError(f"thời hạn “{way.get(key)}” không phải số") from None
    way.setdefault("fee", "")
    way.setdefault("note", "")
    return way


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
