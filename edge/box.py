"""What a request needs to know about this box: settings, queue policy, task queue."""
import logging
from dataclasses import dataclass, field

from devices.network import recent_lan_address
from devices.voice import call_clips
from motcua.current import current_flask_app
from motcua.settings import parse_pairs
from office.board import estimate_wait_minutes, open_counters_query, waiting_ahead_query
from office.calendar import DEFAULT_HOURS, parse_hours, shared_calendar
from office.clock import local_clock
from office.db import database, scalars
from office.errors import MotcuaError
from office.group_commit import GroupCommit
from office.models import Office, utcnow
from office.opening import Opening, opening
from office.queue import QueuePolicy

from .nudge import Nudge
from .printing import PRINTER_FAILING, printer_trouble_query, trouble_of

log = logging.getLogger("motcua.edge")


@dataclass
class Box:
    settings: dict
    tasks: dict
    policy: QueuePolicy = field(init=False)
    writes: GroupCommit = field(init=False)  # the kiosks' tickets share commits (office.group_commit)

    def __post_init__(self):
        s = self.settings
        self.policy = QueuePolicy(
            timezone=s["timezone"],
            priority_ratio=s["priority_ratio"],
            priority_categories=parse_pairs(s["priority_categories"]),
            default_service_minutes=s["default_service_minutes"],
            estimate_window=s["estimate_window"],
            turn_ahead=s["notify_turn_ahead"],
        )
        try:
            self.hours = parse_hours(s["office_hours"])
        except ValueError:
            raise MotcuaError(f"Giờ làm việc (office_hours) “{s['office_hours']}” không hợp lệ: cần các khoảng "
                              "tăng dần dạng 07:00-11:30,13:30-17:00.") from None
        self.to_local = local_clock(s["timezone"])
        self.writes = GroupCommit()
        self.printer_nudge = Nudge(lambda: self.enqueue("print_job"), name="motcua-print-nudge")

    def opening(self, now=None):
        """Whether the kiosk issues numbers now: the office calendar (Vietnam's holidays, the hub's
        days off and working days, ``office_hours``) and ``issue_early_minutes``."""
        if self.settings["issue_any_time"]:
            return Opening(True, True, None, None, None, "")
        now = self.to_local(now or utcnow())
        return opening(stored_calendar(self.hours), now, self.settings["issue_early_minutes"])

    @property
    def office(self):
        return Office.select().first()

    def public_url(self):
        """Where a phone scanning the ticket's QR code reaches this box."""
        if self.settings["public_url"]:
            return self.settings["public_url"].rstrip("/")
        host = self.settings["host"]
        if host in ("0.0.0.0", "::", ""):
            host = recent_lan_address() or "127.0.0.1"
        return f"http://{host}:{self.settings['port']}"

    def tracking_base(self, node=None):
        """Where a phone on mobile data follows a ticket or a dossier: ``public_tracking_url``, else
        the hub (which holds every ticket and dossier the box has sent), else this box. ``node``:
        the box's stored hub address (``.hub_url``) when already read."""
        from sync.box import hub_url

        base = self.settings.get("public_tracking_url") or hub_url(self.settings, node) or self.public_url()
        return base.rstrip("/")

    def ticket_info(self, ticket, printer=False):
        """The ticket as the kiosk shows it and the printer prints it; with ``printer``, also whether the
        printer is known to be broken (``printer_error``), for the kiosk's answer. What it reads of the
        database (the people ahead, the counters open, the office's name and hub address, the
        printer's last word) is one statement: four of their own cost 0.7 % more of a ticket (issue 15)."""
        queries = [waiting_ahead_query(ticket), open_counters_query(ticket.service), _OFFICE_NAME, _HUB_URL]
        if printer:
            queries.append(printer_trouble_query())
        ahead, counters, office, stored_hub, *trouble = scalars(*queries)
        info = {
            "id": ticket.id,
            "number": ticket.number,
            "service": ticket.service.code,
            "service_name": ticket.service.name,
            "priority": ticket.priority,
            "priority_label": self.policy.priority_categories.get(ticket.priority) if ticket.priority else None,
            "tracking_code": ticket.tracking_code,
            "issued_at": ticket.issued_at.isoformat() + "Z",
            "issued_at_local": self.policy.local_time(ticket.issued_at).strftime("%H:%M %d/%m/%Y"),
            "ahead": ahead,
            "estimated_wait_min": estimate_wait_minutes(self.policy, ticket.service, ahead, counters),
            "office": office or "",
            "qr": f"{self.tracking_base(_StoredNode(stored_hub or ''))}/t/{ticket.tracking_code}",
        }
        if printer:
            info["printer_error"] = PRINTER_FAILING if trouble_of(trouble[0]) else None
        return info

    @staticmethod
    def print_payload(info):
        """What the printer needs, from ``ticket_info``."""
        return {
            "office": info["office"],
            "service": info["service_name"],
            "priority_label": info["priority_label"],
            "issued_at": info["issued_at_local"],
            "estimated_wait_min": info["estimated_wait_min"],
            "ahead": info["ahead"],
            "tracking_code": info["tracking_code"],
            "qr": info["qr"],
        }

    def enqueue(self, name, *args):
        """Ask the worker to act now; if the queue is unreachable the sweep catches up."""
        try:
            self.tasks[name](*args)
        except Exception:  # the database row is the truth; the task is only a nudge
            log.exception("could not enqueue %s%r", name, args)

    def nudge_printer(self):
        """Ask the worker to print what is due, from the nudge's own thread (``edge.nudge``): call
        it once the print job is committed. Twenty kiosks issuing together share the nudges."""
        self.printer_nudge.ask()

    def clip_urls(self, call):
        repeat = min(max(int(self.settings.get("lobby_call_repeat") or 1), 1), 3)
        names = call_clips(call["prefix"], call["seq"], call["counter"], self.settings["voice_reading"],
                           recall=call.get("recall", False), repeat=repeat)
        return [f"/clips/{name}.wav" for name in names]


@dataclass
class _StoredNode:  # what ``tracking_base`` reads of the stored node: its hub address
    hub_url: str


# the office's name and the hub address stored in the box (NULL before ``edge init``): a ticket prints
# both (its QR code leads to the hub)
_OFFICE_NAME = ("SELECT name FROM office LIMIT 1", ())
_HUB_URL = ("SELECT hub_url FROM sync_node LIMIT 1", ())
_HOLIDAYS = "SELECT day, kind FROM holiday ORDER BY day, kind"  # the hub's extra days off and working days


def stored_calendar(hours=DEFAULT_HOURS):
    """Working days with the hub's extra days off and working days stored here: one plain statement,
    and the calendar made again only when those rows differ (with peewee's query and the calendar's
    sets made each time, the kiosk's opening check took about 0.07 ms of every ticket)."""
    return shared_calendar(tuple(database.execute_sql(_HOLIDAYS).fetchall()), hours)


def current_box():
    return current_flask_app().extensions["box"]
