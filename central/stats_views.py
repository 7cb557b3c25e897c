"""Statistics and reports of every commune at the hub (operators): pages with charts, JSON and
Excel downloads, the periodic report. The work is in ``office.stats`` and ``motcua.stats_web``."""
from flask import Blueprint, request

from motcua import stats_web
from office.communes import find_commune
from office.models import Office

from .auth import operator_required

bp = Blueprint("stats", __name__)
NAV = (("/", "Trung tâm"), ("/agency", "Hồ sơ liên thông"), ("/catalog", "Danh mục thủ tục"), ("/reminders", "Nhắc việc"),
       ("/notifications", "Tin nhắn gửi đi"))


def _communes():
    rows = [(o.commune, o.name) for o in Office.select(Office.commune, Office.name).where(Office.commune != "*")]
    return sorted(rows, key=lambda r: r[1])


def _unit_name():
    commune = (request.args.get("commune") or "").strip()
    if not commune:
        return "Trung tâm điều hành một cửa – các xã, phường"
    office = Office.get_or_none(Office.commune == commune)
    found = find_commune(commune)
    return office.name if office else (found.full_name if found else f"Xã/phường mã {commune}")


@bp.get("/stats")
@operator_required
def index():
    return stats_web.page("", _unit_name(), {"nav": NAV, "communes": _communes()})


@bp.get("/stats/report.xlsx")
@operator_required
def report():
    return stats_web.report("", _unit_name())


@bp.get("/stats/<table>.xlsx")
@operator_required
def excel(table):
    return stats_web.excel("", _unit_name(), table)


@bp.get("/api/v1/stats/<table>")
@operator_required
def api(table):
    return stats_web.api("", table)
