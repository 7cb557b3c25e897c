"""The shape of a national procedure record, as the public-service portal publishes it.

A record has several levels (Cấp Bộ, Cấp Tỉnh, Cấp Xã...), the decision that published it, its type,
who may apply, the deciding agency, the receiving place, agencies consulted, related procedures, the
result with its national result code, several ways of submitting — each with its own time limit,
fee and description — and documents grouped as "phải nộp" (hand in), "phải xuất trình" (show) or
notes, per case when the procedure has cases, each with a form file and how many originals (bản
chính) and copies (bản sao) to bring.

Everything here is plain data in, plain data out (no database): ``normalise_*`` take what an import
file holds (JSON values, or the text of a CSV/XLSX cell) and give the stored form, or raise
``ValueError`` with a Vietnamese reason. A time limit that is not stated stays not stated.
"""
import re

LEVELS = {"bo": "Cấp Bộ", "tinh": "Cấp tỉnh", "xa": "Cấp xã", "huyen": "Cấp huyện (trước 1/7/2025)"}
LEVEL_WORDS = {"bo": "bo", "cap bo": "bo", "trung uong": "bo", "tinh": "tinh", "cap tinh": "tinh",
               "xa": "xa", "cap xa": "xa", "huyen": "huyen", "cap huyen": "huyen"}
WAYS = {"truc_tiep": "Trực tiếp", "truc_tuyen": "Trực tuyến", "buu_chinh": "Qua bưu chính"}
WAY_WORDS = {"truc tiep": "truc_tiep", "truc tuyen": "truc_tuyen", "buu chinh": "buu_chinh",
             "dich vu buu chinh": "buu_chinh", "qua buu chinh": "buu_chinh"}
# Time-limit units; "" is "not stated" and stays so (never "within the day", never working days).
UNITS = {"ngay_lam_viec": "ngày làm việc", "ngay": "ngày", "gio": "giờ làm việc", "thang": "tháng",
         "trong_ngay": "Trong ngày làm việc", "": "Không quy định thời hạn"}
UNIT_WORDS = [  # (pattern over the unaccented, lower-case text, unit)
    (r"ngay lam viec", "ngay_lam_viec"), (r"gio", "gio"), (r"thang", "thang"), (r"ngay", "ngay")]
GROUPS = {"nop": "Giấy tờ phải nộp", "xuat_trinh": "Giấy tờ phải xuất trình", "ghi_chu": "Lưu ý"}
GROUP_WORDS = {"nop": "nop", "phai nop": "nop", "xuat trinh": "xuat_trinh", "phai xuat trinh": "xuat_trinh",
               "ghi chu": "ghi_chu", "luu y": "ghi_chu", "note": "ghi_chu"}
FORM_FILE = re.compile(r"\.(docx?|pdf|xlsx?|odt)$", re.I)
SHA256 = re.compile(r"[0-9a-f]{64}")
RESULT_CODE = re.compile(r"^KQ\.[A-Z0-9]+\.\d{6}$")
CODE = re.compile(r"^\d\.\d{6}$")

_FOLD = str.maketrans("àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ",
                      "aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd")


def fold(text):
    """Lower case without diacritics, single spaces: how import words are compared."""
    return " ".join(str(text or "").lower().translate(_FOLD).split())


def code_of(text):
    """A procedure code as written ("1.001193", or "1001193" without its dot)."""
    text = str(text or "").strip()
    if re.fullmatch(r"\d{7}", text):
        return f"{text[0]}.{text[1:]}"
    return text


# ---- levels --------------------------------------------------------------------------------------

def normalise_levels(value):
    """["xa", "tinh", ...] from a list or text ("Cấp Tỉnh, Cấp Xã"); unknown words are refused."""
    items = value if isinstance(value, list) else re.split(r"[,;\n|]", str(value or ""))
    levels = []
    for item in items:
        word = fold(item)
        if not word:
            continue
        level = LEVEL_WORDS.get(word)
        if level is None:
            raise ValueError(f"cấp thực hiện “{item}” không rõ (Cấp Bộ, Cấp tỉnh hoặc Cấp xã)")
        if level not in levels:
            levels.append(level)
    return levels


def primary_level(levels):
    """The level a commune office shows first: xã, else tỉnh, else the first one."""
    for level in ("xa", "tinh"):
        if level in levels:
            return level
    return levels[0] if levels else "xa"


# ---- time limits ---------------------------------------------------------------------------------

def parse_limit(text):
    """(amount, unit) of a time limit as the portal writes it: "03 Ngày làm việc", "15 Ngày",
    "Trong ngày", "4 giờ", "01 tháng"; ("", "") when nothing is stated."""
    word = fold(text)
    if not word or word in ("khong", "-") or word.startswith(("khong quy dinh", "chua quy dinh")):
        return None, ""
    if word.startswith("trong ngay") or word in ("ngay lam viec", "trong ngay lam viec"):
        return None, "trong_ngay"
    number = re.search(r"(\d+(?:[.,]\d+)?)", word)
    if number is None:
        raise ValueError(f"thời hạn “{text}” không rõ (ví dụ: 3 ngày làm việc, 15 ngày, 4 giờ, trong ngày)")
    amount = float(number.group(1).replace(",", "."))
    amount = int(amount) if amount == int(amount) else amount
    for pattern, unit in UNIT_WORDS:
        if re.search(pattern, word):
            return amount, unit
    raise ValueError(f"thời hạn “{text}” không có đơn vị (ngày làm việc, ngày, giờ, tháng)")


def limit_label(amount, unit):
    """How a time limit reads to a citizen; "not stated" says so."""
    if unit in ("", "trong_ngay") or amount in (None, ""):
        return UNITS.get(unit, UNITS[""]) if unit in ("", "trong_ngay") else UNITS[""]
    shown = f"{amount:g}" if isinstance(amount, float) else str(amount)
    return f"{shown} {UNITS[unit]}"


def normalise_way(item):
    """One way of submitting: {way, amount, unit, fee, description} (plus the older fields days,
    hours and note, which boxes of the previous release read)."""
    if isinstance(item, dict):
        raw = dict(item)
    else:  # a CSV/XLSX line: way | time limit | fee | description
        parts = [p.strip() for p in str(item).split("|")] + [""] * 5
        if parts[0] in WAYS and re.fullmatch(r"\d*", parts[1]) and re.fullmatch(r"\d*", parts[2]):
            # the previous shape: code | working days | working hours | fee | note
            raw = {"way": parts[0], "days": parts[1], "hours": parts[2], "fee": parts[3], "note": parts[4]}
        else:
            raw = {"way": parts[0], "limit": parts[1], "fee": parts[2], "description": parts[3]}
    way = raw.get("way", "")
    way = way if way in WAYS else WAY_WORDS.get(fold(way), way)
    if way not in WAYS:
        raise ValueError(f"cách thức “{raw.get('way')}” phải là Trực tiếp, Trực tuyến hoặc Dịch vụ bưu chính")
    if "unit" in raw:
        unit, amount = str(raw.get("unit") or ""), raw.get("amount")
        if unit not in UNITS:
            raise ValueError(f"đơn vị thời hạn “{unit}” phải là một trong: {', '.join(u for u in UNITS if u)}")
        if unit in ("", "trong_ngay"):
            amount = None
        elif not isinstance(amount, (int, float)) or isinstance(amount, bool) or amount <= 0:
            raise ValueError(f"thời hạn “{amount}” phải là số dương")
    elif "limit" in raw:
        amount, unit = parse_limit(raw.get("limit"))
    else:  # the older shape: whole working days or hours; 0 and 0 meant "within the day"
        amount, unit = _legacy_limit(raw)
    description = str(raw.get("description") or raw.get("note") or "").strip()
    return {"way": way, "amount": amount, "unit": unit, "fee": str(raw.get("fee") or "").strip(),
            "description": description, **_legacy_fields(amount, unit), "note": description}


def _legacy_limit(raw):
    values = {}
    for key in ("days", "hours"):
        try:
            values[key] = int(raw.get(key) or 0)
        except (TypeError, ValueError):
            raise ValueError(f"thời hạn “{raw.get(key)}” không phải số") from None
        if values[key] < 0:
            raise ValueError(f"thời hạn ({key}) phải là số nguyên không âm")
    if values["hours"]:
        return values["hours"], "gio"
    if values["days"]:
        return values["days"], "ngay_lam_viec"
    return None, "trong_ngay"


def _legacy_fields(amount, unit):
    """days/hours as the previous release computes due dates from (working days or hours only)."""
    whole = int(amount) if isinstance(amount, (int, float)) else 0
    return {"days": whole if unit == "ngay_lam_viec" else 0, "hours": whole if unit == "gio" else 0}


# ---- documents -----------------------------------------------------------------------------------

def normalise_document(item):
    """{name, group, case, originals, copies, form, form_url}; a row with no original and no copy
    is a note, not a paper to bring."""
    if isinstance(item, str) and "|" not in item:  # a bare name, as the previous shape listed papers
        item = {"name": item.strip(), "copies": 1}
    if isinstance(item, dict):
        raw = dict(item)
    else:  # a CSV line: group | case | name | originals | copies | form file | form address
        parts = [p.strip() for p in str(item).split("|")] + [""] * 7
        raw = {"group": parts[0], "case": parts[1], "name": parts[2], "originals": parts[3],
               "copies": parts[4], "form": parts[5], "form_url": parts[6], "form_sha256": parts[7],
               "form_size": parts[8]}
    name = str(raw.get("name") or "").strip()
    if not name:
        raise ValueError("giấy tờ không có tên")
    group = str(raw.get("group") or "nop")
    group = group if group in GROUPS else GROUP_WORDS.get(fold(group))
    if group is None:
        raise ValueError(f"nhóm giấy tờ “{raw.get('group')}” phải là phải nộp, phải xuất trình hoặc ghi chú")
    copies = _count(raw.get("copies"), name)
    if isinstance(item, dict) and raw.get("originals") is None and group == "nop":
        # the older shape: {name, copies} counted papers ("bản") without saying which kind
        originals, copies = None, max(copies, 1)
    else:
        originals = _count(raw.get("originals"), name)
        if group != "ghi_chu" and originals == 0 and copies == 0:
            group = "ghi_chu"
    form = str(raw.get("form") or "").strip()
    if form and not FORM_FILE.search(form):
        raise ValueError(f"mẫu đơn “{form}” phải là tệp .doc, .docx, .pdf, .xls, .xlsx hoặc .odt")
    doc = {"name": name, "group": group, "case": str(raw.get("case") or "").strip(),
           "originals": originals, "copies": copies, "form": form,
           "form_url": str(raw.get("form_url") or "").strip()}
    sha = str(raw.get("form_sha256") or "").strip().lower()
    if sha:  # the form file itself, kept at the hub (content-addressed): /forms/<sha256>/<form>
        if not SHA256.fullmatch(sha) or not form:
            raise ValueError(f"tệp mẫu của “{name}”: mã SHA-256 phải có 64 chữ số hex, kèm tên tệp")
        doc["form_sha256"], doc["form_size"] = sha, _count(raw.get("form_size"), name)
    if raw.get("template"):  # a printable HTML form kept with the catalog (sanitised when shown)
        doc["template"] = str(raw["template"])
    return doc


def _count(value, name):
    if value in (None, ""):
        return 0
    try:
        number = int(float(str(value).replace(",", ".")))
    except ValueError:
        raise ValueError(f"số bản của “{name}” phải là số") from None
    if number < 0:
        raise ValueError(f"số bản của “{name}” không được âm")
    return number


def cases_of(documents):
    """[(case, {group: [documents]})] in the record's order; "" is the case of every applicant."""
    cases = {}
    for doc in documents:
        groups = cases.setdefault(doc.get("case", ""), {g: [] for g in GROUPS})
        groups[doc.get("group", "nop")].append(doc)
    return list(cases.items())


def bring_label(doc):
    """"1 bản chính, 2 bản sao" — what the citizen brings of one document."""
    if doc.get("originals") is None:  # the older shape
        return f"{doc.get('copies') or 1} bản"
    parts = []
    if doc.get("originals"):
        parts.append(f"{doc['originals']} bản chính")
    if doc.get("copies"):
        parts.append(f"{doc['copies']} bản sao")
    return ", ".join(parts)
