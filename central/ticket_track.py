"""A queue ticket's page at the hub (``/t/<code>``), where the QR code of a ticket points when the
box's tracking address is the hub's: a phone on mobile data cannot reach the office LAN. The hub
holds the tickets the box pushes every minute; the page reloads itself (no script needed)."""
from datetime import timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template

from motcua.tracking import limited
from office.board import waiting_ahead
from office.models import Office, Ticket

bp = Blueprint("ticket_track", __name__)
REFRESH_SECONDS = 30
STATES = {Ticket.ISSUED: "Đang chờ đến lượt", Ticket.CALLED: "Đang được mời đến quầy",
          Ticket.SERVING: "Đang được phục vụ", Ticket.DONE: "Đã phục vụ xong",
          Ticket.NO_SHOW: "Đã gọi nhưng quý khách vắng mặt", Ticket.CANCELLED: "Đã huỷ"}


def _local(moment):
    zone = ZoneInfo(current_app.extensions["hub"].settings["timezone"])
    return moment.replace(tzinfo=timezone.utc).astimezone(zone)


@bp.get("/t/<code>")
def track(code):
    code = code.strip().upper()[:40]
    ticket = Ticket.get_or_none(Ticket.tracking_code == code)
    if ticket is None:  # not pushed yet (the box sends every minute), mistyped, or guessed: misses count
        limited()
        return render_template("ticket_track.html", ticket=None, code=code, refresh_seconds=REFRESH_SECONDS), 404
    office = Office.get_or_none(Office.commune == ticket.commune)
    return render_template(
        "ticket_track.html", ticket=ticket, code=code, state=STATES.get(ticket.state, ticket.state),
        office=office.name if office else "", service=ticket.service.name,
        counter=ticket.counter.label if ticket.counter_id and ticket.state in Ticket.OPEN_STATES else "",
        ahead=waiting_ahead(ticket) if ticket.state == Ticket.ISSUED else None,
        issued=f"{_local(ticket.issued_at):%H:%M %d/%m/%Y}", refresh_seconds=REFRESH_SECONDS,
        final=ticket.state not in Ticket.OPEN_STATES)
