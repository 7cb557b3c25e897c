"""Overdue field reports in the hub's reminders: a commune's leader is told of its reports past their
acknowledgement or answer target, a handler of those assigned to them; answered ones drop out."""
from datetime import datetime

from central.reminders import preview
from office import reports
from office.calendar import WorkCalendar
from office.reports import ensure_default_categories
from sync.capture import init_node
from tests.central.test_reminders import SONG_CONG, hub_db, lan, leader, rule, settings  # noqa: F401 (fixtures)

SENT = datetime(2026, 9, 8, 9, 0)  # Tuesday


def report(description, assigned=""):
    made = reports.submit(SONG_CONG, "moi-truong", description, "0912345678", WorkCalendar(), SENT, address="Tổ 3")
    if assigned:
        reports.assign(made, assigned, SENT)
    return made


def test_overdue_reports_are_reminded_to_the_leader_and_the_assigned_handler(hub_db):  # noqa: F811
    init_node("hub", "*")
    ensure_default_categories()
    not_acknowledged = report("Rác tồn đọng ở chợ ba ngày")
    assigned = report("Nước thải chảy ra đường", assigned="Nguyễn Thị Lan")
    answered = report("Cống bị tắc sau mưa lớn")
    reports.answer(answered, "Đã thông cống, cảm ơn ông/bà.", "canbo1", datetime(2026, 9, 8, 10, 0))
    r = rule(what="overdue", times="08:00")
    lan(), leader()
    now = datetime(2026, 9, 16, 8, 0)  # the answer target (5 working days) is 15/9 17:00
    planned = {p.name: p for p in preview(r, now)}
    assert planned["Phạm Văn Hùng"].codes == [not_acknowledged.code, assigned.code]
    assert "2 phản ánh quá hạn" in planned["Phạm Văn Hùng"].text
    assert f"- {not_acknowledged.code} (phản ánh): quá hạn" in planned["Phạm Văn Hùng"].text
    assert planned["Nguyễn Thị Lan"].codes == [assigned.code]
    assert answered.code not in planned["Phạm Văn Hùng"].text
    early = {p.name: p for p in preview(r, datetime(2026, 9, 8, 11, 30))}  # only the acknowledgement is late
    assert early["Phạm Văn Hùng"].codes == [not_acknowledged.code]
