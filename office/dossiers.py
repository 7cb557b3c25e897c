"""One-stop dossiers (hồ sơ): receipt, stages and agencies, pauses, result, and every step logged.

A dossier row is shared between the commune's box and the hub (agencies without a box act on
the hub's web): its fields merge last-writer-wins. Every action is also an append-only event,
so the history is never overwritten. Status codes are the national portal's (DESIGN §5).
"""
import hmac
import json
import re
import secrets

from peewee import CharField, CompositeKey, DateTimeField, IntegerField, TextField

from sync.capture import ReplicatedModel
from sync.policy import APPEND, HUB, SHARED

from .catalog import time_limit
from .clock import utcnow
from .db import BaseModel, database
from .errors import Conflict, MotcuaError, NotFound
from .notices import notify

STATUS = {
    1: "Mới đăng ký",
    2: "Được tiếp nhận",
    3: "Không được tiếp nhận",
    4: "Đang xử lý",
    5: "Yêu cầu bổ sung giấy tờ",
    6: "Yêu cầu thực hiện nghĩa vụ tài chính",
    7: "Công dân yêu cầu rút hồ sơ",
    8: "Dừng xử lý",
    9: "Đã xử lý xong",
    10: "Đã trả kết quả",
}
OPEN = (1, 2, 4, 5, 6)
IN_HAND = (2, 4, 5, 6)  # open and received: status 1 waits for the commune to accept it (online)
ACTIONS = {
    "submit": "Nộp hồ sơ trực tuyến",
    "receive": "Tiếp nhận hồ sơ",
    "transfer": "Chuyển xử lý",
    "supplement": "Yêu cầu bổ sung giấy tờ",
    "resume": "Nhận đủ giấy tờ bổ sung",
    "refuse": "Từ chối tiếp nhận",
    "apologize": "Xin lỗi, gia hạn thời gian giải quyết",
    "stop": "Dừng giải quyết hồ sơ",
    "finish": "Đã xử lý xong",
    "return": "Trả kết quả",
    "withdraw": "Công dân rút hồ sơ",
}
WAYS = ("truc_tiep", "truc_tuyen", "buu_chinh")
SECRET_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off paper without doubt
SECRET_LENGTH = 6


class Agency(ReplicatedModel):
    """An agency dossiers go to (liên thông); those without a box act on the hub's web."""

    replication = HUB

    code = CharField()
    name = CharField()

    class Meta:
        indexes = ((("commune", "code"), True),)


class Dossier(ReplicatedModel):
    replication = SHARED

    code = CharField(unique=True)
    procedure_code = CharField()
    procedure_name = CharField()
    applicant_name = CharField()
    applicant_id_number = CharField(default="")
    applicant_phone = CharField(default="")
    applicant_address = CharField(default="")
    way = CharField(default="truc_tiep")
    components = TextField(default="[]")  # the documents received
    ticket = CharField(null=True)  # id of the queue ticket it came from
    status = IntegerField(default=2)
    stage = CharField(default="Tiếp nhận")
    handler = CharField(default="")
    agency = CharField(default="")  # code of the agency holding it now
    received_at = DateTimeField()  # office-local wall-clock times from here on
    due_at = DateTimeField()
    paused_since = DateTimeField(null=True)
    paused_days = IntegerField(default=0)
    finished_at = DateTimeField(null=True)
    returned_at = DateTimeField(null=True)
    timeliness = CharField(default="")  # early / on_time / late, once finished
    # Printed on the appointment slip and in its QR code: public tracking shows the dossier only
    # to whoever holds it. NULL: received on a box older than the secret (until a slip is reprinted).
    tracking_secret = CharField(null=True)
    # Phi địa giới (Decree 118/2025): received here for another commune of the province, whose office
    # decides it ("" = this commune decides); the result is collected where ``collect_at`` says.
    decided_by = CharField(default="", index=True)
    collect_at = CharField(default="")

    def routed_to(self, scope):
        return bool(self.decided_by) and self.decided_by == scope

    @property
    def decider(self):
        """The commune whose office decides the dossier."""
        return self.decided_by or self.commune

    class Meta:
        # the statistics (office.stats) read periods of receipt, per commune, and open dossiers past due
        # (covering the summaries: no row is read, only the index; the deciding commune included)
        indexes = ((("received_at", "commune", "procedure_code", "status", "timeliness", "due_at", "decided_by"),
                    False),
                   (("commune", "received_at", "procedure_code", "status", "timeliness", "due_at", "decided_by"),
                    False),
                   (("status", "due_at"), False), (("ticket",), False))

    @property
    def status_label(self):
        return STATUS[self.status]


class DossierEvent(ReplicatedModel):
    replication = APPEND

    dossier = CharField(index=True)  # the dossier's id (rows may arrive before their dossier)
    action = CharField()
    at = DateTimeField()
    actor = CharField(default="")
    stage = CharField(default="")
    agency = CharField(default="")
    status = IntegerField()
    note = TextField(default="")

    @property
    def label(self):
        return ACTIONS.get(self.action, self.action)

    def routed_to(self, scope):
        dossier = Dossier.get_or_none(Dossier.id == self.dossier)
        return dossier is not None and dossier.routed_to(scope)


class DossierSequence(BaseModel):
    """Last dossier number per agency and office-local day (only the box issues for its agency)."""

    agency = CharField()
    day = CharField()
    last = IntegerField(default=0)

    class Meta:
        primary_key = CompositeKey("agency", "day")


def dossier_code(agency_code, local_day, number):
    """``{agency id}-{yyMMdd}-{NNNN}``, e.g. 000.00.06.H56-231027-0361."""
    return f"{agency_code}-{local_day:%y%m%d}-{number:04d}"


def receive(calendar, procedure, applicant, agency_code, officer="", components=(), way="truc_tiep",
            ticket=None, now=None, due_at=None, decided_by="", collect_at=""):
    """Take a dossier in at the counter; ``now`` is office-local time. Returns the dossier.
    ``due_at``: the appointment the officer sets when the procedure states no time limit."""
    now = now or utcnow()
    name = (applicant.get("name") or "").strip()
    if not name:
        raise MotcuaError("Cần họ tên người nộp hồ sơ.")
    if way not in WAYS:
        raise MotcuaError("Cách thức nộp không hợp lệ.")
    id_number = "".join(ch for ch in applicant.get("id_number", "") if ch.isdigit())
    if id_number and len(id_number) not in (9, 12):
        raise MotcuaError("Số định danh/CCCD phải có 12 chữ số (hoặc CMND 9 chữ số).")
    phone = "".join(ch for ch in applicant.get("phone", "") if ch.isdigit())
    if phone and not 9 <= len(phone) <= 11:
        raise MotcuaError("Số điện thoại không hợp lệ.")
    due = _due(calendar, procedure, now, (), way=way, given=due_at)
    decided_by, collect_at = _routing(decided_by, collect_at)
    with database.atomic():
        number = _next_number(agency_code, now)
        dossier = Dossier.create(
            code=dossier_code(agency_code, now, number), procedure_code=procedure.code,
            procedure_name=procedure.name, applicant_name=name, applicant_id_number=id_number,
            applicant_phone=phone, applicant_address=(applicant.get("address") or "").strip(),
            way=way, components=json.dumps(list(components), ensure_ascii=False), ticket=ticket,
            status=2, stage="Tiếp nhận", handler=officer, agency=agency_code, received_at=now, due_at=due,
            tracking_secret=new_secret(), decided_by=decided_by, collect_at=collect_at,
        )
        _event(dossier, "receive", now, officer, _routing_note(decided_by))
    return dossier


def _routing(decided_by, collect_at):
    """(decided_by, collect_at) checked: another commune of this box's province, a real one."""
    from .communes import find_commune
    from sync.capture import this_node

    decided_by = (decided_by or "").strip()
    if not decided_by:
        return "", ""
    here = this_node().scope
    other, own = find_commune(decided_by), find_commune(here)
    if other is None:
        raise MotcuaError(f"Không có xã/phường mã {decided_by}.")
    if decided_by == here:
        return "", ""
    if own is not None and other.province_code != own.province_code:
        raise MotcuaError("Chỉ nhận hồ sơ phi địa giới của xã/phường trong cùng tỉnh, thành phố.")
    collect_at = (collect_at or "").strip() or here
    if collect_at == "deciding":
        collect_at = decided_by
    if collect_at not in (here, decided_by):
        raise MotcuaError("Nơi nhận kết quả phải là nơi nộp hoặc nơi giải quyết hồ sơ.")
    return decided_by, collect_at


def _routing_note(decided_by):
    if not decided_by:
        return ""
    from .communes import find_commune

    commune = find_commune(decided_by)
    return f"Hồ sơ phi địa giới: chuyển {commune.full_name if commune else decided_by} giải quyết"


def _due(calendar, procedure, received, paused, way="truc_tiep", given=None):
    """The appointment from the procedure's time limit for ``way``, in its own unit; a procedure
    that states no limit takes the date the officer ``given`` (there is no rule to compute one)."""
    amount, unit = time_limit(procedure, way)
    if unit == "gio":
        return calendar.due_in_hours(received, amount, paused)
    if unit == "ngay_lam_viec":
        return calendar.due_in_days(received, int(amount), paused)
    if unit == "ngay":
        return calendar.due_in_calendar_days(received, int(amount), paused)
    if unit == "thang":
        return calendar.due_in_months(received, int(amount), paused)
    if unit == "trong_ngay":
        return calendar.due_in_days(received, 0, paused)
    if given is None:
        raise MotcuaError("Thủ tục này không quy định thời hạn giải quyết: hãy nhập ngày, giờ hẹn trả kết quả.")
    if given <= received:
        raise MotcuaError("Ngày hẹn trả kết quả phải sau lúc tiếp nhận.")
    return given


def _next_number(agency_code, now):
    cursor = database.execute_sql(
        "INSERT INTO dossier_sequence (agency, day, last) VALUES (?, ?, 1) "
        "ON CONFLICT (agency, day) DO UPDATE SET last = last + 1 RETURNING last",
        (agency_code, now.date().isoformat()),
    )
    return cursor.fetchone()[0]


def rebuild_numbers():
    """Dossier counters per agency and day from the codes held: a restored box goes on numbering."""
    last = {}
    for (code,) in Dossier.select(Dossier.code).tuples():
        rest = code.rsplit("-", 2)  # agency ids contain dots, not dashes
        if len(rest) != 3 or not rest[2].isdigit() or len(rest[1]) != 6:
            continue
        day = f"20{rest[1][:2]}-{rest[1][2:4]}-{rest[1][4:]}"
        key = (rest[0], day)
        last[key] = max(last.get(key, 0), int(rest[2]))
    with database.atomic():
        for (agency, day), number in last.items():
            database.execute_sql(
                "INSERT INTO dossier_sequence (agency, day, last) VALUES (?, ?, ?) "
                "ON CONFLICT (agency, day) DO UPDATE SET last = max(last, excluded.last)", (agency, day, number))


def get(code):
    dossier = Dossier.get_or_none(Dossier.code == code.strip())
    if dossier is None:
        raise NotFound("Không tìm thấy hồ sơ với mã này.")
    return dossier


def transfer(dossier, stage, handler="", agency=None, actor="", note="", now=None):
    """Hand the dossier to a stage (and handler), here or at another agency (liên thông)."""
    _require_open(dossier)
    if dossier.status == 5:
        raise Conflict("Hồ sơ đang chờ công dân bổ sung giấy tờ.")
    if not (stage or "").strip():
        raise MotcuaError("Cần tên bước xử lý.")
    return _act(dossier, "transfer", actor, now, note, status=4, stage=stage.strip(), handler=handler,
                agency=agency or dossier.agency)


def request_supplement(dossier, note, actor="", now=None):
    """Form 02: the clock stops until the citizen brings what is missing."""
    _require_open(dossier)
    if not (note or "").strip():
        raise MotcuaError("Cần ghi rõ giấy tờ phải bổ sung.")
    now = now or utcnow()
    return _act(dossier, "supplement", actor, now, note, status=5, paused_since=now)


def resume(calendar, dossier, procedure, actor="", now=None):
    """The missing papers came: the clock runs again and the due date moves by the pause."""
    if dossier.status != 5 or dossier.paused_since is None:
        raise Conflict("Hồ sơ không ở trạng thái chờ bổ sung.")
    now = now or utcnow()
    pause = [(dossier.paused_since, now)]
    if time_limit(procedure, dossier.way)[1] == "gio":
        waited = calendar.working_time(dossier.paused_since, now).total_seconds() / 3600
        due, days = calendar.due_in_hours(dossier.due_at, waited), 0
    else:
        days = calendar.paused_working_days(pause)
        due = calendar.add_working_days(dossier.due_at, days)
    return _act(dossier, "resume", actor, now, "", status=4, paused_since=None,
                paused_days=dossier.paused_days + days, due_at=due)


def refuse(dossier, reason, actor="", now=None):
    """Form 03: not taken in, with the reason."""
    if dossier.status not in (1, 2, 5):
        raise Conflict("Chỉ từ chối được hồ sơ chưa đi vào xử lý.")
    if not (reason or "").strip():
        raise MotcuaError("Cần lý do từ chối.")
    return _act(dossier, "refuse", actor, now, reason, status=3)


def apologize(dossier, new_due, reason, actor="", now=None):
    """Form 04: late: a letter of apology with a new date."""
    _require_open(dossier)
    if new_due <= dossier.due_at:
        raise MotcuaError("Ngày hẹn mới phải sau ngày hẹn cũ.")
    return _act(dossier, "apologize", actor, now, f"{reason} (hẹn lại {new_due:%H:%M %d/%m/%Y})", due_at=new_due)


def stop(dossier, reason, actor="", now=None):
    """Stop handling (status 8, form 05 of Circular 03/2025): e.g. the citizen did not supplement in
    time, or the case is no longer the office's to decide. The reason goes on the notice."""
    _require_open(dossier)
    if not (reason or "").strip():
        raise MotcuaError("Hãy ghi lý do dừng giải quyết hồ sơ: lý do được in trên thông báo (mẫu 05).")
    return _act(dossier, "stop", actor, now, reason.strip(), status=8, paused_since=None)


def finish(dossier, actor="", note="", now=None):
    from .calendar import timeliness

    _require_open(dossier)
    now = now or utcnow()
    return _act(dossier, "finish", actor, now, note, status=9, finished_at=now,
                timeliness=timeliness(dossier.due_at, now), stage="Trả kết quả")


def return_result(dossier, actor="", note="", now=None):
    if dossier.status != 9:
        raise Conflict("Hồ sơ chưa xử lý xong, chưa thể trả kết quả.")
    now = now or utcnow()
    return _act(dossier, "return", actor, now, note, status=10, returned_at=now)


def withdraw(dossier, actor="", note="", now=None):
    _require_open(dossier)
    return _act(dossier, "withdraw", actor, now, note, status=7)


def _require_open(dossier):
    if dossier.status not in OPEN:
        raise Conflict(f"Hồ sơ {dossier.code} đã ở trạng thái “{dossier.status_label}”.")


def _act(dossier, action, actor, now, note, **changes):
    now = now or utcnow()
    with database.atomic():
        dossier.save_changes(changes)
        _event(dossier, action, now, actor, note)
    return dossier


CITIZEN_NOTICES = {"receive": "dossier_received", "supplement": "dossier_supplement", "finish": "dossier_ready"}


def _event(dossier, action, now, actor, note=""):
    event = DossierEvent.create(commune=dossier.commune, dossier=dossier.id, action=action, at=now,
                                actor=actor or "", stage=dossier.stage, agency=dossier.agency,
                                status=dossier.status, note=note or "")
    if action in CITIZEN_NOTICES:  # written with the event: it travels even if the box is offline
        notify(dossier.commune, CITIZEN_NOTICES[action], event.id, dossier.applicant_phone, {
            "ten_nguoi_dan": dossier.applicant_name, "ma_ho_so": dossier.code,
            "thu_tuc": dossier.procedure_name, "trang_thai": STATUS[dossier.status],
            "ngay_hen": f"{dossier.due_at:%H:%M %d/%m/%Y}", "ghi_chu": note or "",
        }, now=utcnow())
    return event


def history(dossier):
    return list(DossierEvent.select().where(DossierEvent.dossier == dossier.id).order_by(DossierEvent.at,
                                                                                        DossierEvent.id))


def overdue(now):
    return Dossier.select().where(Dossier.status.in_(IN_HAND), Dossier.due_at < now)


def mask_name(name):
    """"Nguyễn Văn An" -> "N***** V** An": enough for the citizen to recognise, not to identify."""
    words = name.split()
    if not words:
        return ""
    masked = [w[0] + "*" * (len(w) - 1) for w in words[:-1]]
    return " ".join(masked + [words[-1]])


def new_secret():
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def ensure_secret(dossier):
    """The dossier's tracking secret, made now for a dossier received before secrets existed
    (its new slip carries it; the hub learns it with the next sync)."""
    if not dossier.tracking_secret:
        with database.atomic():
            dossier.save_changes({"tracking_secret": new_secret()})
    return dossier.tracking_secret


def clean_secret(raw):
    """A secret as typed: case, spaces and dashes do not matter."""
    return re.sub(r"[\s-]+", "", str(raw or "")).upper()


def secret_matches(dossier, secret):
    expected = dossier.tracking_secret or ""
    return bool(expected) and hmac.compare_digest(expected.encode(), clean_secret(secret).encode())


def track(code, secret, now=None, office_title=None):
    """Public tracking: the dossier's progress for whoever holds its code and the secret of its
    slip; with the code alone, only that such a dossier exists."""
    dossier = get(code)
    if not secret_matches(dossier, secret):
        return {"code": dossier.code, "found": True, "verified": False}
    return tracking_view(dossier, now=now, office_title=office_title)


def _collect_place(dossier):
    """The office where the result is collected when it is not the receiving one (phi địa giới)."""
    if not dossier.collect_at or dossier.collect_at == dossier.commune:
        return ""
    from .communes import find_commune
    from .models import Office

    office = Office.get_or_none(Office.commune == dossier.collect_at)
    commune = find_commune(dossier.collect_at)
    return office.name if office else (f"UBND {commune.full_name}" if commune else dossier.collect_at)


def tracking_view(dossier, now=None, office_title=None):
    """What the holder of the code and its secret may see: never the ID number, the phone or the
    address. ``guidance``: the progress steps and what to do now, in plain words."""
    from .calendar import calendar_from
    from .dossier_guidance import guidance
    from .models import Holiday, Office, Procedure

    now = now or utcnow()
    office = Office.get_or_none(Office.commune == dossier.commune)
    days = Holiday.select(Holiday.day, Holiday.kind).where(Holiday.commune.in_(["*", dossier.commune]))
    events = history(dossier)
    procedure = Procedure.get_or_none(Procedure.code == dossier.procedure_code)
    by_hours = bool(procedure) and time_limit(procedure, dossier.way)[1] == "gio"
    return {
        "found": True,
        "verified": True,
        "code": dossier.code,
        "procedure": dossier.procedure_name,
        "applicant": mask_name(dossier.applicant_name),
        "status": dossier.status,
        "status_label": dossier.status_label,
        "stage": dossier.stage,
        "received_at": f"{dossier.received_at:%H:%M %d/%m/%Y}",
        "due_at": f"{dossier.due_at:%H:%M %d/%m/%Y}",
        "late": dossier.status in IN_HAND and now > dossier.due_at,
        "history": [{"at": f"{e.at:%H:%M %d/%m/%Y}", "action": e.label, "stage": e.stage,
                     "status_label": STATUS.get(e.status, "")} for e in events],
        "guidance": guidance(dossier, events, now, calendar_from(days.tuples()), office.name if office else "",
                             by_hours, **({"office_title": office_title} if office_title else {}),
                             collect_place=_collect_place(dossier)),
    }
