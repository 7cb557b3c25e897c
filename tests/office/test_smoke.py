from office.models import Ticket
from office.queue import issue_ticket


def test_issue_first_ticket(office, policy):
    ticket = issue_ticket(policy, "ho-tich")
    assert ticket.number == "A-001"
    assert Ticket.select().count() == 1
