"""Statistics and reports of the communes an account covers (every commune for operators): pages
with charts, JSON and Excel downloads, the periodic report. The work is in ``office.stats`` and
``motcua.stats_web``."""
import logging

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, send_file

from motcua import stats_web
from motcua.web import wants_json
from office.communes import find_commune
from office.errors import MotcuaError
from office.models import Office

from . import export_jobs
from .auth import current_account, current_scope, hub_nav, require_commune, requires

log = logging.getLogger("motcua.hub.stats")

bp = Blueprint("stats", __name__)


def _communes():
    scope = current_scope()
    rows = [(o.commune, o.name) for o in Office.select(Office.commune, Office.name).where(Office.commune != "*")
            if scope.has_commune(o.commune)]
    return sorted(rows, key=lambda r: r[1])


def _scope():
    """The commune the statistics are limited to: "" (every one) for operators; for a leader or a
    viewer the commune asked for, which must be one of theirs (the first of theirs by default)."""
    asked = (request.values.get("commune") or "").strip()
    communes = current_scope().communes
    if communes is None:
        return ""
    if asked:
        require_commune(asked)
        return asked
    return communes[0] if communes else "-"


def _unit_name(scope):
    commune = scope or (request.values.get("commune") or "").strip()
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
                                                     "background_exports": True,
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


@bp.post("/stats/exports")
@bp.post("/api/v1/stats/exports")
@requires("stats.view")
def start_export():
    """An Excel button of the page: a short file at once, a long one as a job of the worker (the
    page then shows its progress and the download)."""
    scope = _scope()
    unit_name = _unit_name(scope)
    hub = current_app.extensions["hub"]
    section, query, rows, title, file_name, url = stats_web.export_plan(scope, unit_name)
    if rows <= hub.settings["stats_export_background_rows"]:
        if wants_json():
            return jsonify(ok=True, download_url=url)
        if section == "report":
            return stats_web.report(scope, unit_name)
        return stats_web.excel(scope, unit_name, section)
    spec = export_jobs.spec_of(section, None if section == "report" else query.group(section), query.period,
                               query.filters, query.now, unit_name, stats_web.timezone_name())
    job = export_jobs.create(current_account().id, spec, title, file_name, rows, hub.settings["data_dir"])
    try:
        hub.tasks["stats_export"](job.id)
    except Exception:  # the queue is down: say so rather than leave a job nobody makes
        log.warning("could not queue export job %s", job.id, exc_info=True)
        job.delete_instance()
        raise MotcuaError("Chưa gửi được việc tạo tệp cho máy chủ tác vụ. Hãy thử lại sau ít phút.", status=503)
    if wants_json():
        return jsonify(ok=True, job=export_jobs.state_of(job)), 202
    return redirect(f"/stats/exports/{job.token}", 303)


@bp.get("/stats/exports/<token>")
@requires("stats.view")
def export_status(token):
    state = export_jobs.state_of(export_jobs.find(token, current_account().id))
    return render_template("stats_export.html", job=state)


@bp.get("/api/v1/stats/exports/<token>")
@requires("stats.view")
def export_status_json(token):
    return jsonify(ok=True, job=export_jobs.state_of(export_jobs.find(token, current_account().id)))


@bp.get("/stats/exports/<token>/file")
@requires("stats.view")
def export_file(token):
    job = export_jobs.find(token, current_account().id)
    path = export_jobs.file_path(current_app.extensions["hub"].settings["data_dir"], job)
    if export_jobs.state_of(job)["state"] != job.DONE or not path.exists():
        raise MotcuaError("Tệp chưa tạo xong.", status=409)
    return send_file(path, mimetype=stats_web.XLSX, as_attachment=True, download_name=job.file_name)
