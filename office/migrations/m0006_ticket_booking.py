"""Online bookings honoured at the kiosk: a ticket names the booking it was issued for and the start
of its slot, from which it is called ahead of walk-ins. (The ``booking`` table itself is new and
made from the model.)"""
from peewee import CharField, DateTimeField

NAME = "tickets issued for online bookings"


def up(step):
    step.add_column("ticket", "booking", CharField(default=""))
    step.add_column("ticket", "booked_for", DateTimeField(null=True))
