"""Citizen field reports (phản ánh, kiến nghị): a problem in the commune, reported with a description,
photos and a place, acknowledged, answered and closed by the commune, published when public.

A report is written at the hub (a citizen's phone, or an Open311 client app) in the scope of its
commune, comes down to the commune's box by sync, and the commune's acts on it go back up (a shared
row: per-field last writer wins). Photos are ``Attachment`` rows naming blobs: kind "photo" from the
reporter, "answer" from the commune. Times are office-local wall-clock times, like dossiers'.

Targets per category: acknowledged within ``ack_hours`` working hours, answered within
``answer_days`` working days (``office.calendar``).
"""
import secrets
from datetime import timedelta

from peewee import BooleanField, CharField, DateTimeField, FloatField, IntegerField, TextField

from sync.capture import ReplicatedModel
from sync.policy import GLOBAL_SCOPE, HUB, SHARED

from .attachments import Attachment, attachments_of
from .errors import Conflict, MotcuaError, NotFound
from .notices import notify

NEW, ACKNOWLEDGED, IN_PROGRESS, ANSWERED, CLOSED = "new", "acknowledged", "in_progress", "answered", "closed"
STATUS = {
    NEW: "Mới gửi",
    ACKNOWLEDGED: "Đã tiếp nhận",
    IN_PROGRESS: "Đang xử lý",
    ANSWERED: "Đã trả lời",
    CLOSED: "Đã đóng",
}
OPEN_STATES = (NEW, ACKNOWLEDGED, IN_PROGRESS)
DESCRIPTION_MAX = 4000
ANSWER_MAX = 4000
ADDRESS_MAX = 300
DAILY_LIMIT = 10  # reports one phone may send in 24 hours
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no O/0, I/1, L: read aloud and typed on a phone

DEFAULT_CATEGORIES = (  # code, name, description, ack_hours, answer_days
    ("moi-truong", "Môi trường, rác thải", "Rác thải, ô nhiễm, nước thải, vệ sinh môi trường", 2, 5),
    ("giao-thong", "Đường sá, giao thông", "Đường hư hỏng, ổ gà, biển báo, cầu cống", 2, 7),
    ("chieu-sang", "Điện chiếu sáng", "Đèn đường hỏng, khu vực thiếu ánh sáng", 2, 5),
    ("trat-tu-do-thi", "Trật tự đô thị", "Lấn chiếm vỉa hè, xây dựng trái phép, quảng cáo sai quy định", 2, 7),
    ("an-ninh", "An ninh trật tự", "Gây rối, mất trật tự nơi công cộng", 2, 3),
    ("thu-tuc", "Thủ tục hành chính", "Phản ánh, kiến nghị về việc giải quyết thủ tục hành chính", 2, 10),
    ("khac", "Khác", "Các vấn đề khác của xã, phường", 2, 10),
)


class ReportCategory(ReplicatedModel):
    """What a report is about, with its targets (hub-owned, for every commune)."""

    replication = HUB

    code = CharField()
    name = CharField()
    description = TextField(default="")
    ack_hours = IntegerField(default=2)  # working hours to acknowledge
    answer_days = IntegerField(default=5)  # working days to answer
    active = BooleanField(default=True)
    sort_order = IntegerField(default=0)

    class Meta:
        indexes = ((("commune", "code"), True),)


class FieldReport(ReplicatedModel):
    """One report of one commune (shared: written at the hub, acted on by the commune's box)."""

    replication = SHARED

    code = CharField(unique=True)  # public, short
    category = CharField()  # ReportCategory.code
    description = TextField()
    lat = FloatField(null=True)
    lon = FloatField(null=True)
    address = CharField(default="")  # private: never on public pages
    public = BooleanField(default=True)
    status = CharField(default=NEW, index=True)
    phone = CharField(default="")  # private: the reporter's proved phone (or an Open311 client's field)
    source = CharField(default="web")  # web / open311
    created_at = DateTimeField(index=True)
    ack_due = DateTimeField(null=True)
    answer_due = DateTimeField(null=True)
    acknowledged_at = DateTimeField(null=True)
    assigned_to = CharField(default="")  # an officer's username
    answer = TextField(default="")
    answered_at = DateTimeField(null=True)
    answered_by = CharField(default="")
    closed_at = DateTimeField(null=True)

    @property
    def status_label(self):
        return STATUS.get(self.status, self.status)

    @property
    def open(self):
        return self.status in OPEN_STATES

    def coarse_location(self):
        """Coordinates rounded to about 100 m: what a public page shows of the place."""
        if self.lat is None or self.lon is None:
            return None
        return round(self.lat, 3), round(self.lon, 3)

    def overdue(self, now):
        """Which target is missed at ``now`` (office-local): "ack", "answer" or ""."""
        if self.status in (ANSWERED, CLOSED):
            return ""
        if self.answer_due and now > self.answer_due:
            return "answer"
        if self.status == NEW and self.ack_due and now > self.ack_due:
            return "ack"
        return ""

    def on_time(self):
        """Answered by its answer due time (None while not answered)."""
        if self.answered_at is None:
            return None
        return self.answer_due is None or self.answered_at <= self.answer_due


REPORT_MODELS = (ReportCategory, FieldReport)


# ---- categories ---------------------------------------------------------------------------------

def ensure_default_categories():
    """The categories every hub starts with (run at the hub; boxes receive them)."""
    if ReportCategory.select().where(ReportCategory.commune == GLOBAL_SCOPE).exists():
        return 0
    for order, (code, name, description, ack_hours, answer_days) in enumerate(DEFAULT_CATEGORIES):
        ReportCategory.create(commune=GLOBAL_SCOPE, code=code, name=name, description=description,
                              ack_hours=ack_hours, answer_days=answer_days, sort_order=order)
    return len(DEFAULT_CATEGORIES)


def categories(active_only=True):
    query = ReportCategory.select().where(ReportCategory.commune == GLOBAL_SCOPE)
    if active_only:
        query = query.where(ReportCategory.active == True)  # noqa: E712
    return list(query.order_by(ReportCategory.sort_order, ReportCategory.name))


def category(code):
    return ReportCategory.get_or_none(ReportCategory.commune == GLOBAL_SCOPE, ReportCategory.code == code)


def category_names():
    return {c.code: c.name for c in categories(active_only=False)}


# ---- the citizen's side (the hub) ---------------------------------------------------------------

def new_code():
    while True:
        code = "PA-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(7))
        if not FieldReport.select().where(FieldReport.code == code).exists():
            return code


def parse_coordinate(value, low, high):
    if value in (None, ""):
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        raise MotcuaError("Toạ độ không hợp lệ.", status=400) from None
    if not low <= number <= high or number != number:
        raise MotcuaError("Toạ độ không hợp lệ.", status=400)
    return number


def clean(commune, category_code, description, lat=None, lon=None, address=""):
    """(category, description, lat, lon, address) of a report as given, checked; raises MotcuaError
    (Vietnamese, status 400, ``detail.field``) on what a person must correct."""
    from .communes import find_commune

    found = category(category_code)
    if found is None or not found.active:
        raise MotcuaError("Hãy chọn lĩnh vực phản ánh.", status=400, detail={"field": "category"})
    description = (description or "").strip()
    if len(description) < 10:
        raise MotcuaError("Hãy mô tả vấn đề (ít nhất 10 ký tự).", status=400, detail={"field": "description"})
    if len(description) > DESCRIPTION_MAX:
        raise MotcuaError(f"Nội dung dài quá {DESCRIPTION_MAX} ký tự.", status=400, detail={"field": "description"})
    if not commune or find_commune(commune) is None:
        raise MotcuaError("Hãy chọn xã/phường nơi xảy ra sự việc.", status=400, detail={"field": "commune"})
    lat, lon = parse_coordinate(lat, -90, 90), parse_coordinate(lon, -180, 180)
    if (lat is None) != (lon is None):
        raise MotcuaError("Toạ độ không hợp lệ.", status=400, detail={"field": "location"})
    address = " ".join((address or "").split())[:ADDRESS_MAX]
    if lat is None and not address:
        raise MotcuaError("Hãy cho biết vị trí (cho phép lấy toạ độ) hoặc ghi địa chỉ.", status=400,
                          detail={"field": "address"})
    return found, description, lat, lon, address


def check_daily_limit(phone, now):
    if phone and FieldReport.select().where(FieldReport.phone == phone,
                                            FieldReport.created_at > now - timedelta(days=1)).count() >= DAILY_LIMIT:
        raise MotcuaError(f"Mỗi số điện thoại gửi được tối đa {DAILY_LIMIT} phản ánh trong 24 giờ. "
                          "Xin thử lại sau.", status=429)


def submit(commune, category_code, description, phone, calendar, now, lat=None, lon=None, address="",
           public=True, photos=(), source="web"):
    """A new report; ``photos``: [(name, mime, sha256, size)] of blobs already stored. Returns it."""
    found, description, lat, lon, address = clean(commune, category_code, description, lat, lon, address)
    check_daily_limit(phone, now)
    with FieldReport._meta.database.atomic():
        report = FieldReport.create(
            commune=commune, code=new_code(), category=found.code, description=description, lat=lat, lon=lon,
            address=address, public=bool(public), phone=phone or "", source=source, created_at=now,
            ack_due=calendar.due_in_hours(now, found.ack_hours),
            answer_due=calendar.due_in_days(now, found.answer_days))
        for name, mime, sha, size in photos:
            Attachment.create(commune=commune, owner=report.id, kind="photo", name=name, mime=mime, sha256=sha,
                              size=size, added_at=now, added_by="citizen")
    return report


def reports_of_phone(phone):
    """The reports a proved phone sent, newest first."""
    if not phone:
        return []
    return list(FieldReport.select().where(FieldReport.phone == phone).order_by(FieldReport.created_at.desc()))


def public_reports(commune="", status="", category_code="", start=None, end=None, codes=(), limit=200):
    query = FieldReport.select().where(FieldReport.public == True)  # noqa: E712
    if commune:
        query = query.where(FieldReport.commune == commune)
    if status == "open":
        query = query.where(FieldReport.status.in_(OPEN_STATES))
    elif status == "closed":
        query = query.where(FieldReport.status.not_in(OPEN_STATES))
    if category_code:
        query = query.where(FieldReport.category.in_(category_code.split(",")))
    if start is not None:
        query = query.where(FieldReport.created_at >= start)
    if end is not None:
        query = query.where(FieldReport.created_at <= end)
    if codes:
        query = query.where(FieldReport.code.in_(list(codes)))
    return list(query.order_by(FieldReport.created_at.desc()).limit(limit))


def public_report(code):
    report = FieldReport.get_or_none(FieldReport.code == (code or "").strip().upper())
    if report is None or not report.public:
        raise NotFound("Không tìm thấy phản ánh này (hoặc phản ánh không công khai).")
    return report


def photos_of(report, kind=None):
    rows = attachments_of(report.id)
    return [a for a in rows if kind is None or a.kind == kind]


def public_photo(sha):
    """The attachment of a public report's photo or answer photo with this hash, else None."""
    for row in Attachment.select().where(Attachment.sha256 == sha, Attachment.kind.in_(["photo", "answer"])):
        report = FieldReport.get_or_none(FieldReport.id == row.owner)
        if report is not None and report.public and row in photos_of(report):
            return row
    return None


# ---- the commune's side (the box) ---------------------------------------------------------------

def get(code):
    report = FieldReport.get_or_none(FieldReport.code == code)
    if report is None:
        raise NotFound("Không tìm thấy phản ánh.")
    return report


def commune_reports(commune, status=""):
    query = FieldReport.select().where(FieldReport.commune == commune)
    if status == "open":
        query = query.where(FieldReport.status.in_(OPEN_STATES))
    elif status in STATUS:
        query = query.where(FieldReport.status == status)
    return list(query.order_by(FieldReport.created_at.desc()).limit(500))


def _open_or_refuse(report):
    if report.status == CLOSED:
        raise Conflict("Phản ánh đã đóng.")


def acknowledge(report, now):
    _open_or_refuse(report)
    if report.acknowledged_at is None:
        report.save_changes({"acknowledged_at": now, "status": ACKNOWLEDGED if report.status == NEW else report.status})
    return report


def assign(report, username, now):
    _open_or_refuse(report)
    if report.status in (ANSWERED,):
        raise Conflict("Phản ánh đã được trả lời.")
    changes = {"assigned_to": username, "status": IN_PROGRESS}
    if report.acknowledged_at is None:
        changes["acknowledged_at"] = now
    report.save_changes(changes)
    return report


def clean_answer(text):
    text = (text or "").strip()
    if len(text) < 5:
        raise MotcuaError("Hãy viết nội dung trả lời.", status=400, detail={"field": "answer"})
    if len(text) > ANSWER_MAX:
        raise MotcuaError(f"Nội dung trả lời dài quá {ANSWER_MAX} ký tự.", status=400, detail={"field": "answer"})
    return text


def answer(report, text, officer, now, photos=()):
    """The commune's answer (text and photos [(name, mime, sha, size)]); the reporter is told."""
    _open_or_refuse(report)
    text = clean_answer(text)
    with FieldReport._meta.database.atomic():
        changes = {"answer": text, "answered_at": now, "answered_by": officer, "status": ANSWERED}
        if report.acknowledged_at is None:
            changes["acknowledged_at"] = now
        report.save_changes(changes)
        for name, mime, sha, size in photos:
            Attachment.create(commune=report.commune, owner=report.id, kind="answer", name=name, mime=mime,
                              sha256=sha, size=size, added_at=now, added_by=officer)
        notify(report.commune, "report_answered", report.id, report.phone,
               {"ma_phan_anh": report.code, "trang_thai": STATUS[ANSWERED]}, now=now)
    return report


def close(report, now):
    if report.status == CLOSED:
        return report
    if report.status != ANSWERED:
        raise Conflict("Chỉ đóng phản ánh đã được trả lời.")
    report.save_changes({"status": CLOSED, "closed_at": now})
    return report


# ---- targets ------------------------------------------------------------------------------------

def overdue_reports(now, communes=None, closed=()):
    """Open reports past a target at ``now`` (office-local), oldest due first."""
    query = FieldReport.select().where(FieldReport.status.in_(OPEN_STATES),
                                       (FieldReport.answer_due < now) |
                                       ((FieldReport.status == NEW) & (FieldReport.ack_due < now)))
    if communes:
        query = query.where(FieldReport.commune.in_(list(communes)))
    if closed:
        query = query.where(FieldReport.commune.not_in(list(closed)))
    return list(query.order_by(FieldReport.ack_due, FieldReport.created_at, FieldReport.id))


def report_counts(now, commune="", query=None):
    """Per commune: {"total", "open", "overdue", "answered", "on_time"} (answered on time) of ``query``'s
    reports (all of them by default), for the statistics."""
    query = query if query is not None else FieldReport.select()
    if commune:
        query = query.where(FieldReport.commune == commune)
    counts = {}
    for row in query:
        tally = counts.setdefault(row.commune, {"total": 0, "open": 0, "overdue": 0, "answered": 0, "on_time": 0})
        tally["total"] += 1
        if row.status in OPEN_STATES:
            tally["open"] += 1
            tally["overdue"] += bool(row.overdue(now))
        if row.answered_at is not None:
            tally["answered"] += 1
            tally["on_time"] += bool(row.on_time())
    return counts


def working_hours_late(report, now, calendar):
    """Working time past the target that is missed (a timedelta), for reminders."""
    missed = report.overdue(now)
    due = report.answer_due if missed == "answer" else report.ack_due
    return calendar.working_time(due, now) if missed else timedelta()
