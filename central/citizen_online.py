"""A citizen submits a dossier online at the hub (/cong-dan/nop-ho-so): choose the commune and an
online procedure, give the applicant's details, upload each paper (tus from the page's script, or a
plain form without it), review, submit; then the dossier's code and tracking secret.

Views parse the request and call one function of ``office.online_dossiers`` or
``central.online_drafts``; pages are light (no CDN, work without JavaScript)."""
import functools

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.routing import BuildError

from blobs.store import open_store
from motcua.web import local_now, refuse_cross_site
from office import online_dossiers
from office.calendar import calendar_from
from office.communes import commune_label
from office.dossiers import STATUS
from office.errors import MotcuaError
from office.models import Holiday, Office

from . import online_drafts
from .citizens import current_citizen

bp = Blueprint("citizen_online", __name__, url_prefix="/cong-dan/nop-ho-so")
bp.before_request(refuse_cross_site)


def _to(endpoint, **values):
    """The URL of another part's page (the citizen's sign-in and consent), or None when absent."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def citizen_page(view):
    """A proved phone that consented to the processing of personal data (Decree 13/2023)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        citizen = current_citizen()
        here = request.full_path.rstrip("?") if request.method == "GET" else url_for(".index")
        if citizen is None:
            target = _to("citizen.sign_in", next=here)
            if target:
                return redirect(target)
            raise MotcuaError("Hãy xác minh số điện thoại của bạn trước khi nộp hồ sơ trực tuyến.", status=401)
        if citizen.consent_at is None:
            target = _to("citizen.consent", next=here)
            if target:
                return redirect(target)
            raise MotcuaError("Hãy đồng ý cho xử lý dữ liệu cá nhân trước khi nộp hồ sơ trực tuyến.", status=403)
        return view(citizen, *args, **kwargs)

    return wrapped


def served_communes():
    """[(code, name)] of the communes this hub serves (those whose box told it its office)."""
    return [(o.commune, commune_label(o.commune)) for o in Office.select().order_by(Office.name)]


def _served(commune):
    if commune not in dict(served_communes()):
        raise MotcuaError("Xã/phường này chưa nhận hồ sơ trực tuyến qua cổng này.", status=404)
    return commune


def _page(template, status=200, **context):
    return render_template(template, STATUS=STATUS, commune_label=commune_label, **context), status


@bp.get("")
@citizen_page
def index(citizen):
    communes = served_communes()
    chosen = request.args.get("xa", "")
    if chosen not in dict(communes):
        chosen = communes[0][0] if len(communes) == 1 else ""
    procedures = online_dossiers.online_procedures(chosen) if chosen else []
    return _page("citizen_online_index.html", communes=communes, chosen=chosen, procedures=procedures)


@bp.route("/<commune>/<code>", methods=["GET", "POST"])
@citizen_page
def applicant(citizen, commune, code):
    procedure = online_dossiers.online_procedure(_served(commune), code)
    values, errors = {"phone": citizen.phone}, {}
    if request.method == "POST":
        values, errors = online_dossiers.check_applicant(request.form)
        if not errors:
            draft = online_drafts.start_draft(citizen.phone, commune, procedure.code, values)
            return redirect(url_for(".papers", draft_id=draft.id), 303)
        values = {k: request.form.get(k, "") for k in ("name", "id_number", "phone", "address")}
    return _page("citizen_online_applicant.html", 400 if errors else 200, procedure=procedure, commune=commune,
                 values=values, errors=errors)


def _draft_context(draft):
    procedure = online_dossiers.online_procedure(draft.commune, draft.procedure_code)
    files = online_drafts.files_of(draft)
    per_file, per_dossier = online_drafts.limits(current_app.extensions["hub"].settings)
    return {"draft": draft, "procedure": procedure, "papers": online_dossiers.papers(procedure), "files": files,
            "per_file_mb": per_file // online_drafts.MB, "per_dossier_mb": per_dossier // online_drafts.MB,
            "used": online_drafts.used_bytes(draft)}


@bp.route("/ban-nhap/<draft_id>", methods=["GET", "POST"])
@citizen_page
def papers(citizen, draft_id):
    draft = online_drafts.open_draft(citizen.phone, draft_id)
    errors = []
    if request.method == "POST":  # the form without script: every chosen file in one request
        context = _draft_context(draft)
        store = open_store(current_app.extensions["hub"].settings)
        try:
            for paper in context["papers"]:
                for upload in request.files.getlist(f"file-{paper['index']}"):
                    if not upload or not upload.filename:
                        continue
                    try:
                        online_drafts.store_whole(current_app.extensions["hub"].settings, store, draft,
                                                  paper["index"], upload.filename, upload.mimetype, upload.stream)
                    except MotcuaError as exc:
                        errors.append(f"{upload.filename}: {exc.message}")
        finally:
            for _, upload in request.files.items(multi=True):
                upload.close()
        if not errors:
            return redirect(url_for(".papers", draft_id=draft.id), 303)
    return _page("citizen_online_papers.html", 400 if errors else 200, errors=errors, **_draft_context(draft))


@bp.post("/ban-nhap/<draft_id>/xoa/<upload_id>")
@citizen_page
def remove(citizen, draft_id, upload_id):
    online_drafts.open_draft(citizen.phone, draft_id)
    upload = online_drafts.upload_of(citizen.phone, upload_id)
    online_drafts.remove_upload(open_store(current_app.extensions["hub"].settings), upload)
    return redirect(url_for(".papers", draft_id=draft_id), 303)


@bp.route("/ban-nhap/<draft_id>/xem-lai", methods=["GET", "POST"])
@citizen_page
def review(citizen, draft_id):
    draft = online_drafts.open_draft(citizen.phone, draft_id)
    context = _draft_context(draft)
    error = ""
    if request.method == "POST":
        if request.form.get("agree") != "1":
            error = "Hãy đánh dấu ô cam đoan thông tin và giấy tờ là đúng sự thật."
        else:
            try:
                online_drafts.submit_draft(_calendar(draft.commune), draft, context["procedure"], local_now())
            except MotcuaError as exc:
                error = exc.message
            else:
                return redirect(url_for(".done", draft_id=draft.id), 303)
    missing = online_dossiers.missing_papers(context["procedure"], online_drafts.finished_files(draft))
    return _page("citizen_online_review.html", 400 if error else 200, error=error, missing=missing,
                 applicant=draft.values, commune=draft.commune, **context)


def _calendar(commune):
    days = Holiday.select(Holiday.day, Holiday.kind).where(Holiday.commune.in_(["*", commune]))
    return calendar_from(days.tuples())


@bp.get("/da-nop/<draft_id>")
@citizen_page
def done(citizen, draft_id):
    draft = online_drafts.draft_of(citizen.phone, draft_id)
    if not draft.dossier:
        return redirect(url_for(".review", draft_id=draft.id), 303)
    from office.dossiers import Dossier

    dossier = Dossier.get_by_id(draft.dossier)
    return _page("citizen_online_done.html", dossier=dossier, commune=draft.commune)


@bp.app_context_processor
def _my_dossiers():
    """For the citizen's home page (``citizen_my_dossiers.html``): the phone's online dossiers."""

    def my_online_dossiers():
        citizen = current_citizen()
        return online_drafts.dossiers_of_phone(citizen.phone) if citizen else []

    return {"my_online_dossiers": my_online_dossiers}


