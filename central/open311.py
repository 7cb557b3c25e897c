"""Open311 GeoReport v2 at the hub (``/open311/v2/``), over the field reports.

- ``GET services.json|xml``: the report categories (``metadata`` true: one attribute, ``commune``).
- ``GET services/<code>.json|xml``: the service definition (the ``commune`` attribute: a GSO code).
- ``POST requests.json|xml``: a new report from a registered client app (``api_key``); fields
  ``service_code``, ``lat``+``long`` or ``address_string``, ``description``, ``phone`` (kept private),
  ``attribute[commune]`` (GSO code; may be left out when the hub serves one commune only), a photo as
  a multipart ``media`` file. ``email``/``first_name``/``last_name`` are not kept; ``media_url`` is not
  fetched (the hub reaches no outside address): send the photo as ``media``.
- ``GET requests.json|xml`` (``service_request_id``, ``service_code``, ``status`` open/closed,
  ``start_date``, ``end_date``; at most 90 days, the last 90 by default) and ``GET requests/<id>.json|xml``:
  public reports only, without the reporter's phone or address (the ``address`` is the commune).
``jurisdiction_id`` is optional: this hub is the one jurisdiction. Errors are
``[{"code": 400, "description": "..."}]`` (XML ``<errors><error>``).
"""
import logging
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from blobs.photos import store_photos
from blobs.store import open_store
from motcua.stats_web import work_calendar
from motcua.web import local_now
from office import reports
from office.communes import commune_label, find_commune
from office.errors import MotcuaError
from office.models import Office

from .open311_clients import client_of_key
from .outbox import normalise_phone

log = logging.getLogger("motcua.hub.open311")

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FORMATS = ("json", "xml")
MAX_SPAN = timedelta(days=90)
LIST_LIMIT = 1000


class Open311Error(Exception):
    def __init__(self, code, description):
        super().__init__(description)
        self.code, self.description = code, description


@bp.errorhandler(Open311Error)
def _error(error):
    return _answer([{"code": error.code, "description": error.description}], "errors", "error", error.code)


@bp.errorhandler(MotcuaError)
def _domain_error(error):
    return _error(Open311Error(error.status if error.status < 500 else 400, error.message))


def _fmt(fmt):
    if fmt not in FORMATS:
        raise Open311Error(404, "Định dạng phải là json hoặc xml.")
    return fmt


def _answer(items, root, item, status=200):
    fmt = request.view_args.get("fmt", "json") if request.view_args else "json"
    if fmt != "xml":
        response = jsonify(items)
        response.status_code = status
        return response
    top = ET.Element(root)
    for entry in items:
        _xml_item(top, item, entry)
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")
    return Response(body, status=status, mimetype="text/xml")


def _xml_item(parent, name, value):
    node = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(inner, list):
                holder = ET.SubElement(node, key)
                for each in inner:
                    _xml_item(holder, key[:-1] if key.endswith("s") else key, each)
            else:
                _xml_item(node, key, inner)
    elif value is not None:
        node.text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return node


def _tz():
    return ZoneInfo(current_app.extensions["hub"].settings["timezone"])


def _w3c(moment):
    """An office-local naive time as W3C datetime with the office's offset."""
    return moment.replace(tzinfo=_tz()).isoformat(timespec="seconds") if moment else None


def _parse_date(text, name):
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} phải theo dạng W3C, ví dụ 2026-01-01T00:00:00Z.") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(_tz()).replace(tzinfo=None)
    return moment


# ---- services -----------------------------------------------------------------------------------

def _service(category):
    return {"service_code": category.code, "service_name": category.name, "description": category.description,
            "metadata": True, "type": "realtime", "keywords": "", "group": "phản ánh, kiến nghị"}


COMMUNE_ATTRIBUTE = {"variable": True, "code": "commune", "datatype": "string", "required": True,
                     "datatype_description": "Mã xã/phường (mã GSO, ví dụ 05518) nơi xảy ra sự việc",
                     "order": 1, "description": "Xã/phường"}


@bp.get("/services.<fmt>")
def services(fmt):
    _fmt(fmt)
    return _answer([_service(c) for c in reports.categories()], "services", "service")


@bp.get("/services/<code>.<fmt>")
def service_definition(code, fmt):
    _fmt(fmt)
    found = reports.category(code)
    if found is None or not found.active:
        raise Open311Error(404, f"Không có dịch vụ {code}.")
    definition = {"service_code": found.code, "attributes": [COMMUNE_ATTRIBUTE]}
    if fmt == "json":
        return jsonify(definition)
    top = ET.Element("service_definition")
    ET.SubElement(top, "service_code").text = found.code
    attributes = ET.SubElement(top, "attributes")
    _xml_item(attributes, "attribute", COMMUNE_ATTRIBUTE)
    return Response(b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8"),
                    mimetype="text/xml")


# ---- requests -----------------------------------------------------------------------------------

def _commune_of(form):
    code = (form.get("attribute[commune]") or form.get("commune") or "").strip()
    if code:
        if find_commune(code) is None:
            raise Open311Error(400, f"Mã xã/phường {code} không có trong danh mục 3.321 xã/phường.")
        return code
    served = [o.commune for o in Office.select(Office.commune).where(Office.commune != "*")]
    if len(served) == 1:
        return served[0]
    raise Open311Error(400, "Thiếu attribute[commune]: mã xã/phường nơi xảy ra sự việc.")


@bp.post("/requests.<fmt>")
def post_request(fmt):
    _fmt(fmt)
    form = request.form
    client = client_of_key(form.get("api_key") or request.args.get("api_key") or "")
    if client is None:
        raise Open311Error(403, "api_key không đúng hoặc đã bị tắt.")
    service_code = (form.get("service_code") or "").strip()
    if not service_code:
        raise Open311Error(400, "Thiếu service_code.")
    if reports.category(service_code) is None:
        raise Open311Error(404, f"Không có dịch vụ {service_code}.")
    if not (form.get("lat") and form.get("long")) and not form.get("address_string") and not form.get("address_id"):
        raise Open311Error(400, "Cần lat và long, hoặc address_string.")
    commune = _commune_of(form)
    phone = ""
    if (form.get("phone") or "").strip():
        mobile = normalise_phone(form["phone"])  # 84xxxxxxxxx
        if mobile is None:
            raise Open311Error(400, "phone không phải số di động Việt Nam (10 chữ số, ví dụ 0912345678).")
        phone = "0" + mobile[2:]  # kept as citizens' phones are: 0xxxxxxxxx
    address = form.get("address_string") or ""
    reports.clean(commune, service_code, form.get("description"), form.get("lat"), form.get("long"), address)
    files = [(f.filename or "media.jpg", f.stream) for f in request.files.getlist("media") if f]
    photos = store_photos(open_store(current_app.extensions["hub"].settings), files)
    report = reports.submit(commune, service_code, form.get("description"), phone, work_calendar(commune),
                            local_now(), lat=form.get("lat"), lon=form.get("long"), address=address, public=True,
                            photos=photos, source=f"open311:{client.name}"[:250])
    log.info("open311: %s gửi phản ánh %s (xã %s)", client.name, report.code, commune)
    return _answer([{"service_request_id": report.code, "service_notice": _notice(report), "account_id": None}],
                   "service_requests", "request", 201)


def _notice(report):
    return (f"Hạn tiếp nhận {report.ack_due:%H:%M %d/%m/%Y}, hạn trả lời {report.answer_due:%H:%M %d/%m/%Y}."
            if report.ack_due and report.answer_due else "")


def _request_of(report, names):
    photos = reports.photos_of(report, "photo") or reports.photos_of(report, "answer")
    near = report.coarse_location()
    updated = max(filter(None, (report.created_at, report.acknowledged_at, report.answered_at, report.closed_at)))
    return {
        "service_request_id": report.code,
        "status": "open" if report.open else "closed",
        "status_notes": report.answer or report.status_label,
        "service_name": names.get(report.category, report.category),
        "service_code": report.category,
        "description": report.description,
        "agency_responsible": f"UBND {commune_label(report.commune)}",
        "service_notice": _notice(report),
        "requested_datetime": _w3c(report.created_at),
        "updated_datetime": _w3c(updated),
        "expected_datetime": _w3c(report.answer_due),
        "address": commune_label(report.commune),  # never the reporter's own words: the commune only
        "address_id": None,
        "zipcode": None,
        "lat": near[0] if near else None,
        "long": near[1] if near else None,
        "media_url": url_for("public_reports.photo", sha=photos[0].sha256, _external=True) if photos else None,
    }


@bp.get("/requests.<fmt>")
def get_requests(fmt):
    _fmt(fmt)
    args = request.args
    ids = [i.strip().upper() for i in (args.get("service_request_id") or "").split(",") if i.strip()][:200]
    start = _parse_date(args["start_date"], "start_date") if args.get("start_date") else None
    end = _parse_date(args["end_date"], "end_date") if args.get("end_date") else None
    status = (args.get("status") or "").strip().lower()
    statuses = {s.strip() for s in status.split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status chỉ nhận open hoặc closed.")
    if ids:  # the spec: service_request_id overrides every other argument
        rows = reports.public_reports(codes=ids, limit=LIST_LIMIT)
    else:
        if start and end and end - start > MAX_SPAN:
            raise Open311Error(400, "Khoảng thời gian không được dài quá 90 ngày.")
        if start is None and end is None:
            start = local_now() - MAX_SPAN
        elif start is None:
            start = end - MAX_SPAN
        elif end is None:
            end = start + MAX_SPAN
        rows = reports.public_reports(status=statuses.pop() if len(statuses) == 1 else "",
                                      category_code=(args.get("service_code") or "").strip(),
                                      start=start, end=end, limit=LIST_LIMIT)
    names = reports.category_names()
    return _answer([_request_of(r, names) for r in rows], "service_requests", "request")


@bp.get("/requests/<request_id>.<fmt>")
def get_request(request_id, fmt):
    _fmt(fmt)
    rows = reports.public_reports(codes=[request_id.strip().upper()], limit=1)
    if not rows:
        raise Open311Error(404, f"Không có phản ánh công khai {request_id}.")
    return _answer([_request_of(rows[0], reports.category_names())], "service_requests", "request")
