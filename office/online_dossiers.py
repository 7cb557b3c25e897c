"""Online submission (nộp hồ sơ trực tuyến, Decree 42/2022 "toàn trình" / "một phần").

A citizen who proved their phone at the hub submits a dossier of a procedure the catalog marks
online, for a commune the hub serves, with one file per paper of the procedure's document list.
The hub writes the dossier in that commune's scope with status 1 "Mới đăng ký" and an
``Attachment`` row per file (the row names the blob by sha256 and size); both come down to the
commune's box by sync. There an officer accepts it (status 2: the due date runs from acceptance,
with the procedure's online time limit; then it is handled like any dossier) or refuses it (status 3,
form 03). The citizen is told through the notices on acceptance, refusal and result.
"""
import json
import re

from .attachments import Attachment, attachments_of
from .catalog import Procedure, json_list
from .catalog_shape import bring_label, normalise_document
from .clock import utcnow
from .db import database
from .dossiers import STATUS, Dossier, DossierSequence, _due, _event, _act, new_secret, refuse as refuse_dossier
from .errors import Conflict, MotcuaError
from .notices import notify

ONLINE = ("toan_trinh", "mot_phan")
WAY = "truc_tuyen"
CITIZEN_ACTOR = "Công dân (trực tuyến)"
CODE_PREFIX = "TT"  # boxes number dossiers with their agency's id; online ones never collide with those
ID_NUMBER = re.compile(r"^\d{12}$")
NAME_MAX, ADDRESS_MAX = 120, 300


def online_procedures(commune):
    """Active procedures open to online submission for ``commune`` (the catalog's and its own), by name."""
    rows = (Procedure.select()
            .where(Procedure.active == True, Procedure.online_level.in_(ONLINE),  # noqa: E712
                   Procedure.commune.in_(["*", commune]))
            .order_by(Procedure.field, Procedure.name))
    return list(rows)


def online_procedure(commune, code):
    procedure = (Procedure.select()
                 .where(Procedure.code == code, Procedure.active == True, Procedure.online_level.in_(ONLINE),  # noqa: E712
                        Procedure.commune.in_(["*", commune]))
                 .first())
    if procedure is None:
        raise MotcuaError("Thủ tục này không nhận hồ sơ trực tuyến tại xã/phường đã chọn.", status=404)
    return procedure


def papers(procedure):
    """The papers a citizen uploads, in the record's order: [{index, name, bring, required, case}].
    A paper "phải nộp" of no particular case is required; papers of a case, and those to present
    (xuất trình), may be added when they apply. Notes are not papers."""
    out = []
    for index, item in enumerate(json_list(procedure.components)):
        try:
            doc = normalise_document(item)
        except ValueError:
            continue
        if doc["group"] == "ghi_chu":
            continue
        out.append({"index": index, "name": doc["name"], "bring": bring_label(doc), "case": doc["case"],
                    "required": doc["group"] == "nop" and not doc["case"]})
    return out


def normalise_phone(raw):
    """0xxxxxxxxx from "+84 912 345 678", "84912345678", "0912.345.678"; None when not a phone."""
    digits = re.sub(r"[\s.()-]", "", str(raw or ""))
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isdigit():
        return None
    if digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if len(digits) == 10 and digits.startswith("0") else None


def check_applicant(values):
    """(clean values, {field: Vietnamese error}) of the applicant's details as typed."""
    name = " ".join(str(values.get("name") or "").split())
    id_number = re.sub(r"[\s.]", "", str(values.get("id_number") or ""))
    phone = normalise_phone(values.get("phone"))
    address = " ".join(str(values.get("address") or "").split())
    errors = {}
    if not name:
        errors["name"] = "Hãy nhập họ và tên người nộp hồ sơ."
    elif len(name) > NAME_MAX:
        errors["name"] = f"Họ và tên dài quá {NAME_MAX} ký tự."
    if not ID_NUMBER.match(id_number):
        errors["id_number"] = "Số định danh cá nhân (CCCD) phải có đúng 12 chữ số."
    if phone is None:
        errors["phone"] = "Số điện thoại di động phải có 10 chữ số, bắt đầu bằng 0 (ví dụ 0912345678)."
    if not address:
        errors["address"] = "Hãy nhập địa chỉ liên hệ (nơi cư trú)."
    elif len(address) > ADDRESS_MAX:
        errors["address"] = f"Địa chỉ dài quá {ADDRESS_MAX} ký tự."
    return {"name": name, "id_number": id_number, "phone": phone or "", "address": address}, errors


def missing_papers(procedure, files):
    """Names of the required papers with no file; ``files``: {paper index: [file, ...]}."""
    return [p["name"] for p in papers(procedure) if p["required"] and not files.get(p["index"])]


def _next_online_number(commune, day):
    key = f"{CODE_PREFIX}-{commune}"
    query = (DossierSequence.insert(agency=key, day=day.isoformat(), last=1)
             .on_conflict(conflict_target=[DossierSequence.agency, DossierSequence.day],
                          update={DossierSequence.last: DossierSequence.last + 1})
             .returning(DossierSequence.last))
    return list(query.execute())[0].last


def online_code(commune, local_day, number):
    """``TT-<commune>-<yyMMdd>-<NNNN>``, e.g. TT-05518-261205-0007: unique across the hub."""
    return f"{CODE_PREFIX}-{commune}-{local_day:%y%m%d}-{number:04d}"


def submit(calendar, commune, procedure, applicant, files, now):
    """Write the online dossier at the hub, in ``commune``'s scope, status 1, with one ``Attachment``
    per file. ``applicant``: clean values of ``check_applicant``; ``files``: {paper index: [{name, mime,
    sha256, size}]}; ``now``: office-local time. Returns it."""
    if procedure.online_level not in ONLINE:
        raise MotcuaError("Thủ tục này không nhận hồ sơ trực tuyến.")
    missing = missing_papers(procedure, files)
    if missing:
        raise MotcuaError("Còn thiếu giấy tờ bắt buộc: " + "; ".join(missing) + ".")
    listed = {p["index"]: p for p in papers(procedure)}
    components = [{"name": listed[i]["name"], "copies": len(items)} for i, items in sorted(files.items())
                  if i in listed and items]
    due = _due(calendar, procedure, now, (), way=WAY, given=calendar.due_in_days(now, 1))
    with database.atomic():
        number = _next_online_number(commune, now.date())
        dossier = Dossier.create(
            commune=commune, code=online_code(commune, now, number), procedure_code=procedure.code,
            procedure_name=procedure.name, applicant_name=applicant["name"],
            applicant_id_number=applicant["id_number"], applicant_phone=applicant["phone"],
            applicant_address=applicant["address"], way=WAY, components=json.dumps(components, ensure_ascii=False),
            status=1, stage="Chờ tiếp nhận", handler="", agency="", received_at=now, due_at=due,
            tracking_secret=new_secret())
        for index, items in sorted(files.items()):
            for item in items:
                Attachment.create(commune=commune, owner=dossier.id, kind="paper",
                                  label=listed[index]["name"] if index in listed else "",
                                  name=item["name"][:200], mime=item["mime"], sha256=item["sha256"],
                                  size=item["size"], added_at=utcnow(), added_by=CITIZEN_ACTOR)
        _event(dossier, "submit", now, CITIZEN_ACTOR, "")
    return dossier


def waiting(limit=300):
    """Online dossiers the office has not taken in yet (status 1), oldest first."""
    return list(Dossier.select().where(Dossier.status == 1, Dossier.way == WAY)
                .order_by(Dossier.received_at, Dossier.code).limit(limit))


def accept(calendar, dossier, procedure, agency_code, actor="", now=None, due_at=None):
    """Take an online dossier in: status 2, received now, the due date from now with the procedure's
    online time limit; the citizen is told (notice "dossier_received")."""
    if dossier.status != 1:
        raise Conflict(f"Hồ sơ {dossier.code} đã ở trạng thái “{STATUS[dossier.status]}”.")
    now = now or utcnow()
    due = _due(calendar, procedure, now, (), way=WAY, given=due_at)
    return _act(dossier, "receive", actor, now, "Tiếp nhận hồ sơ nộp trực tuyến", status=2, stage="Tiếp nhận",
                handler=actor, agency=agency_code, received_at=now, due_at=due)


def refuse(dossier, reason, actor="", now=None):
    """Refuse an online dossier (form 03), and tell the citizen why (notice "dossier_refused")."""
    now = now or utcnow()
    with database.atomic():
        refuse_dossier(dossier, reason, actor=actor, now=now)
        event = dossier_last_event(dossier, "refuse")
        notify(dossier.commune, "dossier_refused", event.id, dossier.applicant_phone, {
            "ten_nguoi_dan": dossier.applicant_name, "ma_ho_so": dossier.code, "thu_tuc": dossier.procedure_name,
            "trang_thai": STATUS[3], "ghi_chu": reason.strip()}, now=utcnow())
    return dossier


def dossier_last_event(dossier, action):
    from .dossiers import DossierEvent

    return (DossierEvent.select().where(DossierEvent.dossier == dossier.id, DossierEvent.action == action)
            .order_by(DossierEvent.at.desc(), DossierEvent.id.desc()).first())


def files_of(dossier, store):
    """The dossier's attachments with whether their bytes are in ``store``: [(attachment, here)]."""
    return [(a, store.has(a.sha256)) for a in attachments_of(dossier.id)]
