"""When the kiosk hands out numbers: the office calendar's working days and hours.

A number is taken from ``early`` minutes before a period of the office hours opens until it
closes, on working days only (Vietnam's holidays and the hub's days off and working days, see
``office.calendar``). Outside that, the kiosk says when the office opens and issues nothing.
Times are the office's local wall-clock times (naive datetimes).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
LOOKAHEAD_DAYS = 60  # no opening within two months: the calendar is wrong, say so plainly


@dataclass(frozen=True)
class Opening:
    issuing: bool  # a number can be taken now
    open: bool  # inside the office hours now
    opens_at: datetime | None  # the next opening when not open (local time)
    issue_from: datetime | None  # when numbers are handed out before that opening
    closes_at: datetime | None  # the end of the current period when open or issuing
    message: str  # for the citizen, in Vietnamese; empty when the office is open

    def as_dict(self):
        stamp = lambda moment: moment.isoformat(timespec="minutes") if moment else None  # noqa: E731
        return {"issuing": self.issuing, "open": self.open, "opens_at": stamp(self.opens_at),
                "issue_from": stamp(self.issue_from), "closes_at": stamp(self.closes_at), "message": self.message}


def opening(calendar, now, early_minutes=0):
    """The kiosk's state at local time ``now`` under ``calendar`` (a ``WorkCalendar``)."""
    early = timedelta(minutes=max(int(early_minutes), 0))
    day = now.date()
    for _ in range(LOOKAHEAD_DAYS):
        if calendar.is_working_day(day):
            for start_at, end_at in calendar.hours:
                start, end = datetime.combine(day, start_at), datetime.combine(day, end_at)
                if now >= end:
                    continue
                if now >= start:
                    return Opening(True, True, None, None, end, "")
                issue_from = max(start - early, datetime.combine(day, datetime.min.time()))  # never the day before
                issuing = now >= issue_from
                lunch = day == now.date() and now.time() >= calendar.hours[0][1]
                return Opening(issuing, False, start, issue_from, end if issuing else None,
                               _closed_message(now, start, issue_from, issuing, lunch))
        day += timedelta(days=1)
    return Opening(False, False, None, None, None,
                   "Kiosk chưa có lịch làm việc của Bộ phận Một cửa. Xin quý khách hỏi cán bộ tại quầy.")


def _closed_message(now, start, issue_from, issuing, lunch):
    when = _when(now, start)
    if issuing:
        return f"Các quầy bắt đầu làm việc lúc {when}. Quý khách lấy số và chờ đến lượt."
    if lunch:
        lead = f"Bộ phận Một cửa đang nghỉ trưa, làm việc lại lúc {when}."
    elif start.date() == now.date():
        lead = f"Bộ phận Một cửa chưa đến giờ làm việc. Các quầy mở lúc {when}."
    else:
        lead = f"Bộ phận Một cửa đã hết giờ làm việc. Mời quý khách quay lại lúc {when}."
    if issue_from < start:
        lead += f" Kiosk phát số từ {_clock(issue_from)}."
    return lead


def _clock(moment):
    return f"{moment.hour}:{moment.minute:02d}"


def _when(now, moment):
    """“7:00 hôm nay”, “7:00 sáng mai (thứ Hai, 07/12/2026)”, “7:00 thứ Hai, 07/12/2026”."""
    part = "sáng" if moment.hour < 12 else "chiều"
    date_text = f"{WEEKDAYS[moment.weekday()]}, {moment:%d/%m/%Y}"
    if moment.date() == now.date():
        return f"{_clock(moment)} {part} nay"
    if moment.date() == now.date() + timedelta(days=1):
        return f"{_clock(moment)} {part} mai ({date_text})"
    return f"{_clock(moment)} {part} {date_text}"
