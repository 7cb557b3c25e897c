"""The reminder pages and API: rules, contacts, a preview, and what was sent. Operators see every
commune's; a commune leader sees and changes only the rules and contacts of their communes."""
from flask import (
    Blueprint,
    current_app,
    flash,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from motcua.web import json_body, local_now, refuse_cross_site
from office.communes import find_commune
from office.errors import MotcuaError, NotFound

from . import accounts_contacts as contacts
from . import reminder_forms as forms
from .auth import audited, current_scope, requires
from .outbox import CHANNELS, Outbox
from .reminder_models import Contact, ReminderRule
from .reminders import preview

bp = Blueprint("reminders", __name__)
bp.before_request(refuse_cross_site)

LOG_LIMIT = 300
STATES = {Outbox.PENDING: "Chờ gửi", Outbox.SENDING: "Đang gửi", Outbox.SENT: "Đã gửi", Outbox.FAILED: "Lỗi"}
NEW_RULE = {"what": "near_due", "lead": "1", "lead_unit": "days", "audience": "both", "channels": ["log"],
            "times": "08:00,14:00", "weekdays": ["0", "1", "2", "3", "4"], "communes": ""}
NEW_CONTACT = {"role": "handler"}


def _page(template, status=200, **context):
    return render_template(template, messages=get_flashed_messages(), CHANNELS=CHANNELS, WEEKDAYS=forms.WEEKDAYS,
                           linkable=contacts.linkable_accounts(),
                           WHAT=ReminderRule.WHAT, UNITS=ReminderRule.UNITS, AUDIENCES=ReminderRule.AUDIENCES,
                           ROLES=Contact.ROLES, STATES=STATES, commune_name=_commune_name, **context), status


def _commune_name(code):
    commune = find_commune(code)
    return commune.full_name if commune else code


def _rule_form():
    form = request.form
    return dict(form.items(), channels=form.getlist("channels"), weekdays=form.getlist("weekdays"))


def _rule_shown(rule):
    return {"name": rule.name, "what": rule.what, "lead": str(rule.lead), "lead_unit": rule.lead_unit,
            "audience": rule.audience, "channels": rule.listed("channels"), "times": rule.times,
            "weekdays": rule.listed("weekdays"), "communes": rule.communes}


def _index(status=200, **context):
    context.setdefault("rule_values", NEW_RULE)
    context.setdefault("contact_values", NEW_CONTACT)
    rules = _visible(ReminderRule.select().order_by(ReminderRule.active.desc(), ReminderRule.name, ReminderRule.id))
    contacts = _visible(Contact.select().order_by(Contact.active.desc(), Contact.commune, Contact.role, Contact.name))
    return _page("reminders.html", status, rules=rules, contacts=contacts, **context)


# ---- what the signed-in account may see and change ---------------------------------------------------

def _communes_of(row):
    return row.listed("communes") if isinstance(row, ReminderRule) else ([row.commune] if row.commune else [])


def _in_scope(communes):
    """Rows of every commune ("" / none listed) are the operators' only."""
    scope = current_scope()
    return scope.communes is None or (bool(communes) and all(c in scope.communes for c in communes))


def _visible(query):
    return [row for row in query if _in_scope(_communes_of(row))]


def _rule(pk):
    rule = forms.get_rule(pk)
    if not _in_scope(_communes_of(rule)):
        raise NotFound("Không tìm thấy quy tắc nhắc việc này.")
    return rule


def _contact(pk):
    contact = forms.get_contact(pk)
    if not _in_scope(_communes_of(contact)):
        raise NotFound("Không tìm thấy người nhận này.")
    return contact


def _refuse_outside(communes):
    if not _in_scope(communes):
        raise MotcuaError("Tài khoản của bạn chỉ đặt nhắc việc cho xã/phường của mình: ghi rõ mã xã/phường "
                          f"({', '.join(current_scope().communes)}).", status=403)


def _save_rule(values, rule=None):
    communes = values.get("communes") or []
    if isinstance(communes, str):
        communes = communes.replace(";", ",").split(",")
    _refuse_outside([str(c).strip() for c in communes if str(c).strip()])
    with audited("reminder.rule", (values.get("name") or (rule.name if rule else "")).strip(),
                 "sửa" if rule else "thêm"):
        return forms.save_rule(values, rule)


def _save_contact(values, contact=None):
    commune = str(values.get("commune") or "").strip()
    _refuse_outside([commune] if commune else [])
    values, account = contacts.from_account(values)
    with audited("reminder.contact", str(values.get("name") or "").strip(), "sửa" if contact else "thêm"):
        saved = forms.save_contact(values, contact)
        if account is not None or "account" in values:
            contacts.link(saved, account)
        return saved


def _contact_dict(contact):
    account = contacts.account_of(contact)
    return dict(forms.contact_dict(contact), account=account.name if account else "")


@bp.get("/reminders")
@requires("reminders.manage")
def index():
    return _index()


@bp.post("/reminders/rules")
@requires("reminders.manage")
def add_rule():
    values = _rule_form()
    try:
        rule = _save_rule(values)
    except MotcuaError as exc:
        return _index(exc.status, rule_reasons=exc.detail or [exc.message], rule_values=values)
    flash(f"Đã thêm quy tắc “{rule.name}”.")
    return redirect(url_for(".index"), 303)


@bp.route("/reminders/rules/<int:pk>", methods=("GET", "POST"))
@requires("reminders.manage")
def edit_rule(pk):
    rule = _rule(pk)
    if request.method == "GET":
        return _page("reminder_rule.html", rule=rule, values=_rule_shown(rule))
    values = _rule_form()
    try:
        _save_rule(values, rule)
    except MotcuaError as exc:
        return _page("reminder_rule.html", exc.status, rule=_rule(pk), values=values,
                     reasons=exc.detail or [exc.message])
    flash(f"Đã lưu quy tắc “{rule.name}”.")
    return redirect(url_for(".index"), 303)


@bp.post("/reminders/rules/<int:pk>/active")
@requires("reminders.manage")
def rule_active(pk):
    rule = _rule(pk)
    rule.active = request.form.get("active") == "1"
    with audited("reminder.rule", rule.name, "bật" if rule.active else "tắt"):
        rule.save()
    flash(f"Quy tắc “{rule.name}” " + ("đang dùng." if rule.active else "đã tạm ngừng."))
    return redirect(url_for(".index"), 303)


@bp.post("/reminders/contacts")
@requires("reminders.manage")
def add_contact():
    values = request.form.to_dict()
    try:
        contact = _save_contact(values)
    except MotcuaError as exc:
        return _index(exc.status, contact_reasons=exc.detail or [exc.message], contact_values=values)
    flash(f"Đã thêm người nhận {contact.name}.")
    return redirect(url_for(".index") + "#contacts", 303)


@bp.route("/reminders/contacts/<int:pk>", methods=("GET", "POST"))
@requires("reminders.manage")
def edit_contact(pk):
    contact = _contact(pk)
    if request.method == "GET":
        return _page("reminder_contact.html", contact=contact, values=_contact_dict(contact))
    values = request.form.to_dict()
    try:
        _save_contact(values, contact)
    except MotcuaError as exc:
        return _page("reminder_contact.html", exc.status, contact=_contact(pk), values=values,
                     reasons=exc.detail or [exc.message])
    flash(f"Đã lưu người nhận {contact.name}.")
    return redirect(url_for(".index") + "#contacts", 303)


@bp.post("/reminders/contacts/<int:pk>/active")
@requires("reminders.manage")
def contact_active(pk):
    contact = _contact(pk)
    contact.active = request.form.get("active") == "1"
    with audited("reminder.contact", contact.name, "bật" if contact.active else "tắt"):
        contact.save()
    flash(f"{contact.name} " + ("sẽ nhận nhắc việc." if contact.active else "không nhận nhắc việc nữa."))
    return redirect(url_for(".index") + "#contacts", 303)


def _preview(rule):
    now = local_now()
    return now, preview(rule, now, zalo_template=current_app.extensions["hub"].settings["reminder_zalo_template"])


@bp.get("/reminders/<int:pk>/preview")
@requires("reminders.manage")
def preview_page(pk):
    rule = _rule(pk)
    now, messages = _preview(rule)
    return _page("reminder_preview.html", rule=rule, now=now, planned=messages)


@bp.get("/reminders/log")
@requires("reminders.manage")
def log():
    state = request.args.get("state", "")
    query = Outbox.select().where(Outbox.purpose == "reminder")
    if current_scope().communes is not None:
        query = query.where(Outbox.commune.in_(list(current_scope().communes) or [""]))
    if state in STATES:
        query = query.where(Outbox.state == state)
    rows = list(query.order_by(Outbox.created_at.desc(), Outbox.id.desc()).limit(LOG_LIMIT))
    return _page("reminder_log.html", rows=rows, state=state, local=current_app.extensions["to_local"])


# ---- JSON API for scripts ---------------------------------------------------------------------------

@bp.get("/api/v1/reminders")
@requires("reminders.manage")
def list_rules():
    return jsonify([forms.rule_dict(r) for r in _visible(ReminderRule.select().order_by(ReminderRule.id))])


@bp.post("/api/v1/reminders")
@requires("reminders.manage")
def create_rule():
    rule = _save_rule(json_body())
    return jsonify(forms.rule_dict(rule)), 201


@bp.patch("/api/v1/reminders/<int:pk>")
@requires("reminders.manage")
def change_rule(pk):
    """Change some fields of a rule (e.g. ``{"active": false}``); the others stay."""
    rule = _rule(pk)
    _save_rule(dict(_rule_shown(rule), **json_body()), rule)
    return jsonify(forms.rule_dict(rule))


@bp.get("/api/v1/reminders/contacts")
@requires("reminders.manage")
def list_contacts():
    return jsonify([_contact_dict(c) for c in _visible(Contact.select().order_by(Contact.id))])


@bp.post("/api/v1/reminders/contacts")
@requires("reminders.manage")
def create_contact():
    contact = _save_contact(json_body())
    return jsonify(_contact_dict(contact)), 201


@bp.patch("/api/v1/reminders/contacts/<int:pk>")
@requires("reminders.manage")
def change_contact(pk):
    contact = _contact(pk)
    _save_contact(dict(_contact_dict(contact), **json_body()), contact)
    return jsonify(_contact_dict(contact))


@bp.get("/api/v1/reminders/<int:pk>/preview")
@requires("reminders.manage")
def preview_api(pk):
    now, messages = _preview(_rule(pk))
    return jsonify(now=now.isoformat(sep=" "), messages=[m.to_dict() for m in messages])
