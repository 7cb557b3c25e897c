"""Tracking by SMS: what a citizen typed, and the short unaccented answer they get back.

``TRACUU <dossier code> <secret>`` answers what the tracking page shows the holder of the
appointment slip (``dossiers.track``); the code alone only says the dossier exists. A queue
ticket's random code needs no secret.
"""
import re

from office import dossiers
from office.errors import NotFound
from office.models import Ticket

from .texts import ascii_text

_KEYWORDS = re.compile(r"^\s*(TRA\s*CUU|TRACUU)\b[\s:.-]*", re.IGNORECASE)
TICKET_STATES = {Ticket.ISSUED: "dang cho goi", Ticket.CALLED: "dang duoc goi", Ticket.SERVING: "dang duoc phuc vu",
                 Ticket.DONE: "da phuc vu xong", Ticket.NO_SHOW: "da qua luot", Ticket.CANCELLED: "da huy"}
HELP = "Soan TRACUU <ma ho so> <ma bi mat> tren giay hen, hoac ma tra cuu tren phieu so thu tu, de xem tinh trang."
NEED_SECRET = ("Ho so {code} da duoc tiep nhan. De xem tinh trang, soan TRACUU {code} <ma bi mat> "
               "(ma 6 ky tu in tren giay hen).")


def _is_secret(word):
    return len(word) == dossiers.SECRET_LENGTH and all(ch in dossiers.SECRET_ALPHABET for ch in word)


def parse_code(content):
    """The code a citizen typed, upper case, spaces gone; a dossier code's secret typed after it
    stays apart, after one space: ``"<code> <secret>"``."""
    words = _KEYWORDS.sub("", content or "").upper().split()
    if len(words) >= 2 and _is_secret(words[-1]) and "-" in "".join(words[:-1]):
        return f"{''.join(words[:-1])} {words[-1]}"
    return "".join(words)


def reply_for(typed, now=None):
    """The short status of a dossier or a ticket, or how to ask."""
    if not typed:
        return HELP
    code, _, secret = typed.partition(" ")
    try:
        view = dossiers.track(code, secret, now=now)
    except NotFound:
        view = None
    if view is not None and not view["verified"]:
        return ascii_text(NEED_SECRET.format(code=view["code"]))
    if view is not None:
        late = " (qua han)" if view["late"] else ""
        step = f", buoc: {view['stage']}" if view["stage"] else ""
        return ascii_text(f"Ho so {view['code']} ({view['procedure']}): {view['status_label']}{step}. "
                          f"Hen tra {view['due_at']}{late}.")
    ticket = Ticket.get_or_none(Ticket.tracking_code == code)
    if ticket is not None:
        counter = f" tai quay {ticket.counter.number}" if ticket.counter_id and ticket.state in Ticket.OPEN_STATES else ""
        day = "/".join(reversed(ticket.day.split("-")))
        return f"So thu tu {ticket.number} ngay {day}: {TICKET_STATES.get(ticket.state, ticket.state)}{counter}."
    return ascii_text(f"Khong tim thay ho so hoac so thu tu co ma {code}. ") + HELP
