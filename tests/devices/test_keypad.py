"""The GPIO rating keypad, driven with gpiozero's MockFactory."""
from datetime import timedelta

import pytest
from gpiozero.pins.mock import MockFactory

from edge.worker import keypad_for
from office import queue
from office.models import Officer, Rating, utcnow


@pytest.fixture
def pins():
    factory = MockFactory()
    yield factory
    factory.reset()


def finish_at_counter(policy, number, username):
    counter = queue.sign_in(number, Officer.get(username=username))
    queue.issue_ticket(policy, "ho-tich", now=utcnow() - timedelta(minutes=3))
    queue.call_next(policy, counter.id)
    queue.start_serving(counter.id)
    return queue.finish(counter.id)


def test_key_one_rates_the_ticket_just_finished_very_satisfied(office, policy, settings, pins):
    settings.update(keypad_pins="17,27,22", keypad_counter=2)
    keypad = keypad_for(settings, pin_factory=pins)
    other = finish_at_counter(policy, 1, "canbo1")
    ticket = finish_at_counter(policy, 2, "canbo2")
    pins.pin(17).drive_low()  # key 1 pressed
    pins.pin(17).drive_high()
    rating = Rating.get()
    assert (rating.ticket_id, rating.score, rating.label, rating.source) == (ticket.id, 3, "Rất hài lòng", "keypad")
    assert rating.officer.username == "canbo2"
    assert Rating.get_or_none(Rating.ticket == other.id) is None
    pins.pin(22).drive_low()  # a second press has nobody left to rate
    assert Rating.select().count() == 1
    keypad.close()


def test_keys_two_and_three(office, policy, settings, pins):
    settings.update(keypad_pins="17,27,22", keypad_counter=1)
    keypad = keypad_for(settings, pin_factory=pins)
    finish_at_counter(policy, 1, "canbo1")
    pins.pin(22).drive_low()
    assert Rating.get().label == "Chưa hài lòng"
    keypad.close()


def test_no_pins_no_keypad(settings):
    assert keypad_for(settings) is None
