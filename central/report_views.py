"""Field reports at the hub: the citizen's form (a proved phone) and the public pages.

``citizen_reports``: ``/cong-dan/phan-anh/moi`` (category, description, up to 5 photos, a place: the
phone's coordinates when allowed, or an address and the commune), and the citizen's own list.
``public_reports``: ``/phan-anh`` (public reports: status, category, commune, coarse place, the
answer and its photos; never the reporter's phone or address), ``/phan-anh/<code>``, and the photos
of public reports at ``/phan-anh/anh/<sha256>`` (what Open311's ``media_url`` points to).
"""
import logging

from flask import Blueprint, current_app, redirect, render_template, request, send_file, url_for

from blobs.photos import store_photos
from blobs.store import is_sha256, open_store
from motcua.stats_web import work_calendar
from motcua.web import local_now
from office import reports
from office.clock import utcnow
from office.communes import all_communes, commune_label, find_commune
from office.errors import MotcuaError, NotFound
from office.models import Office
from office.search import fold

from .citizens import citizen_required, current_citizen

log = logging.getLogger("motcua.hub.reports")

citizen_bp = Blueprint("citizen_reports", __name__, url_prefix="/cong-dan/phan-anh")
public_bp = Blueprint("public_reports", __name__, url_prefix="/phan-anh")
PUBLIC_LIST = 100


def hub_settings():
    return current_app.extensions["hub"].settings


def served_communes():
    """(code, full name, province) of the communes this hub has an office for (the datalist's choices)."""
    rows = []
    for office in Office.select(Office.commune).where(Office.commune != "*"):
        found = find_commune(office.commune)
        if found:
            rows.append((found.code, found.full_name, found.province_name))
    return sorted(rows, key=lambda r: fold(r[1]))


def commune_choice(code, name):
    """The commune a form names: by its code, or by its name (“Phường Sông Công” or with “, Tỉnh ...”);
    returns (code or "", [candidates (code, label)] when the name is ambiguous)."""
    if code and find_commune(code):
        return code, []
    parts = [fold(p) for p in (name or "").replace("—", ",").split(",") if fold(p).strip()]
    if not parts:
        return "", []
    wanted, province = parts[0], (parts[1] if len(parts) > 1 else "")
    found = []
    for commune in all_communes().values():
        full, short = fold(commune.full_name), fold(commune.name)
        if wanted in (full, short) and (not province or province in fold(commune.province_name)):
            found.append(commune)
    if len(found) == 1:
        return found[0].code, []
    return "", [(c.code, f"{c.full_name}, {c.province_name}") for c in found[:30]]


def label_with_province(code):
    found = find_commune(code)
    return f"{found.full_name}, {found.province_name}" if found else ""


# ---- the citizen's form -------------------------------------------------------------------------

CONSENT_VERSION = "phan-anh-2025-1"


def _needs_consent():
    return current_citizen().consent_at is None


def _form_page(values, error=None, candidates=(), status=200):
    return render_template("citizen_report_new.html", categories=reports.categories(), values=values, error=error,
                           candidates=candidates, communes=served_communes(), max_photos=5,
                           need_consent=_needs_consent()), status


@citizen_bp.get("/moi")
@citizen_required
def new():
    return _form_page({"public": "1"})[0]


@citizen_bp.post("/moi")
@citizen_required
def create():
    citizen = current_citizen()
    form = request.form
    values = {k: form.get(k, "") for k in ("category", "description", "lat", "lon", "address", "commune",
                                           "commune_name", "public")}
    code, candidates = commune_choice(values["commune"], values["commune_name"])
    try:
        if _needs_consent() and form.get("consent") != "1":
            raise MotcuaError("Hãy đọc và đồng ý với việc xử lý dữ liệu cá nhân để gửi phản ánh.", status=400)
        if not code:
            if candidates:
                raise MotcuaError("Có nhiều xã/phường cùng tên: hãy chọn đúng nơi.", status=400)
            raise MotcuaError("Hãy chọn xã/phường nơi xảy ra sự việc (gõ tên và chọn trong danh sách).", status=400)
        files = [(f.filename, f.stream) for f in request.files.getlist("photos") if f and f.filename]
        if len(files) > 5:
            raise MotcuaError("Chỉ gửi được tối đa 5 ảnh.", status=400)
        reports.clean(code, values["category"], values["description"], values["lat"], values["lon"],
                      values["address"])  # before any bytes are kept
        reports.check_daily_limit(citizen.phone, local_now())
        photos = store_photos(open_store(hub_settings()), files)
        report = reports.submit(code, values["category"], values["description"], citizen.phone,
                                work_calendar(code), local_now(), lat=values["lat"], lon=values["lon"],
                                address=values["address"], public=values["public"] == "1", photos=photos)
    except MotcuaError as error:
        log.info("phản ánh bị từ chối: %s", error.message)
        return _form_page(values, error.message, candidates, status=error.status if error.status < 500 else 400)
    if _needs_consent():
        citizen.consent_version, citizen.consent_at = CONSENT_VERSION, utcnow()
        citizen.save()
    log.info("phản ánh mới %s của xã %s (%d ảnh)", report.code, report.commune, len(photos))
    return redirect(url_for("citizen_reports.sent", code=report.code))


@citizen_bp.get("/da-gui/<code>")
@citizen_required
def sent(code):
    report = reports.get(code)
    if report.phone != current_citizen().phone:
        raise NotFound("Không tìm thấy phản ánh.")
    return render_template("citizen_report_sent.html", report=report, names=reports.category_names(),
                           commune_label=commune_label)


def citizen_reports_here():
    """The reports of the phone this browser proved (none without one): for the citizen's pages."""
    citizen = current_citizen()
    return reports.reports_of_phone(citizen.phone) if citizen else []


@citizen_bp.get("/")
@citizen_required
def mine():
    return render_template("citizen_reports_mine.html")


# ---- public pages -------------------------------------------------------------------------------

@public_bp.get("")
def index():
    status = request.args.get("status", "")
    commune = (request.args.get("commune") or "").strip()[:10]
    rows = reports.public_reports(commune=commune, status=status if status in ("open", "closed") else "",
                                  limit=PUBLIC_LIST)
    return render_template("public_reports.html", rows=rows, names=reports.category_names(),
                           commune_label=commune_label, status=status, communes=served_communes(), commune=commune)


@public_bp.get("/<code>")
def show(code):
    report = reports.public_report(code)
    store = open_store(hub_settings())

    def here(rows):  # (attachment, whether its bytes reached the hub)
        return [(a, store.has(a.sha256)) for a in rows]

    return render_template("public_report.html", report=report, names=reports.category_names(),
                           commune_label=commune_label, photos=here(reports.photos_of(report, "photo")),
                           answer_photos=here(reports.photos_of(report, "answer")))


@public_bp.get("/anh/<sha>")
def photo(sha):
    """A photo of a public report (the citizen's or the commune's answer): nothing else is served here."""
    if not is_sha256(sha):
        raise NotFound("Không có ảnh này.")
    row = reports.public_photo(sha)
    store = open_store(hub_settings())
    if row is None or not store.has(sha):
        raise NotFound("Không có ảnh này.")
    response = send_file(store.open(sha), mimetype=row.mime, max_age=86400)
    response.headers["Cache-Control"] = "public, max-age=86400, immutable"
    return response
