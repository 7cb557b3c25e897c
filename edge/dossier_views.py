"""The dossier desk of the box (hồ sơ một cửa), for officers signed in at a counter.

Receive a dossier (from the ticket being served at the officer's counter, or walk-in), print
its appointment slip (form 01, A5 through the browser, or on the thermal printer) and the other
forms of Circular 03/2025 (02 supplement request, 03 refusal, 04 apology and extension, 05 stop
notice, 06 control sheet, 07 register), list and
filter dossiers, and act on them. Every action is one call of ``office.dossiers``: the shared
dossier row and an append-only event, captured for the hub in the same transaction.

Times of dossiers are office-local wall-clock times (the ``timezone`` setting); due dates count
working days with the holidays the hub sent down (``edge.box.stored_calendar``).
"""
import functools
import io
import json
import re
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlencode

import segno
from flask import (
    Blueprint,
    flash,
    g,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup
from peewee import fn

from motcua.web import local_now
from blobs.store import open_store
from office import dossiers, online_dossiers
from office.catalog import WAYS
from office.catalog import time_limit as catalog_time_limit
from office.catalog_shape import bring_label, limit_label, normalise_document
from office.communes import find_commune
from office.dossier_returns import back_from_agencies
from office.dossiers import ACTIONS, OPEN, STATUS, Agency, Dossier, DossierEvent
from office.errors import Conflict, MotcuaError, NotFound
from office.models import Counter, Officer, Procedure, Ticket
from office.queue import current_ticket
from office.search import SearchIndex, fold

from .box import current_box, stored_calendar
from .printing import queue_slip

bp = Blueprint("dossiers", __name__, url_prefix="/dossiers")

LIST_LIMIT = 300
SEARCH_LIMIT = 30
STAGES = ("Thẩm định hồ sơ", "Trình lãnh đạo ký duyệt", "Chuyển liên thông", "Trả kết quả")
FORMS = {  # Circular 03/2025/TT-VPCP, in force since 15/9/2025 (it replaced Circular 01/2018's forms)
    "01": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    "02": "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    "03": "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
    "04": "Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết",
    "05": "Thông báo dừng giải quyết hồ sơ",
    "06": "Phiếu kiểm soát quá trình giải quyết hồ sơ",
    "07": "Sổ theo dõi hồ sơ",
}
FORM_EVENT = {"02": "supplement", "03": "refuse", "04": "apologize", "05": "stop"}  # the event a form prints
OLD_DUE = " — hẹn cũ "  # how an apology's note keeps the date it replaces (form 04 prints both)
_APOLOGY = re.compile(r"^(?P<reason>.*?)(?: — hẹn cũ (?P<old>\d\d:\d\d \d\d/\d\d/\d{4}))? \(hẹn lại (?P<new>[^)]*)\)$",
                      re.S)
IRREVERSIBLE = ("refuse", "stop", "finish", "return", "withdraw")  # no way back: the officer ticks "confirm" first


# ---- who, when, where ---------------------------------------------------------------------------

def desk(view):
    """A signed-in officer: pages send others to the counter's sign-in, actions answer 401."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        officer_id = session.get("officer_id")
        officer = Officer.get_or_none(Officer.id == officer_id, Officer.active == True) if officer_id else None  # noqa: E712
        if officer is None:
            if request.method == "GET":
                flash("Hãy đăng nhập tại quầy để làm việc với hồ sơ.")
                return redirect(url_for("screens.counter"))
            raise MotcuaError("Bạn cần đăng nhập tại quầy.", status=401)
        g.officer = officer
        return view(*args, **kwargs)

    return wrapped



def _office():
    office = current_box().office
    if office is None or not office.agency_code:
        raise MotcuaError("Hộp chưa được khởi tạo cho xã/phường nào (thiếu mã cơ quan).", status=409)
    return office


def _agencies(office):
    """(code, name) an officer may send a dossier to: this office first, then the agencies."""
    rows = [(office.agency_code, office.name)]
    rows += [(a.code, a.name) for a in Agency.select().order_by(Agency.name) if a.code != office.agency_code]
    return rows


def _dossier(code):
    return dossiers.get(code)


@bp.context_processor
def _sent_back():
    """The dossiers agencies sent back (the list's notice) and whether this one is (the detail's)."""
    return {"returns_from_agencies": lambda: back_from_agencies(_office().agency_code), "came_back": came_back}


def came_back(dossier):
    """(dossier, event, kind) when an agency sent this dossier back and the desk has not acted since."""
    return next((row for row in back_from_agencies(_office().agency_code) if row[0].id == dossier.id), None)


def _procedure_of(dossier):
    return (Procedure.get_or_none(Procedure.code == dossier.procedure_code)
            or SimpleNamespace(code=dossier.procedure_code, name=dossier.procedure_name, days=0, hours=0, ways="[]"))


@bp.context_processor
def _helpers():
    return {"online_files": online_files, "fmt": fmt, "fmt_long": fmt_long, "STATUS": STATUS, "ACTIONS": ACTIONS, "WAYS": WAYS, "FORMS": FORMS,
            "components_of": components_of, "time_limit": time_limit, "routing": routing, "commune_label": commune_label}


def online_files(dossier):
    """[(attachment, whether its bytes are on this box)] of a dossier."""
    return online_dossiers.files_of(dossier, open_store(current_box().settings))


def commune_label(code):
    commune = find_commune(code) if code else None
    return commune.full_name if commune else code


def routing(dossier):
    """How a dossier crosses communes (phi địa giới), as the desk says it; "" when it does not."""
    if not dossier.decided_by:
        return ""
    here = current_box().office.commune if current_box().office else ""
    if dossier.commune != here:
        return f"Nhận tại {commune_label(dossier.commune)}, xã/phường mình giải quyết"
    return f"Phi địa giới: {commune_label(dossier.decided_by)} giải quyết"


def province_communes():
    """[(code, name)] of the other communes of this box's province, by name: where a dossier received
    here may be decided (phi địa giới)."""
    office = current_box().office
    own = find_commune(office.commune) if office else None
    if own is None:
        return []
    from office.communes import all_communes

    others = [c for c in all_communes().values() if c.province_code == own.province_code and c.code != own.code]
    return [(c.code, c.name) for c in sorted(others, key=lambda c: fold(c.name))]


def fmt(moment, pattern="%H:%M %d/%m/%Y"):
    return moment.strftime(pattern) if moment else ""


def fmt_long(moment):
    """“09 giờ 15 phút, ngày 23/11/2026”, as the forms write it."""
    return f"{moment:%H} giờ {moment:%M} phút, ngày {moment:%d/%m/%Y}" if moment else ""


def components_of(dossier):
    """The documents received, as [{"name", "copies"}] (older rows may hold plain names)."""
    try:
        items = json.loads(dossier.components or "[]")
    except ValueError:
        return []
    return [item if isinstance(item, dict) else {"name": str(item), "copies": 1} for item in items]


def desk_documents(procedure):
    """The procedure's documents for the receipt checklist, in the record's order (the form's values
    are their positions): what to bring of each, and a count of papers for the slip."""
    docs = []
    for item in json.loads(procedure.components or "[]"):
        try:
            doc = normalise_document(item if isinstance(item, dict) else {"name": str(item)})
        except ValueError:
            doc = {"name": str(item), "group": "ghi_chu", "case": "", "originals": 0, "copies": 0}
        docs.append({**doc, "bring": bring_label(doc), "count": (doc["originals"] or 0) + doc["copies"] or 1})
    return docs


def time_limit(procedure, way="truc_tiep"):
    """The time limit as it reads ("3 ngày làm việc", "15 ngày", "Không quy định thời hạn")."""
    return limit_label(*catalog_time_limit(procedure, way))


def _page(template, http_status=200, **context):
    box = current_box()
    officer = g.get("officer")
    return render_template(template, office=box.office, settings=box.settings, officer=officer,
                           messages=get_flashed_messages(), **context), http_status


# ---- codes in pictures --------------------------------------------------------------------------

def qr_svg(text, scale=3):
    """The QR code of ``text`` as inline SVG."""
    return Markup(segno.make(text, error="m").svg_inline(scale=scale, border=1, title=f"Mã QR: {text}"))


def barcode_svg(text, module_mm=0.25, height_mm=9):
    """``text`` as a Code 128 barcode, inline SVG (python-barcode), sized in millimetres."""
    import barcode
    from barcode.writer import SVGWriter

    out = io.BytesIO()
    barcode.get("code128", text, writer=SVGWriter()).write(out, options={
        "module_width": module_mm, "module_height": height_mm, "quiet_zone": 2.5, "write_text": False,
        "margin_top": 0, "margin_bottom": 0})
    svg = out.getvalue().decode()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = svg.replace("<svg ", f'<svg class="barcode" role="img" aria-label="Mã vạch {Markup.escape(text)}" ', 1)
    return Markup(svg)


# ---- the list ------------------------------------------------------------------------------------

@bp.get("")
@desk
def index():
    now = local_now()
    status = request.args.get("status", "")
    overdue = request.args.get("overdue") == "1"
    q = (request.args.get("q") or "").strip()
    query = Dossier.select()
    incoming = request.args.get("incoming") == "1"
    if incoming:
        query = query.where(Dossier.decided_by == _office().commune)
    if status.isdigit() and int(status) in STATUS:
        query = query.where(Dossier.status == int(status))
    else:
        status = ""
    if overdue:
        query = query.where(Dossier.status.in_(OPEN), Dossier.due_at < now)
    if q:
        query = query.where(Dossier.code.contains(q) | Dossier.applicant_name.contains(q)
                            | Dossier.procedure_name.contains(q))
    rows = list(query.order_by(Dossier.received_at.desc(), Dossier.code.desc()).limit(LIST_LIMIT + 1))
    counts = _status_counts()
    late = dossiers.overdue(now).count()
    agencies = dict(_agencies(_office()))
    return _page("dossiers.html", online=online_dossiers.waiting(), rows=rows[:LIST_LIMIT], more=len(rows) > LIST_LIMIT, status=status, overdue=overdue,
                 q=q, counts=counts, late=late, now=now, agencies=agencies, open_states=OPEN, incoming=incoming,
                 incoming_count=Dossier.select().where(Dossier.decided_by == _office().commune).count())


def _status_counts():
    return dict(Dossier.select(Dossier.status, fn.COUNT(Dossier.id)).group_by(Dossier.status).tuples())


# ---- receiving -----------------------------------------------------------------------------------

def search_procedures(q, limit=SEARCH_LIMIT):
    """Active procedures matching ``q`` (name without diacritics, or code), best first."""
    rows = list(Procedure.select().where(Procedure.active == True))  # noqa: E712
    if not q:
        return sorted(rows, key=lambda p: (p.field, p.name))[:limit] if len(rows) <= limit else []
    by_id = {p.id: p for p in rows}
    index = SearchIndex([(p.id, p.code, p.name, f"{p.field} {p.agency}") for p in rows])
    return [by_id[key] for key in index.search(q, limit)]


def _procedure_row(p):
    return {"code": p.code, "name": p.name, "field": p.field, "time_limit": time_limit(p),
            "components": [c.get("name", "") for c in json.loads(p.components or "[]")]}


@bp.get("/procedures")
@desk
def procedures():
    """JSON for the desk's live search: [{code, name, field, time_limit, components}]."""
    q = (request.args.get("q") or "").strip()[:100]
    return jsonify([_procedure_row(p) for p in search_procedures(q)])


def _ticket_for_request(officer):
    """The queue ticket this receipt belongs to: ?ticket=<id>, or the one served at my counter."""
    ticket_id = request.values.get("ticket") or ""
    if ticket_id:
        ticket = Ticket.get_or_none(Ticket.id == ticket_id)
        if ticket is None:
            raise NotFound("Không tìm thấy số thứ tự này.")
        return ticket
    if request.args.get("from_counter"):
        counter = Counter.get_or_none(Counter.number == session.get("counter"))
        if counter is None or counter.officer_id != officer.id:
            flash("Bạn chưa ngồi tại quầy nào: hồ sơ được tiếp nhận như khách vãng lai.")
            return None
        ticket = current_ticket(counter.id)
        if ticket is None:
            flash(f"{counter.label} chưa gọi số nào: hồ sơ được tiếp nhận như khách vãng lai.")
        return ticket
    return None


def _receive_form(officer, values=None, errors=None, status=200):
    values = values or {}
    ticket = _ticket_for_request(officer)
    code = (request.values.get("procedure") or "").strip()
    procedure = Procedure.get_or_none(Procedure.code == code, Procedure.active == True) if code else None  # noqa: E712
    if code and procedure is None:
        errors = (errors or []) + ["Không tìm thấy thủ tục đã chọn; hãy tìm lại."]
    q = (request.args.get("q") or "").strip()
    results = search_procedures(q) if procedure is None else []
    components = desk_documents(procedure) if procedure else []
    if not values and ticket is not None and ticket.phone:
        values = {"phone": ticket.phone}
    checked = set(values.get("components", []))  # nothing is received until the officer ticks it
    return _page("dossier_new.html", status, ticket=ticket, procedure=procedure, q=q, results=results,
                 components=components, checked=checked, values=values, errors=errors or [],
                 needs_due=bool(procedure) and not any(catalog_time_limit(procedure, w)[1] for w in WAYS),
                 communes=province_communes() if procedure else [],
                 total_procedures=Procedure.select().where(Procedure.active == True).count())  # noqa: E712


@bp.get("/new")
@desk
def new():
    return _receive_form(g.officer)


@bp.post("")
@desk
def receive():
    officer = g.officer
    form = request.form
    values = {k: form.get(k, "").strip() for k in ("name", "id_number", "phone", "address", "way", "extra",
                                                    "print_slip", "due_at", "decided_by", "collect_at")}
    values["components"] = form.getlist("components")
    code = form.get("procedure", "").strip()
    procedure = Procedure.get_or_none(Procedure.code == code, Procedure.active == True) if code else None  # noqa: E712
    errors = _applicant_errors(values)
    if procedure is None:
        errors.insert(0, "Hãy chọn thủ tục hành chính của hồ sơ.")
        return _receive_form(officer, values, errors, 400)
    listed = desk_documents(procedure)
    received = [{"name": listed[int(i)]["name"], "copies": listed[int(i)]["count"]}
                for i in values["components"] if i.isdigit() and int(i) < len(listed)
                and listed[int(i)]["group"] != "ghi_chu"]
    received += [{"name": line.strip(), "copies": 1} for line in values["extra"].splitlines() if line.strip()]
    if not received:
        errors.append("Hãy đánh dấu các giấy tờ đã nhận của hồ sơ.")
    due_at = None
    if values["due_at"]:
        try:
            due_at = datetime.strptime(values["due_at"], "%Y-%m-%dT%H:%M")
        except ValueError:
            errors.append("Ngày, giờ hẹn trả kết quả không đúng dạng.")
    if errors:
        return _receive_form(officer, values, errors, 400)
    ticket = _ticket_for_request(officer)
    office = _office()
    try:
        dossier = dossiers.receive(
            stored_calendar(), procedure,
            {"name": values["name"], "id_number": values["id_number"], "phone": values["phone"],
             "address": values["address"]},
            office.agency_code, officer=officer.full_name, components=received, way=values["way"] or "truc_tiep",
            ticket=ticket.id if ticket else None, now=local_now(), due_at=due_at,
            decided_by=values["decided_by"], collect_at=values["collect_at"])
    except MotcuaError as exc:
        return _receive_form(officer, values, [exc.message], exc.status)
    if values["print_slip"]:
        _queue_thermal_slip(dossier)
    flash(f"Đã tiếp nhận hồ sơ {dossier.code}. Hẹn trả kết quả: {fmt(dossier.due_at)}.")
    return redirect(url_for(".detail", code=dossier.code, received=1), 303)


def _applicant_errors(values):
    """Every problem of the applicant's data at once (the domain re-checks the same rules)."""
    errors = []
    if not values["name"]:
        errors.append("Cần họ tên người nộp hồ sơ.")
    digits = re.sub(r"\D", "", values["id_number"])
    if values["id_number"] and (len(digits) not in (9, 12) or re.search(r"[^\d\s.]", values["id_number"])):
        errors.append("Số định danh/CCCD phải có 12 chữ số (hoặc CMND 9 chữ số).")
    phone = re.sub(r"[\s.()+-]", "", values["phone"])
    if values["phone"] and (not phone.isdigit() or not 9 <= len(phone) <= 11):
        errors.append("Số điện thoại không hợp lệ.")
    if values["way"] and values["way"] not in WAYS:
        errors.append("Cách thức nộp không hợp lệ.")
    return errors


# ---- one dossier --------------------------------------------------------------------------------

def _detail(dossier, error=None, values=None, status=200):
    now = local_now()
    office = _office()
    events = dossiers.history(dossier)
    done = {e.action for e in events}
    late = dossier.status in OPEN and now > dossier.due_at
    officers = [o.full_name for o in Officer.select().where(Officer.active == True).order_by(Officer.full_name)]  # noqa: E712
    ticket = Ticket.get_or_none(Ticket.id == dossier.ticket) if dossier.ticket else None
    new_due = stored_calendar().due_in_days(max(now, dossier.due_at), 1)
    return _page("dossier.html", status, d=dossier, events=events, late=late, now=now, error=error,
                 values=values or {}, agencies=_agencies(office), agency_names=dict(_agencies(office)),
                 officers=officers, stages=STAGES, ticket=ticket, new_due=new_due, office_agency=office.agency_code,
                 forms=[f for f in ("02", "03", "04", "05") if FORM_EVENT[f] in done], open_states=OPEN,
                 procedure=_procedure_of(dossier),
                 just_received=request.args.get("received") == "1")


@bp.get("/<code>")
@desk
def detail(code):
    return _detail(_dossier(code))


@bp.post("/<code>/<any(transfer, supplement, resume, refuse, apologize, stop, finish, return, withdraw):action>")
@desk
def act(code, action):
    dossier = _dossier(code)
    form = {k: v.strip() for k, v in request.form.items()}
    actor, now = g.officer.full_name, local_now()
    try:
        if action in IRREVERSIBLE and form.get("confirm") != "1":
            raise MotcuaError(f"Chưa thực hiện “{ACTIONS[action]}”: bước này không hoàn tác được, hãy đánh dấu ô "
                              "xác nhận rồi bấm lại.")
        if dossier.status == 1 and action not in ("refuse", "withdraw"):
            raise Conflict("Hồ sơ nộp trực tuyến chưa được tiếp nhận: hãy tiếp nhận hoặc từ chối trước.")
        if action == "refuse" and dossier.way == online_dossiers.WAY and dossier.status == 1:
            online_dossiers.refuse(dossier, form.get("reason", ""), actor=actor, now=now)
            message = "Đã từ chối tiếp nhận hồ sơ trực tuyến (mẫu 03); công dân được báo qua tin nhắn."
        elif action == "transfer":
            agency = form.get("agency") or dossier.agency
            if agency not in dict(_agencies(_office())):
                raise MotcuaError("Cơ quan nhận hồ sơ không có trong danh sách.")
            dossiers.transfer(dossier, form.get("stage", ""), handler=form.get("handler", ""), agency=agency,
                              actor=actor, note=form.get("note", ""), now=now)
            message = f"Đã chuyển hồ sơ đến bước “{dossier.stage}”."
        elif action == "supplement":
            dossiers.request_supplement(dossier, form.get("note", ""), actor=actor, now=now)
            message = "Đã lập yêu cầu bổ sung giấy tờ (mẫu 02); thời hạn tạm dừng."
        elif action == "resume":
            dossiers.resume(stored_calendar(), dossier, _procedure_of(dossier), actor=actor, now=now)
            message = f"Đã nhận đủ giấy tờ bổ sung. Hẹn trả kết quả mới: {fmt(dossier.due_at)}."
        elif action == "refuse":
            dossiers.refuse(dossier, form.get("reason", ""), actor=actor, now=now)
            message = "Đã từ chối tiếp nhận hồ sơ (mẫu 03)."
        elif action == "apologize":
            _apologize(dossier, form, actor, now)
            message = f"Đã lập văn bản xin lỗi và gia hạn thời gian giải quyết đến {fmt(dossier.due_at)} (mẫu 04)."
        elif action == "stop":
            dossiers.stop(dossier, form.get("reason", ""), actor=actor, now=now)
            message = "Đã dừng giải quyết hồ sơ; in thông báo dừng giải quyết (mẫu 05) cho công dân."
        elif action == "finish":
            dossiers.finish(dossier, actor=actor, note=form.get("note", ""), now=now)
            message = "Hồ sơ đã xử lý xong, chờ trả kết quả."
        elif action == "return":
            dossiers.return_result(dossier, actor=actor, note=form.get("note", ""), now=now)
            message = "Đã trả kết quả cho công dân."
        else:
            dossiers.withdraw(dossier, actor=actor, note=form.get("note", ""), now=now)
            message = "Đã ghi nhận công dân rút hồ sơ."
    except MotcuaError as exc:
        return _detail(_dossier(code), error=exc.message, values=dict(form, action=action), status=exc.status)
    flash(message)
    return redirect(url_for(".detail", code=dossier.code), 303)


def _apologize(dossier, form, actor, now):
    if not (dossier.status in OPEN and now > dossier.due_at):
        raise Conflict("Chỉ lập phiếu xin lỗi, hẹn lại khi hồ sơ đã quá hạn trả kết quả.")
    reason = form.get("reason", "")
    if not reason:
        raise MotcuaError("Cần ghi rõ lý do chậm trả kết quả.")
    try:
        new_due = datetime.strptime(form.get("new_due", ""), "%Y-%m-%dT%H:%M")
    except ValueError:
        raise MotcuaError("Ngày hẹn mới không hợp lệ.") from None
    if new_due <= now:
        raise MotcuaError("Ngày hẹn mới phải sau thời điểm hiện tại.")
    dossiers.apologize(dossier, new_due, f"{reason}{OLD_DUE}{fmt(dossier.due_at)}", actor=actor, now=now)


@bp.post("/<code>/accept")
@desk
def accept_online(code):
    """Take in a dossier submitted online: the due date runs from now (the online way's limit)."""
    dossier = _dossier(code)
    try:
        online_dossiers.accept(stored_calendar(), dossier, _procedure_of(dossier), _office().agency_code,
                               actor=g.officer.full_name, now=local_now())
    except MotcuaError as exc:
        return _detail(_dossier(code), error=exc.message, values={"action": "accept"}, status=exc.status)
    flash(f"Đã tiếp nhận hồ sơ trực tuyến {dossier.code}. Hẹn trả kết quả: {fmt(dossier.due_at)}.")
    return redirect(url_for(".detail", code=dossier.code), 303)


@bp.post("/<code>/print-slip")
@desk
def print_slip(code):
    dossier = _dossier(code)
    _queue_thermal_slip(dossier)
    flash("Đã gửi giấy hẹn đến máy in nhiệt.")
    return redirect(url_for(".detail", code=dossier.code), 303)


def _queue_thermal_slip(dossier):
    box = current_box()
    receiver = _receiver(dossier)
    payload = {
        "number": f"slip-{dossier.code}",  # names the preview printer's files
        "office": box.office.name if box.office else "", "office_title": box.settings["office_title"],
        "code": dossier.code, "procedure": dossier.procedure_name,
        "applicant": dossier.applicant_name, "received_at": fmt(dossier.received_at), "due_at": fmt(dossier.due_at),
        "components": [c["name"] for c in components_of(dossier)], "officer": receiver,
        "tracking_url": f"{box.tracking_base()}/tracking", "secret": dossiers.ensure_secret(dossier),
        "qr": tracking_link(dossier),
    }
    job = queue_slip(payload)
    box.enqueue("print_job", job.id)
    return job


def tracking_link(dossier):
    """The tracking page of the dossier, with its secret: what the slip's QR code holds."""
    query = urlencode({"code": dossier.code, "secret": dossiers.ensure_secret(dossier)})
    return f"{current_box().tracking_base()}/tracking?{query}"


def _receiver(dossier):
    first = DossierEvent.select().where(DossierEvent.dossier == dossier.id, DossierEvent.action == "receive").first()
    return first.actor if first else dossier.handler


# ---- the forms -----------------------------------------------------------------------------------

def _form_context(dossier):
    office = _office()
    commune = find_commune(office.commune)
    return {"d": dossier, "place": commune.name if commune else "", "procedure": _procedure_of(dossier),
            "receiver": _receiver(dossier), "tracking_url": f"{current_box().tracking_base()}/tracking",
            "agency_names": dict(_agencies(office)), "today": local_now()}


@bp.get("/<code>/slip")
@desk
def slip(code):
    """Form 01, A5: what the citizen takes home (QR code and barcode of the dossier code)."""
    dossier = _dossier(code)
    return _page("form01.html", qr=qr_svg(tracking_link(dossier)), barcode=barcode_svg(dossier.code), form="01",
                 number=dossier.code.rsplit("-", 1)[-1], **_form_context(dossier))


@bp.get("/<code>/forms/<any('02', '03', '04', '05', '06'):form>")
@desk
def form_page(code, form):
    dossier = _dossier(code)
    events = dossiers.history(dossier)
    event = None
    if form in FORM_EVENT:
        matching = [e for e in events if e.action == FORM_EVENT[form]]
        if not matching:
            raise NotFound(f"Hồ sơ chưa có {ACTIONS[FORM_EVENT[form]].lower()}: chưa có {FORMS[form].lower()}.")
        event = matching[-1]
    apology = _parse_apology(event.note) if form == "04" else None
    return _page(f"form{form}.html", form=form, event=event, events=events, apology=apology,
                 qr=qr_svg(dossier.code, scale=2), **_form_context(dossier))


def _parse_apology(note):
    """{reason, old, new} of an apology event's note."""
    match = _APOLOGY.match(note or "")
    if not match:
        return {"reason": note, "old": "", "new": ""}
    return {k: (v or "") for k, v in match.groupdict().items()}


@bp.get("/register")
@desk
def register():
    """Form 07: the dossiers received in a period (office-local days, both included)."""
    today = local_now().date()
    start = _day(request.args.get("from"), today.replace(day=1))
    end = _day(request.args.get("to"), today)
    if end < start:
        start, end = end, start
    if (end - start).days > 366:
        raise MotcuaError("Chỉ in sổ theo dõi tối đa 1 năm mỗi lần.")
    rows = list(Dossier.select().where(Dossier.received_at >= datetime.combine(start, datetime.min.time()),
                                       Dossier.received_at < datetime.combine(end + timedelta(days=1),
                                                                               datetime.min.time()))
                .order_by(Dossier.received_at, Dossier.code))
    office = _office()
    transfers, results = {}, {}
    ids = [d.id for d in rows]
    for chunk in range(0, len(ids), 500):
        for event in (DossierEvent.select().where(DossierEvent.dossier.in_(ids[chunk:chunk + 500]))
                      .order_by(DossierEvent.at, DossierEvent.id)):
            if event.action == "transfer" and event.agency and event.agency != office.agency_code:
                transfers.setdefault(event.dossier, event.at)
            if event.action == "finish":
                results[event.dossier] = event.at
    commune = find_commune(office.commune)
    return _page("form07.html", rows=rows, start=start, end=end, form="07", transfers=transfers, results=results,
                 agency_names=dict(_agencies(office)), place=commune.name if commune else "", today=local_now())


def _day(text, default):
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        raise MotcuaError("Ngày không hợp lệ (dạng YYYY-MM-DD).") from None
