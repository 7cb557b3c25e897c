"""Due dates in working days and office hours (expected values worked out by hand)."""
from datetime import datetime

import pytest

from office.calendar import WorkCalendar, calendar_from, parse_hours, timeliness

CAL = WorkCalendar()


@pytest.mark.parametrize("received, days, due", [
    # Tết: the holidays follow the lunar calendar
    ("2025-01-24 10:00", 1, "2025-02-03"),  # Mon 27 Jan .. Sat 1 Feb off
    ("2026-02-13 09:00", 2, "2026-02-24"),  # Mon 16 .. Fri 20 Feb off
    ("2027-02-03 08:00", 1, "2027-02-11"),  # Thu 4 .. Wed 10 Feb off
    ("2028-01-21 08:00", 1, "2028-01-31"),  # Mon 24 .. Sat 29 Jan off
    ("2029-02-09 08:00", 1, "2029-02-19"),  # Mon 12 .. Fri 16 Feb off
    ("2030-01-30 08:00", 1, "2030-02-07"),  # Thu 31 Jan .. Wed 6 Feb off
    # Hùng Kings day (10/3 lunar): Mon 7 April 2025
    ("2025-04-04 10:00", 1, "2025-04-08"),
    # National Day pair 1–2 September 2025 (Mon, Tue)
    ("2025-08-29 10:00", 1, "2025-09-03"),
    # Saturday 26 April 2025 is a compensatory working day (for Friday 2 May off)
    ("2025-04-25 10:00", 1, "2025-04-26"),
    ("2025-04-29 10:00", 1, "2025-05-05"),  # 30/4, 1/5, 2/5 off, then the weekend
    # the day of receipt is not counted; after closing the next working morning counts
    ("2026-03-02 16:55", 1, "2026-03-03"),
    ("2026-03-02 17:05", 1, "2026-03-04"),
    ("2026-03-07 09:00", 1, "2026-03-10"),  # received on a Saturday: counts from Monday
])
def test_due_in_working_days(received, days, due):
    assert CAL.due_in_days(datetime.fromisoformat(received), days) == datetime.fromisoformat(due + " 17:00")


def test_hub_days_off_and_working_days():
    cal = calendar_from([("2026-03-07", "working"), ("2026-03-10", "off")])
    assert cal.due_in_days(datetime(2026, 3, 6, 9), 1) == datetime(2026, 3, 7, 17)
    assert cal.due_in_days(datetime(2026, 3, 6, 9), 3) == datetime(2026, 3, 11, 17)


def test_supplement_request_pauses_the_clock():
    received = datetime(2026, 3, 2, 9)
    assert CAL.due_in_days(received, 3) == datetime(2026, 3, 5, 17)
    paused = [(datetime(2026, 3, 3, 10), datetime(2026, 3, 6, 9))]  # waiting Wed, Thu, Fri
    assert CAL.paused_working_days(paused) == 3
    assert CAL.due_in_days(received, 3, paused) == datetime(2026, 3, 10, 17)


@pytest.mark.parametrize("received, hours, due", [
    ("2026-03-02 09:00", 8, "2026-03-03 09:00"),  # 2.5 h + 3.5 h on Monday, 2 h on Tuesday
    ("2026-03-02 11:45", 4, "2026-03-03 07:30"),  # lunch: counts from 13:30
    ("2026-03-02 17:05", 4, "2026-03-03 11:00"),  # after closing: from 07:00 next morning
    ("2026-03-06 16:00", 2, "2026-03-09 08:00"),  # over the weekend
])
def test_due_in_working_hours(received, hours, due):
    assert CAL.due_in_hours(datetime.fromisoformat(received), hours) == datetime.fromisoformat(due)


def test_hour_limit_paused_while_waiting():
    paused = [(datetime(2026, 3, 2, 14), datetime(2026, 3, 2, 16))]
    assert CAL.due_in_hours(datetime(2026, 3, 2, 9), 8, paused) == datetime(2026, 3, 3, 11)


def test_timeliness_classes():
    due = datetime(2026, 3, 5, 17)
    assert timeliness(due, datetime(2026, 3, 4, 10)) == "early"
    assert timeliness(due, datetime(2026, 3, 5, 16)) == "on_time"
    assert timeliness(due, datetime(2026, 3, 5, 17, 1)) == "late"


def test_office_hours_are_configurable_and_checked():
    assert parse_hours("07:30-11:30, 13:00-16:30")[1][1].hour == 16
    with pytest.raises(ValueError):
        parse_hours("13:00-11:00")


def test_calendars_share_vietnams_holidays_instead_of_working_them_out_again(monkeypatch):
    """Every calendar made ``holidays.Vietnam()`` anew and worked out the year's lunar holidays again:
    0.26 ms of CPU on every ticket a kiosk issued (the office calendar says whether it is open)."""
    import holidays

    from office import calendar

    made = []
    real = holidays.Vietnam
    monkeypatch.setattr(holidays, "Vietnam", lambda *a, **k: made.append(1) or real(*a, **k))
    forget = getattr(calendar._vietnam, "cache_clear", lambda: None)
    forget()
    try:
        first, second = calendar_from([]), calendar_from([("2026-12-05", "working")])
        assert first.is_working_day(datetime(2026, 2, 17).date()) is False  # Tết 2026
        assert second.is_working_day(datetime(2026, 12, 5).date()) is True  # a Saturday made a working day
        assert first._national is second._national and len(made) == 1
    finally:
        forget()


def test_the_hubs_days_are_read_once_from_their_rows():
    """``calendar_from`` read its rows twice, once for the days off and once for the working days: a
    query ran twice on every ticket, and rows that can be read only once lost the working days."""
    rows = iter([("2026-12-07", "off"), ("2026-12-05", "working")])
    days = calendar_from(rows)
    assert days.days_off == {datetime(2026, 12, 7).date()} and days.working_days == {datetime(2026, 12, 5).date()}
