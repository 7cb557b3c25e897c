"""The operator's reminder pages and API: rules, contacts, a preview, and what was sent."""
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
from office.errors import MotcuaError

from . import reminder_forms as forms
from .auth import operator_required
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
                           WHAT=ReminderRule.WHAT, UNITS=ReminderRule.UNITS, AUDIENCES=ReminderRule.AUDIENCES,
                           ROLES=Contact.ROLES, STATES=STATES, commune_name=_commune_name, **context), status


def _commune_name(code):
    commune = find_commune(code)
    return commune.name if commune else code


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
    rules = list(ReminderRule.select().order_by(ReminderRule.active.desc(), ReminderRule.name, ReminderRule.id))
    contacts = list(Contact.select().order_by(Contact.active.desc(), Contact.commune, Contact.role, Contact.name))
    return _page("reminders.html", status, rules=rules, contacts=contacts, **context)


@bp.get("/reminders")
@operator_required
def index():
    return _index()


@bp.post("/reminders/rules")
@operator_required
def add_rule():
    values = _rule_form()
    try:
        rule = forms.save_rule(values)
    except MotcuaError as exc:
        return _index(exc.status, rule_reasons=exc.detail or [exc.message], rule_values=values)
    flash(f"Đã thêm quy tắc “{rule.name}”.")
    return redirect(url_for(".index"), 303)


@bp.route("/reminders/rules/<int:pk>", methods=("GET", "POST"))
@operator_required
def edit_rule(pk):
    rule = forms.get_rule(pk)
    if request.method == "GET":
        return _page("reminder_rule.html", rule=rule, values=_rule_shown(rule))
    values = _rule_form()
    try:
        forms.save_rule(values, rule)
    except MotcuaError as exc:
        return _page("reminder_rule.html", exc.status, rule=forms.get_rule(pk), values=values,
                     reasons=exc.detail or [exc.message])
    flash(f"Đã lưu quy tắc “{rule.name}”.")
    return redirect(url_for(".index"), 303)


@bp.post("/reminders/rules/<int:pk>/active")
@operator_required
def rule_active(pk):
    rule = forms.get_rule(pk)
    rule.active = request.form.get("active") == "1"
    rule.save()
    flash(f"Quy tắc “{rule.name}” " + ("đang dùng." if rule.active else "đã tạm ngừng."))
    return redirect(url_for(".index"), 303)


@bp.post("/reminders/contacts")
@operator_required
def add_contact():
    values = request.form.to_dict()
    try:
        contact = forms.save_contact(values)
    except MotcuaError as exc:
        return _index(exc.status, contact_reasons=exc.detail or [exc.message], contact_values=values)
    flash(f"Đã thêm người nhận {contact.name}.")
    return redirect(url_for(".index") + "#contacts", 303)


@bp.route("/reminders/contacts/<int:pk>", methods=("GET", "POST"))
@operator_required
def edit_contact(pk):
    contact = forms.get_contact(pk)
    if request.method == "GET":
        return _page("reminder_contact.html", contact=contact, values=forms.contact_dict(contact))
    values = request.form.to_dict()
    try:
        forms.save_contact(values, contact)
    except MotcuaError as exc:
        return _page("reminder_contact.html", exc.status, contact=forms.get_contact(pk), values=values,
                     reasons=exc.detail or [exc.message])
    flash(f"Đã lưu người nhận {contact.name}.")
    return redirect(url_for(".index") + "#contacts", 303)


@bp.post("/reminders/contacts/<int:pk>/active")
@operator_required
def contact_active(pk):
    contact = forms.get_contact(pk)
    contact.active = request.form.get("active") == "1"
    contact.save()
    flash(f"{contact.name} " + ("sẽ nhận nhắc việc." if contact.active else "không nhận nhắc việc nữa."))
    return redirect(url_for(".index") + "#contacts", 303)


def _preview(rule):
    now = local_now()
    return now, preview(rule, now, zalo_template=current_app.extensions["hub"].settings["reminder_zalo_template"])


@bp.get("/reminders/<int:pk>/preview")
@operator_required
def preview_page(pk):
    rule = forms.get_rule(pk)
    now, messages = _preview(rule)
    return _page("reminder_preview.html", rule=rule, now=now, planned=messages)


@bp.get("/reminders/log")
@operator_required
def log():
    state = request.args.get("state", "")
    query = Outbox.select().where(Outbox.purpose == "reminder")
    if state in STATES:
        query = query.where(Outbox.state == state)
    rows = list(query.order_by(Outbox.created_at.desc(), Outbox.id.desc()).limit(LOG_LIMIT))
    return _page("reminder_log.html", rows=rows, state=state, local=current_app.extensions["to_local"])


# ---- JSON API for scripts ---------------------------------------------------------------------------

@bp.get("/api/v1/reminders")
@operator_required
def list_rules():
    return jsonify([forms.rule_dict(r) for r in ReminderRule.select().order_by(ReminderRule.id)])


@bp.post("/api/v1/reminders")
@operator_required
def create_rule():
    rule = forms.save_rule(json_body())
    return jsonify(forms.rule_dict(rule)), 201


@bp.patch("/api/v1/reminders/<int:pk>")
@operator_required
def change_rule(pk):
    """Change some fields of a rule (e.g. ``{"active": false}``); the others stay."""
    rule = forms.get_rule(pk)
    forms.save_rule(dict(_rule_shown(rule), **json_body()), rule)
    return jsonify(forms.rule_dict(rule))


@bp.get("/api/v1/reminders/contacts")
@operator_required
def list_contacts():
    return jsonify([forms.contact_dict(c) for c in Contact.select().order_by(Contact.id)])


@bp.post("/api/v1/reminders/contacts")
@operator_required
def create_contact():
    contact = forms.save_contact(json_body())
    return jsonify(forms.contact_dict(contact)), 201


@bp.patch("/api/v1/reminders/contacts/<int:pk>")
@operator_required
def change_contact(pk):
    contact = forms.get_contact(pk)
    forms.save_contact(dict(forms.contact_dict(contact), **json_body()), contact)
    return jsonify(forms.contact_dict(contact))


@bp.get("/api/v1/reminders/<int:pk>/preview")
@operator_required
def preview_api(pk):
    now, messages = _preview(forms.get_rule(pk))
    return jsonify(now=now.isoformat(sep=" "), messages=[m.to_dict() for m in messages])
