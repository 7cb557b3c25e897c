"""Statistics and reports of the communes an account covers (every commune for operators): pages
with charts, JSON and Excel downloads, the periodic report. The work is in ``office.stats`` and
``motcua.stats_web``."""
from flask import Blueprint, request

from motcua import stats_web
from office.communes import find_commune
from office.models import Office

from .auth import current_scope, hub_nav, require_commune, requires

bp = Blueprint("stats", __name__)


def _communes():
    scope = current_scope()
    rows = [(o.commune, o.name) for o in Office.select(Office.commune, Office.name).where(Office.commune != "*")
            if scope.has_commune(o.commune)]
    return sorted(rows, key=lambda r: r[1])


def _scope():
    """The commune the statistics are limited to: "" (every one) for operators; for a leader or a
    viewer the commune asked for, which must be one of theirs (the first of theirs by default)."""
    asked = (request.args.get("commune") or "").strip()
    communes = current_scope().communes
    if communes is None:
        return ""
    if asked:
        require_commune(asked)
        return asked
    return communes[0] if communes else "-"


def _unit_name(scope):
    commune = scope or (request.args.get("commune") or "").strip()
    if not commune:
        return "Trung tâm điều hành một cửa – các xã, phường"
    office = Office.get_or_none(Office.commune == commune)
    found = find_commune(commune)
    return office.name if office else (found.full_name if found else f"Xã/phường mã {commune}")


@bp.get("/stats")
@requires("stats.view")
def index():
    from office.bookings import STATE_LABELS, booking_counts
    from office.communes import commune_label

    scope = _scope()
    bookings = booking_counts([scope] if scope else None)  # used and no-shows per commune, as the box marks them
    return stats_web.page(scope, _unit_name(scope), {"nav": hub_nav(), "communes": _communes(),
                                                     "booking_counts": bookings, "booking_labels": STATE_LABELS,
                                                     "booking_commune": commune_label})


@bp.get("/stats/report.xlsx")
@requires("stats.view")
def report():
    scope = _scope()
    return stats_web.report(scope, _unit_name(scope))


@bp.get("/stats/<table>.xlsx")
@requires("stats.view")
def excel(table):
    scope = _scope()
    return stats_web.excel(scope, _unit_name(scope), table)


@bp.get("/api/v1/stats/<table>")
@requires("stats.view")
def api(table):
    return stats_web.api(_scope(), table)
