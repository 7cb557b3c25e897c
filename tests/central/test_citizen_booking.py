"""Booking a time at the hub: places per slot, the last place to exactly one citizen (SQLite and
PostgreSQL), cancelling frees the place, a limit per phone, the pages and the SMS."""
import threading
from datetime import date, datetime, timedelta

import pytest

from central import bookings
from central.tasks import run_notifications
from office.bookings import Booking
from office.db import database
from office.errors import Conflict
from office.notices import Notice
from tests.central.citizen_session import proved_citizen

from .citizen_hub import COMMUNE, OTHER, hub, sms, token  # noqa: F401  (fixtures)

PHONE = "0912345678"


def plan(app, capacity=1, slot_minutes=30):
    with app.app_context():
        return bookings.save_plan(COMMUNE, "tu-phap", capacity, slot_minutes, True, by="test")


def a_working_day(app):
    """The first bookable day after today (so every slot of it is still ahead)."""
    days = bookings.bookable_days(COMMUNE, date.today(), 6)
    return next(d for d in days if d > date.today())


def now_local():
    return datetime.now()


def test_the_last_place_goes_to_exactly_one_citizen(hub):
    plan(hub, capacity=1)
    settings = hub.extensions["hub"].settings
    day = a_working_day(hub).isoformat()
    results, barrier = [], threading.Barrier(6)

    def try_booking(n):
        try:
            barrier.wait(10)
            results.append(bookings.book(f"09123450{n:02d}", COMMUNE, "tu-phap", day, "08:00", settings,
                                         now_local()).code)
        except Conflict as exc:
            results.append(exc.message)
        finally:
            database.close()

    threads = [threading.Thread(target=try_booking, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    full = [r for r in results if "vừa hết chỗ" in r]
    assert len(results) == 6 and len(full) == 5, results
    assert Booking.select().where(Booking.day == day, Booking.slot == "08:00").count() == 1


def test_cancel_frees_the_place_and_both_are_texted(hub, sms):
    plan(hub, capacity=1)
    settings = dict(hub.extensions["hub"].settings, citizen_channels="sms")
    day = a_working_day(hub)
    first = bookings.book(PHONE, COMMUNE, "tu-phap", day.isoformat(), "08:30", settings, now_local())
    with pytest.raises(Conflict, match="hết chỗ"):
        bookings.book("0987654321", COMMUNE, "tu-phap", day.isoformat(), "08:30", settings, now_local())
    assert dict(bookings.day_slots(bookings.find_plan(COMMUNE, "tu-phap"), day, now_local()))["08:30"] == 0
    bookings.cancel(PHONE, first.code)
    assert dict(bookings.day_slots(bookings.find_plan(COMMUNE, "tu-phap"), day, now_local()))["08:30"] == 1
    bookings.book("0987654321", COMMUNE, "tu-phap", day.isoformat(), "08:30", settings, now_local())
    assert {n.kind for n in Notice.select()} == {"booking_made", "booking_cancelled"}
    run_notifications(settings)
    texts = [b["Content"] for b in sms.bodies()]
    assert any(first.code in t and "08:30" in t and "Toi da dat lich" in t for t in texts)
    assert any(first.code in t and "da duoc huy" in t for t in texts)


def test_one_phone_holds_at_most_three_open_bookings(hub):
    plan(hub, capacity=5)
    settings = hub.extensions["hub"].settings
    day = a_working_day(hub).isoformat()
    made = [bookings.book(PHONE, COMMUNE, "tu-phap", day, slot, settings, now_local())
            for slot in ("08:00", "08:30", "09:00")]
    with pytest.raises(Conflict, match="tối đa 3 lịch hẹn"):
        bookings.book(PHONE, COMMUNE, "tu-phap", day, "09:30", settings, now_local())
    bookings.cancel(PHONE, made[0].code)
    bookings.book(PHONE, COMMUNE, "tu-phap", day, "09:30", settings, now_local())


def test_days_skip_holidays_and_closed_days_and_slots_fill_office_hours(hub):
    plan(hub, capacity=2, slot_minutes=30)
    with hub.app_context():
        days = bookings.bookable_days(COMMUNE, date(2026, 4, 24), 6)  # Friday before Hùng Kings day (Sun 26/4)
        assert date(2026, 4, 25) not in days and date(2026, 4, 27) not in days  # Saturday; the day off for it
        assert len([d for d in days if d > date(2026, 4, 24)]) == 6
        bookings.set_closed_day(COMMUNE, days[1].isoformat(), "Tập huấn")
        assert days[1] not in bookings.bookable_days(COMMUNE, date(2026, 4, 24), 6)
        starts = bookings.slot_starts(bookings.find_plan(COMMUNE, "tu-phap"))
        assert starts[0] == "07:00" and starts[-1] == "16:30" and "11:30" not in starts and "13:30" in starts


def test_booking_pages_work_without_javascript(hub):
    plan(hub, capacity=2)
    client = proved_citizen(hub.test_client(), PHONE)
    start = client.get("/cong-dan/dat-lich").get_data(as_text=True)
    assert "Tư pháp – Hộ tịch" in start and f'value="{COMMUNE}:tu-phap"' in start
    day = a_working_day(hub).isoformat()
    page = client.get(f"/cong-dan/dat-lich/chon-gio?pick={COMMUNE}:tu-phap&day={day}")
    assert page.status_code == 200 and 'value="08:00"' in page.get_data(as_text=True)
    form = {"commune": COMMUNE, "service": "tu-phap", "day": day, "csrf_token": token(client, "/cong-dan/")}
    missing = client.post("/cong-dan/dat-lich/chon-gio", data=form)
    assert missing.status_code == 400 and "Xin chọn một giờ hẹn" in missing.get_data(as_text=True)
    made = client.post("/cong-dan/dat-lich/chon-gio", data=dict(form, slot="08:00"))
    assert made.status_code == 303
    detail = client.get(made.headers["Location"]).get_data(as_text=True)
    booking = Booking.get()
    assert booking.code in detail and "<svg" in detail and "Tôi đã đặt lịch" in detail
    home = client.get("/cong-dan/").get_data(as_text=True)
    assert booking.code in home and "Đã đặt lịch" in home
    other = proved_citizen(hub.test_client(), "0987654321")
    assert other.get(f"/cong-dan/dat-lich/{booking.code}").status_code == 404  # someone else's booking
    client.post(f"/cong-dan/dat-lich/{booking.code}/huy", data={"csrf_token": token(client, "/cong-dan/")})
    assert Booking.get().state == Booking.CANCELLED


def test_the_plan_page_is_the_communes_own(hub):
    from central.accounts_models import Account
    from tests.central.hub_accounts import make_account, sign_in

    make_account("leader", Account.LEADER, communes=COMMUNE)
    client = hub.test_client()
    sign_in(client, "leader")
    page = client.get("/dat-lich").get_data(as_text=True)
    assert "Tư pháp – Hộ tịch" in page and "00454" not in page
    data = {"commune": COMMUNE, "service": "tu-phap", "capacity": "3", "slot_minutes": "20", "active": "1",
            "csrf_token": token(client, "/dat-lich")}
    headers = {"Origin": "http://localhost"}
    assert client.post("/dat-lich/ke-hoach", data=data, headers=headers).status_code == 303
    assert bookings.BookingPlan.get().capacity == 3
    assert client.post("/dat-lich/ke-hoach", data=dict(data, commune="00454"), headers=headers).status_code == 403
    bad = client.post("/dat-lich/ke-hoach", data=dict(data, capacity="abc"), headers=headers)
    assert bad.status_code == 400 and "phải là số" in bad.get_data(as_text=True) and 'value="abc"' in bad.get_data(as_text=True)


def test_statistics_count_used_bookings_and_no_shows_per_commune(hub):
    from central.accounts_models import Account
    from sync.capture import applying_remote
    from tests.central.hub_accounts import make_account, sign_in

    with applying_remote():  # as the boxes' batches bring them
        for n, (commune, state) in enumerate([(COMMUNE, "used"), (COMMUNE, "no_show"), (COMMUNE, "no_show"),
                                              (OTHER, "used")]):
            Booking.insert(id=f"b{n}", commune=commune, code=f"C{n:07d}", phone="0912345678", service_code="tu-phap",
                           day="2026-03-02", slot="08:00", state=state, created_at=datetime(2026, 3, 1)).execute()
    make_account("leader", Account.LEADER, communes=COMMUNE)
    client = hub.test_client()
    sign_in(client, "leader")
    page = client.get("/stats").get_data(as_text=True)
    section = page[page.index('id="booking-counts"'):]
    assert 'data-state="used">1<' in section and 'data-state="no_show">2<' in section
    assert "Xã Đông Anh" not in section  # the other commune is not the leader's



def test_phones_of_bookings_are_forgotten_after_90_days(hub):
    plan(hub, capacity=2)
    day = a_working_day(hub)
    made = bookings.book(PHONE, COMMUNE, "tu-phap", day.isoformat(), "08:00", hub.extensions["hub"].settings,
                         now_local())
    assert bookings.forget_old_phones(day + timedelta(days=90)) == 0
    assert bookings.forget_old_phones(day + timedelta(days=91)) == 1
    row = Booking.get(Booking.code == made.code)
    assert row.phone == "" and row.state == Booking.BOOKED
