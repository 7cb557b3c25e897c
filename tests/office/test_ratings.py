from datetime import datetime, timedelta

import pytest

from office import queue
from office.errors import Conflict, MotcuaError
from office.models import Officer, Rating
from office.ratings import awaiting_rating, rate, rate_at_counter

T0 = datetime(2026, 11, 23, 2, 0)


def served_ticket(policy, counter_number=2, username="canbo2", end=T0):
    counter = queue.sign_in(counter_number, Officer.get(username=username), now=end)
    queue.issue_ticket(policy, "ho-tich", now=end - timedelta(minutes=10))
    queue.call_next(policy, counter.id, now=end - timedelta(minutes=5))
    queue.start_serving(counter.id, now=end - timedelta(minutes=4))
    return queue.finish(counter.id, now=end), counter


def test_rating_is_tied_to_ticket_and_officer(office, policy):
    ticket, counter = served_ticket(policy)
    rating = rate(ticket.id, 2, "  nhanh  ", now=T0)
    assert (rating.officer.username, rating.counter_id, rating.reason, rating.label) == ("canbo2", counter.id, "nhanh", "Hài lòng")
    with pytest.raises(Conflict):
        rate(ticket.id, 3)


def test_only_finished_tickets_can_be_rated(office, policy):
    ticket = queue.issue_ticket(policy, "ho-tich")
    with pytest.raises(Conflict):
        rate(ticket.id, 3)
    with pytest.raises(MotcuaError):
        rate(ticket.id, 7)


def test_awaiting_rating_window(office, policy):
    ticket, counter = served_ticket(policy)
    assert awaiting_rating(counter.id, 300, now=T0 + timedelta(seconds=299)).id == ticket.id
    assert awaiting_rating(counter.id, 300, now=T0 + timedelta(seconds=301)) is None
    rate_at_counter(2, 3, 300, now=T0 + timedelta(seconds=5))
    assert awaiting_rating(counter.id, 300, now=T0 + timedelta(seconds=6)) is None
    assert rate_at_counter(2, 1, 300, now=T0 + timedelta(seconds=7)) is None  # nothing left to rate
    assert Rating.select().count() == 1


def test_screen_rating_outside_the_window_or_for_another_ticket_is_refused(office, policy):
    ticket, counter = served_ticket(policy)
    with pytest.raises(Conflict):
        rate_at_counter(2, 3, 300, source="screen", ticket_id=ticket.id, now=T0 + timedelta(seconds=360))
    with pytest.raises(Conflict):
        rate_at_counter(1, 3, 300, source="screen", ticket_id=ticket.id, now=T0 + timedelta(seconds=5))
    with pytest.raises(Conflict):
        rate_at_counter(2, 3, 300, source="screen", ticket_id="another", now=T0 + timedelta(seconds=5))
    assert Rating.select().count() == 0
    rating = rate_at_counter(2, 1, 300, source="screen", ticket_id=ticket.id, reason="lâu", now=T0 + timedelta(seconds=5))
    assert (rating.ticket_id, rating.source, rating.reason) == (ticket.id, "screen", "lâu")
    with pytest.raises(Conflict):  # once
        rate_at_counter(2, 3, 300, source="screen", ticket_id=ticket.id, now=T0 + timedelta(seconds=6))


def test_rating_during_next_citizens_service_does_not_land_on_previous_ticket(office, policy):
    """B-001 left unrated; B-002 is called, then served: from then on the tablet's "Chưa hài
    lòng" is B-002's citizen's, and is refused for B-001 (never stored on it, never moved)."""
    first, counter = served_ticket(policy)
    queue.issue_ticket(policy, "ho-tich", now=T0)
    queue.call_next(policy, counter.id, now=T0 + timedelta(seconds=10))
    # Called, walking to the counter: B-001's citizen may still answer.
    assert awaiting_rating(counter.id, 300, now=T0 + timedelta(seconds=20)).id == first.id
    queue.start_serving(counter.id, now=T0 + timedelta(seconds=30))
    assert awaiting_rating(counter.id, 300, now=T0 + timedelta(seconds=40)) is None
    with pytest.raises(Conflict, match="không còn chờ đánh giá"):
        rate_at_counter(2, 1, 300, source="screen", ticket_id=first.id, reason="Thời gian chờ lâu",
                        now=T0 + timedelta(seconds=40))
    assert rate_at_counter(2, 1, 300, now=T0 + timedelta(seconds=41)) is None  # the keypad: nobody to rate
    assert Rating.select().count() == 0
