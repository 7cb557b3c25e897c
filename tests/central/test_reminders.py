"""Reminders of near-due and overdue dossiers: the schedule (working days only, once per slot,
a catch-up window) and what each handler and leader is told."""
import json
from datetime import datetime, timedelta

import pytest

from central.app import HUB_MODELS
from central.outbox import Outbox
from central.reminder_forms import save_contact, save_rule
from central.reminders import compose, due_slots, hub_calendar, preview, run_reminders, select_dossiers
from central.tasks import create_hub_huey
from motcua.settings import load_settings
from office.db import bind, open_database
from office.dossiers import Dossier
from office.models import Holiday, Officer
from sync.capture import applying_remote

SONG_CONG, BACH_QUANG = "05518", "05528"
UBND = "000.19.05518"
STP = "000.00.19.STP"
HOURS_AHEAD = timedelta(hours=7)  # Asia/Ho_Chi_Minh


@pytest.fixture(params=["sqlite", "postgresql"])
def hub_db(request, tmp_path):
    """The hub's tables on a SQLite file or in a fresh PostgreSQL schema (127.0.0.1:5432/test)."""
    from tests.sync.conftest import drop_schema, postgres_schema

    schema, url = postgres_schema() if request.param == "postgresql" else (None, str(tmp_path / "hub.db"))
    db = bind(open_database(url), HUB_MODELS)
    yield db
    db.close()
    if schema:
        drop_schema(schema)


@pytest.fixture
def settings(tmp_path):
    return load_settings("hub", environ={}, overrides={"data_dir": str(tmp_path)})


def utc(local):
    return local - HOURS_AHEAD


_numbers = iter(range(1, 10_000))


def dossier(due_at, commune=SONG_CONG, status=4, handler="Nguyễn Thị Lan", agency=UBND, code=None):
    number = next(_numbers)
    code = code or f"{UBND}-260302-{number:04d}"
    with applying_remote():  # as the merge writes what a box pushed
        Dossier.insert(id=f"d-{number}", commune=commune, code=code, procedure_code="1.001193",
                       procedure_name="Đăng ký khai sinh", applicant_name="Trần Văn Bình", components="[]",
                       status=status, stage="Thẩm định hồ sơ", handler=handler, agency=agency,
                       received_at=due_at - timedelta(days=10), due_at=due_at).execute()
    return code


def holiday(day, kind="off", commune="*"):
    with applying_remote():
        Holiday.insert(id=f"h-{day}-{commune}", commune=commune, day=day, name="Ngày do tỉnh quyết định",
                       kind=kind).execute()


def rule(**values):
    data = {"name": "Nhắc việc", "what": "both", "lead": "1", "lead_unit": "days", "audience": "both",
            "channels": ["log"], "times": "08:00,14:00", "weekdays": ["0", "1", "2", "3", "4"]}
    data.update(values)
    return save_rule(data)


def lan(**values):
    return save_contact(dict({"name": "Nguyễn Thị Lan", "role": "handler", "commune": SONG_CONG,
                              "phone": "0912345678", "email": "lan@songcong.gov.vn"}, **values))


def leader(**values):
    return save_contact(dict({"name": "Phạm Văn Hùng", "role": "leader", "commune": SONG_CONG,
                              "phone": "0987654321"}, **values))


# ---- schedule -----------------------------------------------------------------------------------------

def sent_slots(settings, start_local, days):
    """Step a clock minute by minute over ``days`` days; the local minutes at which messages were added."""
    added = []
    now = utc(start_local)
    for _ in range(days * 24 * 60):
        for message in run_reminders(now, settings):
            added.append((now + HOURS_AHEAD, message["slot"]))
        now += timedelta(minutes=1)
    return added


def test_weekday_slots_skip_weekends_public_and_hub_holidays_but_not_a_working_saturday(hub_db, settings):
    rule()
    lan()
    dossier(datetime(2026, 8, 20, 17, 0))  # overdue all week long
    holiday("2026-09-04")  # the province gives Friday off
    holiday("2026-09-05", kind="working")  # and makes Saturday a working day
    added = sent_slots(settings, datetime(2026, 8, 31, 0, 0), days=8)  # Mon 31 Aug .. Mon 7 Sep
    # 31 Aug (moved day off), 1 and 2 Sep (National Day): nothing; Friday 4 off; Saturday 5 works
    assert [at for at, _ in added] == [datetime(2026, 9, 3, 8, 0), datetime(2026, 9, 3, 14, 0),
                                       datetime(2026, 9, 5, 8, 0), datetime(2026, 9, 5, 14, 0),
                                       datetime(2026, 9, 7, 8, 0), datetime(2026, 9, 7, 14, 0)]
    assert [slot for _, slot in added] == [f"{at:%Y-%m-%d %H:%M}:00" for at, _ in added]
    assert Outbox.select().count() == 6
    assert {o.recipient for o in Outbox.select()} == {"Nguyễn Thị Lan"}


def test_tet_and_a_national_working_saturday(hub_db, settings):
    rule(times="08:00")
    lan()
    dossier(datetime(2026, 2, 2, 17, 0))
    added = sent_slots(settings, datetime(2026, 2, 16, 0, 0), days=7)  # Tết 2026: Mon 16 .. Fri 20 Feb off
    assert added == []
    added = sent_slots(settings, datetime(2026, 8, 22, 0, 0), days=1)  # Saturday worked for Monday 31 Aug
    assert [at for at, _ in added] == [datetime(2026, 8, 22, 8, 0)]


def test_a_communes_own_day_off_silences_its_dossiers_only(hub_db, settings):
    rule(times="08:00", audience="leader")
    leader()
    save_contact({"name": "Chủ tịch tỉnh", "role": "leader"})
    here = dossier(datetime(2026, 9, 7, 17, 0))
    there = dossier(datetime(2026, 9, 7, 17, 0), commune=BACH_QUANG)
    holiday("2026-09-08", commune=SONG_CONG)
    added = run_reminders(utc(datetime(2026, 9, 8, 8, 0)), settings)
    assert [(a["name"], a["codes"]) for a in added] == [("Chủ tịch tỉnh", [there])]
    added = run_reminders(utc(datetime(2026, 9, 9, 8, 0)), settings)
    assert sorted((a["name"], tuple(a["codes"])) for a in added) == [
        ("Chủ tịch tỉnh", (here, there)), ("Phạm Văn Hùng", (here,))]


def test_catch_up_window(hub_db, settings):
    rule(times="08:00")
    lan()
    dossier(datetime(2026, 9, 7, 17, 0))
    tuesday = datetime(2026, 9, 8)
    assert run_reminders(utc(tuesday.replace(hour=7, minute=59)), settings) == []
    late = run_reminders(utc(tuesday.replace(hour=8, minute=10)), settings)  # the worker was down at 08:00
    assert len(late) == 1 and late[0]["slot"] == "2026-09-08 08:00:00"
    assert run_reminders(utc(tuesday.replace(hour=8, minute=11)), settings) == []  # once
    wednesday = datetime(2026, 9, 9)
    assert run_reminders(utc(wednesday.replace(hour=9, minute=0)), settings) == []  # an hour late: skipped
    thursday = datetime(2026, 9, 10)
    assert len(run_reminders(utc(thursday.replace(hour=8, minute=29)), settings)) == 1  # last minute of the window
    short = dict(settings, reminder_catchup_minutes=5)
    assert run_reminders(utc(datetime(2026, 9, 11, 8, 5)), short) == []
    assert len(run_reminders(utc(datetime(2026, 9, 14, 8, 4)), short)) == 1


def test_back_after_two_missed_slots_sends_once(hub_db, settings):
    rule(times="08:00,08:10")
    lan()
    dossier(datetime(2026, 9, 7, 17, 0))
    back = run_reminders(utc(datetime(2026, 9, 8, 8, 12)), settings)
    assert [a["slot"] for a in back] == ["2026-09-08 08:10:00"]
    assert run_reminders(utc(datetime(2026, 9, 8, 8, 13)), settings) == []
    on_time = [a["slot"] for minute in range(0, 15) for a in run_reminders(utc(datetime(2026, 9, 9, 8, minute)), settings)]
    assert on_time == ["2026-09-09 08:00:00", "2026-09-09 08:10:00"]


def test_due_slots_of_a_rule(hub_db):
    r = rule(times="08:00,14:00", weekdays=["0"])
    calendar = hub_calendar()
    monday = datetime(2026, 9, 7)
    assert due_slots(r, monday.replace(hour=8), calendar) == [monday.replace(hour=8)]
    assert due_slots(r, monday.replace(hour=14, minute=29), calendar) == [monday.replace(hour=14)]
    assert due_slots(r, monday.replace(hour=14, minute=30), calendar) == []
    assert due_slots(r, (monday + timedelta(days=1)).replace(hour=8), calendar) == []  # Tuesday not chosen
    late_night = rule(times="23:50", weekdays=["0"])
    assert due_slots(late_night, monday.replace(day=8, hour=0, minute=10), calendar) == [monday.replace(hour=23, minute=50)]


def test_inactive_rules_and_contacts_send_nothing(hub_db, settings):
    r = rule(times="08:00")
    contact = lan()
    dossier(datetime(2026, 9, 7, 17, 0))
    r.active = False
    r.save()
    assert run_reminders(utc(datetime(2026, 9, 8, 8, 0)), settings) == []
    r.active = True
    r.save()
    contact.active = False
    contact.save()
    assert run_reminders(utc(datetime(2026, 9, 8, 8, 0)), settings) == []


def test_the_worker_has_the_reminder_task(hub_db, settings):
    huey, tasks = create_hub_huey(settings)
    huey.flush()
    assert "send_reminders" in tasks
    for minute in (0, 1, 7):  # every minute
        assert "send_reminders" in {t.name for t in huey.read_periodic(datetime(2026, 9, 8, 1, minute))}
    tasks["send_reminders"]()
    assert huey.pending_count() == 1
    assert huey.execute(huey.dequeue()) == []  # no rule yet


# ---- selection ---------------------------------------------------------------------------------------

def test_near_due_and_overdue_at_the_boundaries(hub_db):
    now = datetime(2026, 9, 8, 8, 0)  # Tuesday
    calendar = hub_calendar()
    on_the_minute = dossier(now)
    just_late = dossier(now - timedelta(minutes=1))
    just_ahead = dossier(now + timedelta(minutes=1))
    at_horizon = dossier(datetime(2026, 9, 9, 8, 0))  # one working day later, to the minute
    past_horizon = dossier(datetime(2026, 9, 9, 8, 1))
    dossier(datetime(2026, 9, 1, 17, 0), status=5)  # waiting for papers: clock stopped
    dossier(datetime(2026, 9, 1, 17, 0), status=9)  # finished
    dossier(datetime(2026, 9, 1, 17, 0), status=10)  # returned
    dossier(datetime(2026, 9, 1, 17, 0), status=3)  # refused
    waiting_to_be_received = dossier(datetime(2026, 9, 7, 17, 0), status=1)
    both = {i.code: i for i in select_dossiers(rule(what="both", lead="1"), now, calendar)}
    assert set(both) == {just_late, just_ahead, at_horizon, waiting_to_be_received}
    assert on_the_minute not in both and past_horizon not in both
    assert both[just_late].kind == "overdue" and both[just_ahead].kind == "near_due"
    assert {i.code for i in select_dossiers(rule(what="overdue"), now, calendar)} == {just_late, waiting_to_be_received}
    assert {i.code for i in select_dossiers(rule(what="near_due", lead="1"), now, calendar)} == {just_ahead, at_horizon}


def test_near_due_counts_working_days_and_hours(hub_db):
    friday_evening = datetime(2026, 9, 4, 16, 0)
    calendar = hub_calendar()
    monday = dossier(datetime(2026, 9, 7, 16, 0))  # the weekend does not count: one working day away
    tuesday = dossier(datetime(2026, 9, 8, 9, 0))
    by_days = {i.code: i for i in select_dossiers(rule(what="near_due", lead="1"), friday_evening, calendar)}
    assert set(by_days) == {monday}
    assert by_days[monday].days == 1
    # 4 working hours from Friday 16:00: 1 h on Friday, then Monday 07:00-10:00
    by_hours = select_dossiers(rule(what="near_due", lead="4", lead_unit="hours"), friday_evening, calendar)
    assert by_hours == []
    nine = dossier(datetime(2026, 9, 7, 9, 0))
    ten_past = dossier(datetime(2026, 9, 7, 10, 1))
    by_hours = {i.code: i for i in select_dossiers(rule(what="near_due", lead="4", lead_unit="hours"),
                                                   friday_evening, calendar)}
    assert set(by_hours) == {nine}
    assert by_hours[nine].minutes == 3 * 60  # 16:00-17:00 Friday, 07:00-09:00 Monday
    assert ten_past not in by_hours and tuesday not in by_hours


def test_hub_days_off_stretch_the_horizon(hub_db):
    now = datetime(2026, 9, 7, 8, 0)  # Monday
    wednesday = dossier(datetime(2026, 9, 9, 7, 30))
    assert select_dossiers(rule(what="near_due", lead="1"), now, hub_calendar()) == []
    holiday("2026-09-08")  # Tuesday off: one working day from Monday 08:00 is Wednesday 08:00
    assert [i.code for i in select_dossiers(rule(what="near_due", lead="1"), now, hub_calendar())] == [wednesday]


def test_communes_filter(hub_db):
    now = datetime(2026, 9, 8, 8, 0)
    here = dossier(datetime(2026, 9, 7, 17, 0))
    there = dossier(datetime(2026, 9, 7, 17, 0), commune=BACH_QUANG)
    assert {i.code for i in select_dossiers(rule(communes=SONG_CONG), now, hub_calendar())} == {here}
    assert {i.code for i in select_dossiers(rule(communes=""), now, hub_calendar())} == {here, there}


# ---- composition ---------------------------------------------------------------------------------------

def test_handler_gets_theirs_leader_the_communes_with_totals_and_every_code(hub_db):
    now = datetime(2026, 9, 8, 8, 0)  # Tuesday
    late = [dossier(datetime(2026, 9, 3, 17, 0)), dossier(datetime(2026, 9, 7, 17, 0))]
    near = [dossier(datetime(2026, 9, 8, 17, 0)), dossier(datetime(2026, 9, 8, 11, 0)),
            dossier(datetime(2026, 9, 8, 15, 0))]
    others = [dossier(datetime(2026, 9, 7, 17, 0), handler="Lê Văn Minh"),
              dossier(datetime(2026, 9, 8, 16, 0), handler="")]
    elsewhere = dossier(datetime(2026, 9, 7, 17, 0), commune=BACH_QUANG)
    lan(phone="")  # no phone: no SMS for her
    leader()
    save_contact({"name": "Đỗ Thị Hoa", "role": "handler", "commune": SONG_CONG, "phone": "0911111111"})
    messages = compose(rule(channels=["sms", "email", "log"]), now, hub_calendar())
    by = {(m.name, m.channel): m for m in messages}
    assert set(by) == {("Nguyễn Thị Lan", "email"), ("Nguyễn Thị Lan", "log"),
                       ("Phạm Văn Hùng", "sms"), ("Phạm Văn Hùng", "log")}  # Hoa has no dossier; Hùng no email
    mine = by[("Nguyễn Thị Lan", "email")]
    assert mine.recipient == "lan@songcong.gov.vn"
    assert "3 hồ sơ sắp đến hạn, 2 hồ sơ quá hạn" in mine.text and mine.subject.endswith(
        "3 hồ sơ sắp đến hạn, 2 hồ sơ quá hạn")
    assert all(code in mine.text for code in late + near)
    assert not any(code in mine.text for code in others + [elsewhere])
    assert "quá hạn 3 ngày làm việc" in mine.text  # due Thursday 17:00: Friday, Monday, Tuesday
    assert f"{late[1]}: quá hạn 1 ngày làm việc" in mine.text
    assert f"{near[1]}: hạn 11:00 08/09/2026, còn 3 giờ làm việc" in mine.text
    boss = by[("Phạm Văn Hùng", "sms")]
    assert boss.recipient == "84987654321"
    assert "4 hồ sơ sắp đến hạn, 3 hồ sơ quá hạn" in boss.text
    assert all(code in boss.text for code in late + near + others) and elsewhere not in boss.text
    assert "cán bộ: Lê Văn Minh" in boss.text
    assert boss.text.index(late[0]) < boss.text.index(late[1]) < boss.text.index(near[1]) < boss.text.index(near[0])


def test_audience_and_agency_leaders(hub_db):
    now = datetime(2026, 9, 8, 8, 0)
    at_stp = dossier(datetime(2026, 9, 7, 17, 0), agency=STP, handler="")
    at_commune = dossier(datetime(2026, 9, 7, 17, 0))
    lan()
    save_contact({"name": "Giám đốc Sở Tư pháp", "role": "leader", "agency": STP, "email": "gd@stp.gov.vn"})
    save_contact({"name": "Chủ tịch tỉnh", "role": "leader", "email": "ct@tinh.gov.vn"})  # every commune
    by_name = {m.name: m for m in compose(rule(audience="leader", channels=["email"]), now, hub_calendar())}
    assert set(by_name) == {"Giám đốc Sở Tư pháp", "Chủ tịch tỉnh"}
    assert at_stp in by_name["Giám đốc Sở Tư pháp"].text and at_commune not in by_name["Giám đốc Sở Tư pháp"].text
    assert at_stp in by_name["Chủ tịch tỉnh"].text and at_commune in by_name["Chủ tịch tỉnh"].text
    handlers = compose(rule(audience="handler", channels=["email"]), now, hub_calendar())
    assert [m.name for m in handlers] == ["Nguyễn Thị Lan"] and handlers[0].codes == [at_commune]


def test_handler_by_username_of_an_officer(hub_db):
    now = datetime(2026, 9, 8, 8, 0)
    with applying_remote():
        Officer.insert(id="o-1", commune=SONG_CONG, username="canbo1", full_name="Nguyễn Thị Lan",
                       password_hash="x").execute()
        Officer.insert(id="o-2", commune=BACH_QUANG, username="canbo1", full_name="Vũ Văn Nam",
                       password_hash="x").execute()
    hers = dossier(datetime(2026, 9, 7, 17, 0))
    by_username = dossier(datetime(2026, 9, 7, 16, 0), handler="canbo1")
    nams = dossier(datetime(2026, 9, 7, 17, 0), commune=BACH_QUANG, handler="Vũ Văn Nam")
    save_contact({"name": "Chị Lan", "handler": "canbo1", "commune": SONG_CONG, "role": "handler"})
    save_contact({"name": "Anh Nam", "handler": " vũ  văn nam ", "role": "handler"})  # every commune, any spacing
    by_name = {m.name: m for m in compose(rule(), now, hub_calendar())}
    assert sorted(by_name["Chị Lan"].codes) == sorted([hers, by_username])
    assert by_name["Anh Nam"].codes == [nams]


def test_channels_without_contact_data_are_skipped(hub_db):
    now = datetime(2026, 9, 8, 8, 0)
    dossier(datetime(2026, 9, 7, 17, 0))
    lan(phone="", email="")
    assert compose(rule(channels=["sms", "zalo", "email"]), now, hub_calendar()) == []
    zalo = compose(rule(channels=["zalo", "log"]), now, hub_calendar())
    assert [m.channel for m in zalo] == ["log"]
    lan(phone="+84 912 345 678")
    zalo = [m for m in compose(rule(channels=["zalo"]), now, hub_calendar(), zalo_template="246810")]
    assert [(m.channel, m.recipient, m.template) for m in zalo] == [("zalo", "84912345678", "246810")]
    assert zalo[0].fields["qua_han"] == 1 and zalo[0].fields["sap_den_han"] == 0


def test_nobody_is_told_when_nothing_is_due(hub_db):
    lan()
    leader()
    dossier(datetime(2026, 9, 30, 17, 0))  # far ahead
    assert compose(rule(), datetime(2026, 9, 8, 8, 0), hub_calendar()) == []


def test_enqueued_rows_and_preview(hub_db, settings):
    r = rule(channels=["sms", "email"], times="08:00")
    code = dossier(datetime(2026, 9, 7, 17, 0))
    lan()
    planned = preview(r, datetime(2026, 9, 8, 20, 0))  # outside the schedule: preview still shows it
    assert [m.channel for m in planned] == ["sms", "email"] and Outbox.select().count() == 0
    added = run_reminders(utc(datetime(2026, 9, 8, 8, 0)), settings)
    assert [a["channel"] for a in added] == ["sms", "email"]
    sms = Outbox.get(Outbox.channel == "sms")
    assert sms.purpose == "reminder" and sms.recipient == "84912345678" and sms.commune == SONG_CONG
    assert sms.key == f"reminder:{r.id}:2026-09-08T08:00:{added[0]['contact']}|sms|84912345678"
    assert code in sms.text and json.loads(sms.fields)["ma_ho_so"] == code
    assert "Nhac viec mot cua" in sms.text and sms.text.isascii()  # an unaccented SMS, as citizens get
    email = Outbox.get(Outbox.channel == "email")
    assert email.subject == "Nhắc việc: 1 hồ sơ quá hạn" and "Nhắc việc một cửa" in email.text
    assert run_reminders(utc(datetime(2026, 9, 8, 8, 1)), settings) == []
    assert Outbox.select().count() == 2


def test_how_late_is_worded(hub_db):
    lan()
    this_morning = dossier(datetime(2026, 9, 8, 10, 0))
    friday = dossier(datetime(2026, 9, 4, 17, 0))
    years = dossier(datetime(2024, 9, 4, 17, 0))
    tuesday_afternoon = datetime(2026, 9, 8, 14, 0)
    text = compose(rule(channels=["sms"]), tuesday_afternoon, hub_calendar())[0].text
    assert f"{this_morning}: quá hạn 2 giờ" in text  # 10:00-11:30, 13:30-14:00 of office time
    assert f"{friday}: quá hạn 2 ngày làm việc" in text  # Monday and Tuesday
    late_by = (datetime(2026, 9, 8) - datetime(2024, 9, 4)).days
    assert 400 < int(text.split(f"{years}: quá hạn ")[1].split()[0]) < late_by
    saturday = compose(rule(channels=["sms"]), datetime(2026, 9, 5, 9, 0), hub_calendar())[0].text
    assert f"{friday}: đã quá hạn (hạn 17:00 04/09/2026)" in saturday  # no office time since it fell due
