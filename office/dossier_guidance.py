"""What the citizen should do now, in plain words: the progress steps of a dossier and, for its
status, what to bring (supplement), that the deadline stands still and the date it would move to,
or where and when to collect the result. Used by public tracking on the box and at the hub.

Times are office-local wall-clock times, as dossiers hold them. No personal data is read here.
"""
from .calendar import DEFAULT_HOURS, WorkCalendar

STEPS = ("Đã tiếp nhận", "Đang giải quyết", "Có kết quả, chờ nhận", "Đã nhận kết quả")
ENDED = {3: "Không được tiếp nhận", 7: "Đã rút hồ sơ", 8: "Dừng xử lý"}
WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
BRING = ("Khi đến, xin mang theo giấy tiếp nhận hồ sơ và hẹn trả kết quả (giấy hẹn) và căn cước của người "
         "nộp; nhờ người khác đến thay thì người đó mang thêm giấy uỷ quyền.")


def day_of(moment):
    """“thứ Hai 09/03/2026”."""
    return f"{WEEKDAYS[moment.weekday()]} {moment:%d/%m/%Y}"


def when(moment):
    """“08:00 thứ Hai 09/03/2026”."""
    return f"{moment:%H:%M} {day_of(moment)}"


def office_hours(hours=DEFAULT_HOURS):
    """“07:00–11:30 và 13:30–17:00”."""
    return " và ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in hours)


def is_open(calendar, now):
    return calendar.is_working_day(now.date()) and any(a <= now.time() < b for a, b in calendar.hours)


def next_opening(calendar, now):
    """``now`` when the office is open, else the start of its next office period."""
    if is_open(calendar, now):
        return now
    return next(calendar._periods_from(now))[0]


def steps(status):
    """[{label, state}] with state done / current / todo / stopped; a paused dossier's current
    step says so."""
    reached = {2: 1, 4: 1, 5: 1, 6: 1, 1: 0, 9: 2, 10: 3}.get(status)
    if reached is None:  # refused, withdrawn or stopped: received, then ended
        return [{"label": STEPS[0], "state": "done"}, {"label": ENDED.get(status, "Kết thúc"), "state": "stopped"}]
    rows = []
    for index, label in enumerate(STEPS):
        state = "done" if index < reached or (index == reached == 3) else "current" if index == reached else "todo"
        if index == 1 and status == 5:
            label = "Chờ quý khách bổ sung giấy tờ"
        rows.append({"label": label, "state": state})
    return rows


def moved_due(calendar, dossier, since, back, by_hours=False):
    """The due date once the missing papers come at ``back``, as ``dossiers.resume`` will set it."""
    if by_hours:
        waited = calendar.working_time(since, back).total_seconds() / 3600
        return calendar.due_in_hours(dossier.due_at, waited)
    return calendar.add_working_days(dossier.due_at, calendar.paused_working_days([(since, back)]))


OFFICE_TITLE = "Trung tâm Phục vụ hành chính công"  # the setting office_title's default (Decree 118/2025)


def guidance(dossier, events, now, calendar=None, place="", by_hours=False, office_title=OFFICE_TITLE,
             collect_place=""):
    """{headline, tone, lines, steps, final} for the holder of the slip. ``events`` are the
    dossier's events, oldest first; ``place`` the office's name (e.g. “UBND Phường Sông Công”);
    ``by_hours``: the procedure's time limit is in working hours; ``collect_place``: where the result
    is collected when that is another commune's office (phi địa giới)."""
    calendar = calendar or WorkCalendar()
    desk = office_title + (f" của {place}" if place else "")
    hours = f"giờ làm việc {office_hours(calendar.hours)}, từ thứ Hai đến thứ Sáu (trừ ngày nghỉ lễ)"
    last = {e.action: e for e in events}
    status, lines, tone = dossier.status, [], "info"
    if status == 5:
        asked = last.get("supplement")
        headline, tone = "Cần quý khách bổ sung giấy tờ", "warn"
        lines.append(f"Giấy tờ cần mang đến: {asked.note if asked and asked.note else 'xin hỏi Bộ phận một cửa.'}")
        lines.append(f"Nơi nộp: {desk}, {hours}.")
        since = dossier.paused_since or (asked.at if asked else now)
        lines.append(f"Thời hạn giải quyết đang tạm dừng từ {when(since)} cho đến khi quý khách nộp đủ giấy tờ; "
                     "thời gian chờ không bị tính vào hạn.")
        come = next_opening(calendar, now)
        moved = moved_due(calendar, dossier, since, come, by_hours)
        rule = ("giờ làm việc chờ được cộng thêm vào hạn" if by_hours
                else "mỗi ngày làm việc chờ thêm lùi hẹn một ngày")
        lines.append(f"Nếu quý khách nộp đủ vào {day_of(come)}, ngày hẹn trả kết quả mới sẽ là {when(moved)} "
                     f"({rule}).")
        lines.append(BRING)
    elif status == 1:
        headline = "Hồ sơ đã nộp trực tuyến, đang chờ tiếp nhận"
        lines.append(f"{desk} sẽ kiểm tra giấy tờ quý khách đã tải lên rồi tiếp nhận hoặc trả lời lý do không tiếp "
                     "nhận; quý khách sẽ nhận tin nhắn. Thời hạn giải quyết tính từ lúc hồ sơ được tiếp nhận.")
    elif status == 9:
        headline, tone = "Đã có kết quả – mời quý khách đến nhận", "ok"
        come = next_opening(calendar, now)
        lines.append(f"Nơi nhận: {office_title + ' của ' + collect_place if collect_place else desk}.")
        lines.append("Thời gian: " + ("ngay hôm nay, văn phòng đang làm việc" if come == now else f"từ {when(come)}")
                     + f" ({hours}).")
        lines.append(BRING)
    elif status == 10:
        headline, tone = "Quý khách đã nhận kết quả", "ok"
        if dossier.returned_at:
            lines.append(f"Trả kết quả lúc {when(dossier.returned_at)}. Hồ sơ đã hoàn thành, không cần làm gì thêm.")
    elif status == 3:
        headline, tone = "Hồ sơ không được tiếp nhận", "bad"
        refused = last.get("refuse")
        if refused and refused.note:
            lines.append(f"Lý do: {refused.note}")
        lines.append(f"Quý khách có thể nộp lại hồ sơ khi đã đủ giấy tờ, tại {desk}.")
    elif status in (7, 8):
        headline, tone = ENDED[status], "bad"
        stopped = last.get("stop") if status == 8 else None
        if stopped and stopped.note:
            lines.append(f"Lý do dừng giải quyết: {stopped.note} (thông báo dừng giải quyết hồ sơ, mẫu 05).")
        lines.append(f"Hồ sơ không còn được giải quyết. Cần hỏi thêm, xin liên hệ {desk}.")
    else:
        late = now > dossier.due_at
        headline = "Hồ sơ đang được giải quyết"
        if dossier.stage:
            lines.append(f"Bước hiện tại: {dossier.stage}.")
        if late:
            tone = "warn"
            lines.append(f"Hồ sơ đã quá hẹn trả ({when(dossier.due_at)}). Cơ quan sẽ gửi phiếu xin lỗi và hẹn lại "
                         f"ngày trả; cần hỏi thêm, xin liên hệ {desk}.")
        else:
            apology = last.get("apologize")
            moved = " (đã hẹn lại)" if apology else ""
            lines.append(f"Quý khách chưa cần làm gì. Hẹn trả kết quả{moved}: {when(dossier.due_at)}; "
                         "trang này sẽ báo khi có kết quả hoặc khi cần bổ sung giấy tờ.")
    return {"headline": headline, "tone": tone, "lines": lines, "steps": steps(status),
            "final": status in (3, 7, 8, 10)}
