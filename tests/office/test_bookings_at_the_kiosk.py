"""A booking made online at the office: the kiosk issues its ticket, called ahead of walk-ins from the
slot's start; too late, another day, cancelled or used bookings are refused; unused ones of past
days become no-shows."""
from datetime import datetime, timedelta

import pytest

from office import queue
from office.bookings import Booking, booking_code_key, booking_counts, honour_booking, mark_no_shows
from office.errors import Conflict, NotFound
from office.models import Officer, Ticket
from sync.capture import applying_remote

T0 = datetime(2026, 11, 23, 1, 0)  # 08:00 in Hà Nội, a Monday
DAY = "2026-11-23"


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def booking(code="K7PX3M2Q", slot="08:30", day=DAY, state=Booking.BOOKED, service="ho-tich"):
    """A booking as the hub's batch brings it to the box."""
    with applying_remote():
        Booking.insert(id=f"b-{code}", commune="05518", code=code, phone="0912345678", service_code=service,
                       service_name="Hộ tịch", day=day, slot=slot, state=state, created_at=T0 - timedelta(days=1)).execute()
    return Booking.get(Booking.code == code)


@pytest.fixture
def counter1(office):
    return queue.sign_in(1, Officer.get(username="canbo1"), now=T0)


def test_booked_ticket_is_called_before_earlier_walk_ins_at_its_slot(counter1, policy):
    booking(slot="08:30")
    walk_ins = [queue.issue_ticket(policy, "ho-tich", now=at(n)) for n in range(3)]  # 08:00, 08:01, 08:02
    booked = honour_booking(policy, "datlich:k7px-3m2q", 15, now=at(10))  # scanned text, any case
    assert booked.booking == "b-K7PX3M2Q" and booked.booked_for == at(30)
    assert Booking.get().state == Booking.USED and Booking.get().ticket == booked.id
    # before the slot: a walk-in like the others (it came after them)
    first = queue.call_next(policy, counter1.id, now=at(20))
    assert first.id == walk_ins[0].id
    queue.start_serving(counter1.id, now=at(21))
    # the slot has come: ahead of the walk-ins still waiting
    second = queue.call_next(policy, counter1.id, now=at(31))
    assert second.id == booked.id
    queue.start_serving(counter1.id, now=at(32))
    assert queue.call_next(policy, counter1.id, now=at(40)).id == walk_ins[1].id


def test_late_other_day_cancelled_and_used_bookings_are_refused_clearly(office, policy):
    booking("ZATE0001", slot="07:30")
    with pytest.raises(Conflict, match="đã quá 15 phút nên không còn được ưu tiên"):
        honour_booking(policy, "ZATE0001", 15, now=at(-14))  # 07:46 for a 07:30 slot
    assert Booking.get(Booking.code == "ZATE0001").state == Booking.BOOKED
    assert honour_booking(policy, "ZATE0001", 15, now=at(-15)).booked_for == at(-30)  # 07:45: still in time
    booking("TMRW0001", day="2026-11-24")
    with pytest.raises(Conflict, match="24/11/2026 lúc 08:30 \\(chưa đến\\)"):
        honour_booking(policy, "TMRW0001", 15, now=at(0))
    booking("GXNE0001", state=Booking.CANCELLED)
    with pytest.raises(Conflict, match="đã được huỷ"):
        honour_booking(policy, "GXNE0001", 15, now=at(0))
    with pytest.raises(Conflict, match="đã được dùng"):
        honour_booking(policy, "ZATE0001", 15, now=at(0))
    with pytest.raises(NotFound):
        honour_booking(policy, "NOPE0001", 15, now=at(0))
    assert Ticket.select().count() == 1


def test_unused_bookings_of_past_days_become_no_shows(office, policy):
    booking("PAST0001", day="2026-11-20")
    booking("PAST0002", day="2026-11-20", state=Booking.CANCELLED)
    booking("TODAY001", day=DAY)
    booking("USED0001", day=DAY)
    honour_booking(policy, "USED0001", 15, now=at(0))
    assert mark_no_shows(policy, now=at(0)) == 1
    assert mark_no_shows(policy, now=at(0)) == 0
    assert booking_counts() == {"05518": {"booked": 1, "cancelled": 1, "used": 1, "no_show": 1}}


def test_booking_code_is_read_as_typed_or_scanned():
    for typed in ("K7PX3M2Q", "k7px 3m2q", "K7PX-3M2Q", "DATLICH:K7PX3M2Q", "datlich:K7PX3M2Q", "K7PX3M2O"):
        assert booking_code_key(typed) in ("K7PX3M2Q", "K7PX3M20")
