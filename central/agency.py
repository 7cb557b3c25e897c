"""Agencies without a box work on the hub's web (liên thông): the dossiers a commune sent them.

A commune's box sends a dossier to an agency (``Agency`` rows, authored here and sent down to
the boxes) by setting the dossier's ``agency``; the agency sees it here once the box has
pushed, moves it through its own stages, finishes it or hands it back to the commune. Each
action writes the shared dossier row and an append-only event at the hub (``office.dossiers``),
which the commune's box receives by its next pull. An agency officer sees and acts on its own
agency's dossiers only; leaders see their communes' dossiers, read-only.
"""
from flask import (
    Blueprint,
    flash,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from peewee import IntegrityError

from motcua.web import json_body, json_text, local_now, refuse_cross_site
from office import dossiers
from office.communes import authority_name, find_commune
from office.dossiers import ACTIONS, OPEN, STATUS, Agency, Dossier
from office.errors import Conflict, MotcuaError, NotFound
from office.models import Office
from sync.policy import GLOBAL_SCOPE

from .auth import audited, current_account, current_scope, requires

bp = Blueprint("agency", __name__)


bp.before_request(refuse_cross_site)

STAGES = ("Tiếp nhận hồ sơ liên thông", "Thẩm định hồ sơ", "Trình lãnh đạo ký duyệt", "Chờ kết quả")
RETURN_STAGE = "Trả kết quả"
LIST_LIMIT = 300
VIEWS = {"open": "Đang giải quyết", "finished": "Đã xử lý xong, chờ xã trả kết quả", "all": "Tất cả"}



def _agency_rows():
    return list(Agency.select().order_by(Agency.name, Agency.commune))


def _agency_names():
    names = {a.code: a.name for a in _agency_rows()}
    names.update({o.agency_code: o.name for o in Office.select() if o.agency_code})
    return names


def _offices():
    return {o.commune: o for o in Office.select()}


def add_agency(commune, code, name):
    """An agency dossiers of ``commune`` (or every commune: ``*``) may be sent to."""
    commune, code, name = (commune or "").strip() or GLOBAL_SCOPE, (code or "").strip(), (name or "").strip()
    if not code or not name:
        raise MotcuaError("Cần mã định danh và tên cơ quan.")
    if len(code) > 60 or any(ch.isspace() for ch in code):
        raise MotcuaError("Mã cơ quan không được có khoảng trắng (ví dụ 000.00.19.H56).")
    if commune != GLOBAL_SCOPE and find_commune(commune) is None:
        raise MotcuaError(f"Không có xã/phường mã “{commune}”.")
    if code in {o.agency_code for o in Office.select()}:
        raise Conflict("Mã này là mã của một UBND xã/phường có hộp một cửa.")
    same = Agency.select().where(Agency.code == code)
    if commune != GLOBAL_SCOPE:  # one code per commune, and none shadowing an agency of every commune
        same = same.where(Agency.commune.in_([commune, GLOBAL_SCOPE]))
    if same.exists():
        raise Conflict(f"Cơ quan mã {code} đã có.")
    try:
        return Agency.create(commune=commune, code=code, name=name)
    except IntegrityError:
        raise Conflict(f"Cơ quan mã {code} đã có.") from None


@bp.get("/agency")
@requires("dossiers.read")
def index():
    scope = current_scope()
    codes = {a.code for a in _agency_rows() if scope.agency is None or a.code == scope.agency}
    chosen = request.args.get("agency", "")
    view = request.args.get("view", "open")
    if view not in VIEWS:
        view = "open"
    query = Dossier.select().where(Dossier.agency.in_([chosen] if chosen in codes else list(codes) or [""]))
    if scope.communes is not None:
        query = query.where(Dossier.commune.in_(list(scope.communes) or [""]))
    if view == "open":
        query = query.where(Dossier.status.in_(OPEN))
    elif view == "finished":
        query = query.where(Dossier.status == 9)
    rows = list(query.order_by(Dossier.due_at, Dossier.code).limit(LIST_LIMIT))
    now = local_now()
    agencies = [a for a in _agency_rows() if a.code in codes]
    return _page("agency.html", rows=rows, agencies=agencies, chosen=chosen, view=view, now=now,
                 names=_agency_names(), offices=_offices())


@bp.post("/agency/agencies")
@requires("agencies.manage")
def add_agency_form():
    form = request.form
    try:
        with audited("agency.add", form.get("code", "").strip(), form.get("name", "").strip()):
            agency = add_agency(form.get("commune"), form.get("code"), form.get("name"))
    except MotcuaError as exc:
        flash(exc.message, "error")
        return redirect(url_for(".index"), 303)
    flash(f"Đã thêm cơ quan {agency.name} ({agency.code}); các hộp sẽ nhận ở lần đồng bộ tới.")
    return redirect(url_for(".index"), 303)


@bp.get("/api/v1/agencies")
@requires("agencies.manage")
def list_agencies():
    return jsonify([{"id": a.id, "commune": a.commune, "code": a.code, "name": a.name} for a in _agency_rows()])


@bp.post("/api/v1/agencies")
@requires("agencies.manage")
def add_agency_api():
    data = json_body()
    fields = [json_text(data, k) for k in ("commune", "code", "name")]
    with audited("agency.add", fields[1].strip(), fields[2].strip()):
        agency = add_agency(*fields)
    return jsonify(id=agency.id, code=agency.code), 201


def _dossier_at_agency(code):
    dossier = dossiers.get(code)
    if not Agency.select().where(Agency.code == dossier.agency).exists():
        raise NotFound("Hồ sơ này không ở cơ quan nào làm việc trên trung tâm.")
    scope = current_scope()
    if (scope.agency is not None and dossier.agency != scope.agency) or not scope.has_commune(dossier.commune):
        raise NotFound("Hồ sơ này không thuộc cơ quan hoặc xã/phường của tài khoản bạn.")
    return dossier


def _detail(dossier, error=None, values=None, status=200):
    names = _agency_names()
    office = _offices().get(dossier.commune)
    now = local_now()
    return _page("agency_dossier.html", status, d=dossier, events=dossiers.history(dossier), names=names,
                 office=office, error=error, values=values or {}, stages=STAGES, now=now,
                 late=dossier.status in OPEN and now > dossier.due_at)


@bp.get("/agency/dossiers/<code>")
@requires("dossiers.read")
def detail(code):
    return _detail(_dossier_at_agency(code))


@bp.post("/agency/dossiers/<code>/<any(transfer, finish, return):action>")
@requires("dossiers.act")
def act(code, action):
    dossier = _dossier_at_agency(code)
    form = {k: v.strip() for k, v in request.form.items()}
    agency_name = _agency_names().get(dossier.agency, dossier.agency)
    account = current_account()
    actor, now = f"{account.full_name or account.name} – {agency_name}", local_now()
    try:
        with audited(f"dossier.{action}", dossier.code, form.get("note", "")):
            message = _act(dossier, action, form, actor, now)
    except MotcuaError as exc:
        return _detail(dossiers.get(code), error=exc.message, values=dict(form, action=action), status=exc.status)
    flash(message)
    if action == "return":  # the dossier left the agency: back to its list
        return redirect(url_for(".index"), 303)
    return redirect(url_for(".detail", code=dossier.code), 303)


def _act(dossier, action, form, actor, now):
    if action == "transfer":
        dossiers.transfer(dossier, form.get("stage", ""), handler=form.get("handler", ""), agency=dossier.agency,
                          actor=actor, note=form.get("note", ""), now=now)
        message = f"Đã chuyển hồ sơ đến bước “{dossier.stage}”."
    elif action == "finish":
        dossiers.finish(dossier, actor=actor, note=form.get("note", ""), now=now)
        office = _offices().get(dossier.commune)
        returner = office.name if office else authority_name(dossier.commune)
        message = f"Hồ sơ đã xử lý xong; {returner} trả kết quả cho công dân."
    else:
        office = _offices().get(dossier.commune)
        if office is None or not office.agency_code:
            raise Conflict(f"Chưa biết mã cơ quan của {authority_name(dossier.commune)} (hộp chưa đồng bộ).")
        dossiers.transfer(dossier, form.get("stage") or RETURN_STAGE, handler="", agency=office.agency_code,
                          actor=actor, note=form.get("note", ""), now=now)
        message = f"Đã chuyển hồ sơ về {office.name}."
    return message


def _page(template, http_status=200, **context):
    messages = get_flashed_messages(with_categories=True)
    return render_template(template, messages=messages, STATUS=STATUS, ACTIONS=ACTIONS, fmt=fmt, **context), http_status


def fmt(moment, pattern="%H:%M %d/%m/%Y"):
    return moment.strftime(pattern) if moment else ""
