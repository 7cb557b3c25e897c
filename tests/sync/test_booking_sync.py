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
