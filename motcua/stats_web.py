"""The statistics pages, their JSON and their Excel downloads, shared by the hub (every commune)
and the box (its own commune): read the period and filters, call ``office.stats``, render."""
import re
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import current_app, jsonify, render_template, request, send_file

from office import export, stats, stats_queue, stats_reports
from office.calendar import calendar_from
from office.errors import MotcuaError, NotFound
from office.models import Holiday
from office.stats_period import Filters, parse_period

from .web import local_now

DOWNLOAD_TOKEN = re.compile(r"[a-z0-9]{6,32}")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_ROWS = 300  # overdue dossiers shown on the page; the download has them all
API_ROWS = 5000  # and in the JSON
SECTIONS = {  # name: (tab label, groupings offered (first: default), hub-only groupings)
    "summary": ("Tình hình giải quyết", ("commune", "field", "procedure", "month", "day", "stage", "handler",
                                         "agency"), ("commune",)),
    "overdue": ("Hồ sơ trễ hạn", (), ()),
    "lateness": ("Trễ hạn theo người xử lý", (), ()),
    "satisfaction": ("Mức độ hài lòng", ("officer", "counter", "commune"), ("commune",)),
    "index766": ("Chỉ số 766", (), ()),
    "queue": ("Xếp hàng", ("service", "counter", "officer", "commune"), ("commune",)),
    "reports": ("Phản ánh, kiến nghị", (), ()),
}
GROUP_LABELS = {**stats.GROUPS, **stats_queue.QUEUE_GROUPS, **stats_queue.RATING_GROUPS}
CHARTS = {  # the series drawn per table: (key, label, colour); stacked when several
    "summary": (("early", "Trước hạn", "#2e7d32"), ("on_time", "Đúng hạn", "#66bb6a"),
                ("late", "Quá hạn (đã xong)", "#c62828"), ("pending", "Đang giải quyết", "#0b4f9c"),
                ("other", "Từ chối/rút/dừng", "#9aa5b5")),
    "overdue": (("days_late", "Số ngày trễ", "#c62828"),),
    "lateness": (("late", "Đã xong nhưng trễ hạn", "#ef8f00"), ("overdue_open", "Đang quá hạn", "#c62828")),
    "satisfaction": (("very", "Rất hài lòng", "#2e7d32"), ("satisfied", "Hài lòng", "#66bb6a"),
                     ("dissatisfied", "Chưa hài lòng", "#c62828")),
    "index766": (("satisfaction_index", "Chỉ số hài lòng (%)", "#0b4f9c"),),
    "queue": (("wait_p90", "Chờ P90 (phút)", "#ef8f00"),),
    "reports": (("on_time", "Trả lời đúng hạn", "#2e7d32"), ("overdue", "Đang quá hạn", "#c62828"),
                ("open", "Chưa trả lời", "#0b4f9c")),
}
CHART_LABEL = {"overdue": "code", "lateness": "handler"}



def timezone_name():
    holder = current_app.extensions.get("hub") or current_app.extensions.get("box")
    return holder.settings["timezone"]


def work_calendar(commune):
    holidays = Holiday.select(Holiday.day, Holiday.kind)
    if commune:
        holidays = holidays.where(Holiday.commune.in_(["*", commune]))
    return calendar_from(holidays.tuples())


def groups_of(section, scoped):
    _, groups, hub_only = SECTIONS[section]
    return tuple(g for g in groups if not (scoped and g in hub_only))


class Query:
    """The period, filters and grouping a page asked for, with the raw values to show back."""

    def __init__(self, args, scope):
        self.scope = scope  # the box's commune, or "" at the hub
        self.values = {k: (args.get(k) or "").strip()[:40] for k in
                       ("month", "quarter", "year", "from", "to", "commune", "field", "procedure", "group")}
        self.now = local_now()
        self.period = parse_period(self.values, self.now.date())
        commune = scope or self.values["commune"]
        self.filters = Filters(commune=commune, field=self.values["field"], procedure=self.values["procedure"])

    def group(self, section):
        groups = groups_of(section, bool(self.scope))
        wanted = self.values["group"]
        if not groups:
            return None
        if wanted and wanted not in groups:
            raise MotcuaError(f"Không có cách nhóm “{wanted}” cho bảng này.", status=400)
        return wanted or groups[0]


def build(section, query, limit=None):
    """The table of ``section`` for ``query`` (``limit`` caps the overdue list for a page)."""
    if section not in SECTIONS:
        raise NotFound("Không có bảng thống kê này.")
    return build_table(section, query.period, query.filters, query.now, query.group(section), timezone_name(), limit)


def build_table(section, period, filters, now, group, tz_name, limit=None):
    """The same without a request (the hub's worker making a background export)."""
    if section == "summary":
        return stats.summary(period, filters, group, now)
    if section == "overdue":
        return stats.overdue(period, filters, now, work_calendar(filters.commune), limit=limit)
    if section == "lateness":
        return stats.lateness_by_handler(period, filters, now)
    if section == "index766":
        return stats.index766(period, filters, now)
    if section == "satisfaction":
        return stats_queue.satisfaction(period, filters, group, tz_name)
    if section == "reports":
        return stats_reports.report_stats(period, filters, now)
    if section == "queue":
        return stats_queue.queue_stats(period, filters, group)
    raise NotFound("Không có bảng thống kê này.")


def export_rows(section, query):
    """About how many rows the Excel file of ``section`` ("report": the periodic report) will hold:
    the overdue list is the only long one (the other tables have a row per commune, field, day...)."""
    if section in ("overdue", "report"):
        return stats.overdue_count(query.period, query.filters, query.now)
    return 0


def _fields():
    return sorted({f or stats.NO_FIELD for f in stats.fields_of_procedures().values()} )


def page(scope, unit_name, template_context):
    """The statistics page: one section (``table``) at a time, chart and table; a bad period
    answers 400 with the form as typed."""
    section = request.args.get("table") or "summary"
    if section not in SECTIONS:
        section = "summary"
    context = dict(template_context, sections=SECTIONS, section=section, unit_name=unit_name, scoped=bool(scope),
                   group_labels=GROUP_LABELS, series=CHARTS[section], chart_label=CHART_LABEL.get(section, "label"),
                   fields=_fields(), error=None, table=None, rows=[], values={}, groups=groups_of(section, bool(scope)),
                   group=None, query_string=_query_string(), page_rows=PAGE_ROWS, xlsx_url=_xlsx_url,
                   json_url=_json_url, report_url=_report_url, export_fields=export_form_fields,
                   background_exports=template_context.get("background_exports", False))
    try:
        query = Query(request.args, scope)
        context.update(values=query.values, group=query.group(section))
        table = build(section, query, limit=PAGE_ROWS)
        context.update(table=table, rows=list(table.rows), period=query.period)
    except MotcuaError as error:
        if error.status != 400:
            raise
        context.update(error=error.message, values={k: (request.args.get(k) or "")[:40] for k in
                                                    ("month", "quarter", "year", "from", "to", "commune", "field",
                                                     "procedure", "group")})
        return render_template("stats.html", **context), 400
    return render_template("stats.html", **context)


def _query_string(drop=("table",)):
    return urlencode({k: v for k, v in request.args.items() if k not in drop and v})


def _xlsx_url(section):
    return f"/stats/{section}.xlsx?{_query_string()}"


def _json_url(section):
    return f"/api/v1/stats/{section}?{_query_string()}"


def _report_url(kind):
    """The periodic report of the month or quarter the page's period starts in."""
    period = parse_period({k: request.args.get(k) or "" for k in ("month", "quarter", "year", "from", "to")},
                          local_now().date())
    value = f"{period.start:%Y-%m}" if kind == "month" else f"{period.start.year}-Q{(period.start.month + 2) // 3}"
    extra = {k: request.args[k] for k in ("commune", "field", "procedure") if request.args.get(k)}
    return f"/stats/report.xlsx?{urlencode({kind: value, **extra})}"


def api(scope, section):
    table = build(section, Query(request.args, scope), limit=API_ROWS)
    return jsonify(table.as_dict())


def _send(book, name):
    response = send_file(export.save(book), mimetype=XLSX, as_attachment=True, download_name=name)
    token = request.values.get("download_token", "")
    if DOWNLOAD_TOKEN.fullmatch(token):  # the page waiting for this file learns it has come (stats.js)
        response.set_cookie("motcua_download", token, max_age=120, samesite="Lax", secure=request.is_secure)
    return response


def excel(scope, unit_name, section):
    query = Query(request.values, scope)
    table = build(section, query)
    return _send(export.table_workbook(table, unit_name, query.now), export.download_name(table.title, query.period))


def report(scope, unit_name):
    """The periodic report: ``month`` or ``quarter`` (or any period the form names)."""
    query = Query(request.values, scope)
    book = export.periodic_report(query.period, query.filters, unit_name, query.now,
                                  work_calendar(query.filters.commune), timezone_name())
    return _send(book, export.download_name("Báo cáo định kỳ", query.period))



def export_plan(scope, unit_name):
    """What an Excel button of the page asks for (``table``: a section or "report", with the page's
    period and filters): (section, query, rows it will hold, title, file name, direct URL)."""
    section = request.values.get("table") or "summary"
    if section != "report" and section not in SECTIONS:
        raise NotFound("Không có bảng thống kê này.")
    query = Query(request.values, scope)
    if section == "report":
        title = "Báo cáo định kỳ"
    else:
        title = build(section, query).title  # the rows are not read: the overdue list is a generator
    keep = {k: v for k, v in request.values.items() if k not in ("table", "csrf_token", "download_token") and v}
    url = f"/stats/{section}.xlsx?{urlencode(keep)}"
    return section, query, export_rows(section, query), title, export.download_name(title, query.period), url


def export_form_fields(url):
    """The hidden fields of an Excel button's form: the query of the download ``url`` (stats.html)."""
    parts = urlsplit(url)
    return [("table", parts.path.rsplit("/", 1)[-1].removesuffix(".xlsx")), *parse_qsl(parts.query)]
