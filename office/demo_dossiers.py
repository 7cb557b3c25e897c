"""A few demo dossiers in the states a citizen meets (received, papers missing, result ready,
result handed over), so the demo's tracking pages answer. Written through ``office.dossiers`` like
the desk does: each is in the box's change log and reaches the hub with the next sync."""
from datetime import datetime, time, timedelta
from types import SimpleNamespace

from .calendar import WorkCalendar
from .catalog_sample import sample
from .db import database
from . import dossiers

# (applicant, procedure name in the sample catalog, what happens to it after receipt)
DEMO_DOSSIERS = (
    ("Nguyễn Văn An", "Cấp giấy xác nhận tình trạng hôn nhân", "received"),
    ("Trần Thị Bình", "Đăng ký lại khai sinh", "supplement"),
    ("Lê Văn Cường", "Trợ cấp xã hội hằng tháng đối với người cao tuổi", "finished"),
    ("Phạm Thị Dung", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản", "returned"),
)
STATE_LABELS = {"received": "đang giải quyết", "supplement": "cần bổ sung giấy tờ",
                "finished": "đã có kết quả, chờ nhận", "returned": "đã trả kết quả"}


def _procedures():
    rows = {row["name"]: row for row in sample(len(DEMO_DOSSIERS) * 5)}
    return {name: SimpleNamespace(code=rows[name]["code"], name=name, hours=0, days=rows[name]["ways"][0]["days"])
            for _, name, _ in DEMO_DOSSIERS}


def _working_day_before(calendar, day, count):
    for _ in range(count):
        day -= timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= timedelta(days=1)
    return day


def seed_demo_dossiers(agency_code, officer, now, calendar=None):
    """The demo dossiers, once: [(dossier, state)]; nothing when the box holds dossiers already
    (a second demo run on the same data keeps the first one's)."""
    if dossiers.Dossier.select().exists():
        return []
    calendar = calendar or WorkCalendar()
    procedures = _procedures()
    days = [datetime.combine(_working_day_before(calendar, now.date(), n), time(9, 0)) for n in (3, 2, 1)]
    made = []
    with database.atomic():
        for index, (name, procedure, state) in enumerate(DEMO_DOSSIERS):
            received_at = days[0] + timedelta(minutes=20 * index)
            dossier = dossiers.receive(calendar, procedures[procedure], {"name": name, "phone": "0912000111"},
                                       agency_code, officer=officer, now=received_at,
                                       components=[{"name": "Tờ khai", "copies": 1}])
            if state == "supplement":
                dossiers.request_supplement(dossier, "Bản sao giấy chứng sinh có chứng thực; căn cước của người "
                                            "yêu cầu (bản chính để đối chiếu)", actor=officer, now=days[1])
            elif state != "received":
                dossiers.transfer(dossier, "Thẩm định hồ sơ", handler=officer, actor=officer, now=days[1])
                dossiers.finish(dossier, actor=officer, now=days[2], note="Đã ký")
                if state == "returned":
                    dossiers.return_result(dossier, actor=officer, now=days[2] + timedelta(hours=2))
            made.append((dossier, state))
    return made
