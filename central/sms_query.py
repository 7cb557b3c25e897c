"""Tracking by SMS: what a citizen typed, and the short unaccented answer they get back.

It says no more than the tracking page shows anyone holding the code (``dossiers.tracking_view``).
"""
import re

from office import dossiers
from office.errors import NotFound
from office.models import Ticket

from .texts import ascii_text

_KEYWORDS = re.compile(r"^\s*(TRA\s*CUU|TRACUU)\b[\s:.-]*", re.IGNORECASE)
TICKET_STATES = {Ticket.ISSUED: "dang cho goi", Ticket.CALLED: "dang duoc goi", Ticket.SERVING: "dang duoc phuc vu",
                 Ticket.DONE: "da phuc vu xong", Ticket.NO_SHOW: "da qua luot", Ticket.CANCELLED: "da huy"}
HELP = "Soan TRACUU <ma ho so> hoac ma tra cuu in tren phieu de xem tinh trang."


def parse_code(content):
    """The code a citizen typed: keyword and spaces gone, upper case (codes are upper case)."""
    text = _KEYWORDS.sub("", content or "").strip()
    return re.sub(r"\s+", "", text).upper()


def reply_for(code, now=None):
    """The short status of a dossier or a ticket, or how to ask."""
    if not code:
        return HELP
    try:
        view = dossiers.tracking_view(dossiers.get(code), now=now)
    except NotFound:
        view = None
    if view is not None:
        late = " (qua han)" if view["late"] else ""
        step = f", buoc: {view['stage']}" if view["stage"] else ""
        return ascii_text(f"Ho so {view['code']} ({view['procedure']}): {view['status_label']}{step}. "
                          f"Hen tra {view['due_at']}{late}.")
    ticket = Ticket.get_or_none(Ticket.tracking_code == code)
    if ticket is not None:
        counter = f" tai quay {ticket.counter.number}" if ticket.counter_id and ticket.state in Ticket.OPEN_STATES else ""
        return f"Ve so {ticket.number} ngay {ticket.day}: {TICKET_STATES.get(ticket.state, ticket.state)}{counter}."
    return ascii_text(f"Khong tim thay ho so hoac ve co ma {code}. ") + HELP
