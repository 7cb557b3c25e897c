"""Bookings travel: made and cancelled at the hub (SQLite or PostgreSQL), down to the commune's box by
sync, used or marked no-show on the box, and back up to the hub."""
from datetime import date, datetime, timedelta

from office.bookings import Booking, honour_booking, mark_no_shows
from office.db import bind, database, open_database
from office.queue import QueuePolicy

from .conftest import hub, make_box  # noqa: F401  (fixtures)


class HubDatabase:
    """The hub's own database, written through the hub's code as one more hub worker would."""

    def __init__(self, hub):
        from central.app import HUB_MODELS

        self.db = open_database(hub.database_url or str(hub.dir / "hub.db"))
        self.models = HUB_MODELS

    def __enter__(self):
        self.previous = database.obj
        bind(self.db, self.models)
        return self

    def __exit__(self, *exc):
        self.db.close()
        database.initialize(self.previous)


SETTINGS = {"booking_days_ahead": 6, "booking_per_phone": 3}


def test_bookings_come_down_to_the_box_and_their_use_goes_up(hub, make_box):
    from central import bookings

    box = make_box()
    box.sync()  # the box's services reach the hub
    with HubDatabase(hub):
        bookings.save_plan(box.commune, "ho-tich", 2, 30, True, by="test")
        day = next(d for d in bookings.bookable_days(box.commune, date.today(), 6) if d > date.today())
        kept = bookings.book("0912345678", box.commune, "ho-tich", day.isoformat(), "08:00", SETTINGS, datetime.now())
        dropped = bookings.book("0987654321", box.commune, "ho-tich", day.isoformat(), "08:00", SETTINGS,
                                datetime.now())
        bookings.cancel("0987654321", dropped.code)
    box.sync()
    with box:
        assert {b.code: b.state for b in Booking.select()} == {kept.code: "booked", dropped.code: "cancelled"}
        policy = QueuePolicy()
        slot_utc = Booking.get(Booking.code == kept.code).starts_at(policy.timezone)
        ticket = honour_booking(policy, kept.code, 15, now=slot_utc - timedelta(minutes=5))
        assert ticket.booked_for == slot_utc
    box.sync()
    assert hub.query(f"SELECT state, ticket FROM booking WHERE code = '{kept.code}'") == [("used", ticket.id)]
    assert hub.query(f"SELECT booking FROM ticket WHERE id = '{ticket.id}'") == [(kept.id,)]


def test_no_shows_marked_on_the_box_reach_the_hub(hub, make_box):
    from central import bookings

    box = make_box()
    box.sync()
    with HubDatabase(hub):
        bookings.save_plan(box.commune, "ho-tich", 2, 30, True, by="test")
        day = next(d for d in bookings.bookable_days(box.commune, date.today(), 6) if d > date.today())
        missed = bookings.book("0912345678", box.commune, "ho-tich", day.isoformat(), "09:00", SETTINGS,
                               datetime.now())
    box.sync()
    with box:
        assert mark_no_shows(QueuePolicy(), now=datetime.combine(day + timedelta(days=1), datetime.min.time())
                             + timedelta(hours=3)) == 1
    box.sync()
    assert hub.query(f"SELECT state FROM booking WHERE code = '{missed.code}'") == [("no_show",)]


def test_the_last_place_goes_to_one_citizen_across_three_hub_workers(hub, make_box):
    """Six phones press "Đặt lịch" for the last place at once, over HTTP, to a hub with 3 web workers."""
    import re
    import threading

    import requests

    from central import bookings
    from central.citizens import Citizen
    from office.clock import utcnow
    from tests.central.citizen_session import citizen_cookie

    box = make_box()
    box.sync()
    phones = [f"09123456{n:02d}" for n in range(6)]
    with HubDatabase(hub):
        bookings.save_plan(box.commune, "ho-tich", 1, 30, True, by="test")
        day = next(d for d in bookings.bookable_days(box.commune, date.today(), 6) if d > date.today())
        for phone in phones:
            Citizen.create(phone=phone, created_at=utcnow(), consent_version="2025-1", consent_at=utcnow())
    hub.stop()
    hub.args += ["--web-workers", "3"]
    hub.start()
    secret = (hub.dir / "secret_key").read_text().strip()
    page = f"{hub.url}/cong-dan/dat-lich/chon-gio"
    sessions, forms = [], []
    for phone in phones:
        cookie = citizen_cookie(secret, phone)
        answer = requests.get(page, params={"commune": box.commune, "service": "ho-tich", "day": day.isoformat()},
                              cookies={"session": cookie}, timeout=10)
        assert answer.status_code == 200, answer.text[:300]
        token = re.search(r'name="csrf_token" value="([^"]+)"', answer.text).group(1)
        sessions.append({"session": answer.cookies.get("session") or cookie})  # now holding the form's token
        forms.append({"csrf_token": token, "commune": box.commune, "service": "ho-tich", "day": day.isoformat(),
                      "slot": "10:00"})
    barrier, codes = threading.Barrier(6), []

    def press(n):
        barrier.wait(10)
        codes.append(requests.post(page, data=forms[n], cookies=sessions[n], headers={"Origin": hub.url},
                                   allow_redirects=False, timeout=20).status_code)

    threads = [threading.Thread(target=press, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(codes) == [303] + [409] * 5, codes
    assert hub.query(f"SELECT COUNT(*) FROM booking WHERE day = '{day.isoformat()}' AND slot = '10:00'") == [(1,)]
