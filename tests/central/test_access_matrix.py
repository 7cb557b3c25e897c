"""Every hub route × every role, in and out of scope, derived from the one declaration of
permissions (``central.accounts_roles``): a route that declares nothing and is not listed public
fails here, and so does a scoped route without an out-of-scope case below."""
from datetime import datetime

import pytest

from central.accounts_models import Account
from central.accounts_roles import CITIZEN_BLUEPRINTS, MACHINE_ENDPOINTS, PUBLIC_ENDPOINTS, ROLES, SCOPED, allowed, \
    is_public, permission_of
from central.app import create_app
from central.outbox import Outbox, enqueue
from central.reminder_models import Contact, ReminderRule
from motcua.settings import load_settings
from office.db import database
from office.models import Agency, Dossier, Office
from sync.capture import applying_remote
from tests.central.citizen_session import proved_citizen
from tests.central.hub_accounts import CSRF, make_account, sign_in

A, B = "05518", "00454"  # the leader's and viewer's commune; another commune
STP, OTHER = "000.00.19.STP", "000.00.19.SXD"
NOW = datetime(2026, 3, 4, 10, 0)
CLIENT_ROLES = (Account.LEADER, Account.AGENCY, Account.VIEWER, Account.OPERATOR)  # operators last: they change others


def dossier(number, commune, agency):
    code = f"000.19.{commune}-260302-{number:04d}"
    Dossier.insert(id=f"d-{number}", commune=commune, code=code, procedure_code="1.001193",
                   procedure_name="Đăng ký khai sinh", applicant_name="Nguyễn Văn An",
                   applicant_id_number="001099012345",
                   applicant_phone="0912345678", components="[]", status=4, stage="Chuyển liên thông", agency=agency,
                   handler="", received_at=datetime(2026, 3, 2, 9), due_at=datetime(2026, 3, 5, 17)).execute()
    return code


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    settings = load_settings("hub", environ={}, overrides={"data_dir": str(tmp_path_factory.mktemp("hub")),
                                                         "operator_password": "first-operator"})
    app = create_app(settings)
    app.config["TESTING"] = True
    app.extensions["dossier_clock"] = lambda: NOW
    with applying_remote():
        for commune in (A, B):
            Office.insert(id=f"office-{commune}", commune=commune, name=f"UBND {commune}",
                          agency_code=f"000.19.{commune}").execute()
        code_a, code_b = dossier(1, A, STP), dossier(2, B, OTHER)
        code_a_other = dossier(3, A, OTHER)
    Agency.create(commune="*", code=STP, name="Sở Tư pháp")
    Agency.create(commune="*", code=OTHER, name="Sở Xây dựng")
    rules = {c: ReminderRule.create(name=f"Quy tắc xã {c}", communes=c, created_at=NOW) for c in (A, B)}
    contacts = {c: Contact.create(name=f"Người nhận xã {c}", commune=c, phone="0912000000") for c in (A, B)}
    for c in (A, B):
        enqueue(f"R-{c}", "log", "x", f"Nhắc việc xã {c}", purpose="reminder", commune=c, now=NOW)
    reminders = {c: Outbox.get(Outbox.commune == c) for c in (A, B)}
    target = make_account("target", Account.VIEWER, communes=A)
    accounts = {Account.OPERATOR: make_account("ops", Account.OPERATOR),
                Account.LEADER: make_account("leader", Account.LEADER, communes=A),
                Account.AGENCY: make_account("officer", Account.AGENCY, agency=STP),
                Account.VIEWER: make_account("viewer", Account.VIEWER, communes=A)}
    yield {"app": app, "code_a": code_a, "code_b": code_b, "code_a_other": code_a_other, "rules": rules,
           "contacts": contacts, "reminders": reminders, "target": target, "accounts": accounts}
    database.close()


def url_values(world, endpoint, arguments):
    """Sample values for a rule's arguments: in-scope objects (commune A, agency STP)."""
    rule_a, contact_a = world["rules"][A].id, world["contacts"][A].id
    pk = {"reminders.edit_contact": contact_a, "reminders.contact_active": contact_a,
          "reminders.change_contact": contact_a, "accounts.edit": world["target"].id,
          "accounts.set_active": world["target"].id, "accounts.reset": world["target"].id,
          "accounts.revoke": world["target"].id}.get(endpoint, rule_a if endpoint.startswith("reminders.") else "x")
    samples = {"pk": pk, "code": world["code_a"], "action": "transfer", "table": "summary", "filename": "app.css",
               "node": "no-box", "kind": "json", "version": "0.0.1", "name": "x.whl", "sha256": "0" * 64, "sha": "0" * 64,
               "message_id": world["reminders"][A].id, "token_id": 999, "commune": A, "draft_id": "x",
               "upload_id": "x", "token": "x", "fmt": "json",
               "request_id": "PA-KHONGCO", "client_id": 999}
    return {name: samples[name] for name in arguments}


IN_SCOPE_DATA = {"reminders.add_rule": {"communes": A}, "reminders.create_rule": {"communes": A},
                 "reminders.add_contact": {"commune": A}, "reminders.create_contact": {"commune": A},
                 "reminders.edit_rule": {"communes": A}, "reminders.edit_contact": {"commune": A},
                 "booking_admin.save_plan": {"commune": A}, "booking_admin.closed_day": {"commune": A}}


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


class Browser:
    """A signed-in person's client: sends the form token with every write, as the hub's pages do."""

    def __init__(self, app, account):
        self.app, self.account, self.client = app, account, app.test_client()
        self.sign_in()

    def sign_in(self):
        assert sign_in(self.client, self.account.name).status_code == 303
        self.token = CSRF.search(self.client.get("/account/password").get_data(as_text=True)).group(1)

    def request(self, method, url, data=None):
        kwargs = {"headers": {"X-CSRFToken": self.token, "Origin": "http://localhost"}}  # a browser names its page
        if url.startswith("/api/"):
            kwargs["json"] = data or {}
        else:
            kwargs["data"] = data or {}
        response = closed(self.client.open(url, method=method, **kwargs))
        if url == "/signout":
            self.sign_in()
        return response


def closed(response):
    """The response read and closed (a download streams a temporary file)."""
    response.get_data()
    response.close()
    return response


def refused_for_sign_in(response):
    return response.status_code == 401 or (response.status_code in (302, 303)
                                           and response.headers["Location"].startswith("/signin"))


def test_every_route_is_declared_and_enforced_for_every_role(world):
    app = world["app"]
    browsers = {role: Browser(app, world["accounts"][role]) for role in CLIENT_ROLES}
    anonymous = app.test_client()
    citizen = proved_citizen(app.test_client(), "0912000111")
    citizen_token = CSRF.search(citizen.get("/cong-dan/phan-anh/moi").get_data(as_text=True)).group(1)
    checked = 0
    for rule, method in routes(app):
        endpoint = rule.endpoint
        with app.test_request_context():
            from flask import url_for

            url = url_for(endpoint, **url_values(world, endpoint, rule.arguments))
        if is_public(endpoint):  # listed public, or a page of the citizens' blueprints
            response = closed(anonymous.open(url, method=method))
            assert not refused_for_sign_in(response) or endpoint in MACHINE_ENDPOINTS, (method, url)
            continue
        if endpoint.split(".", 1)[0] in CITIZEN_BLUEPRINTS:  # a citizen's proved phone, no operator's sign-in
            response = closed(citizen.open(url, method=method, headers={"Origin": "http://localhost",
                                                                         "X-CSRFToken": citizen_token}))
            assert not refused_for_sign_in(response) and response.status_code not in (401, 403), (method, url)
            continue
        permission = permission_of(app.view_functions[endpoint])
        assert permission is not None, f"{endpoint} ({rule.rule}) declares no permission and is not listed public"
        assert refused_for_sign_in(closed(anonymous.open(url, method=method))), (method, url, "anonymous")
        for role in CLIENT_ROLES:
            response = browsers[role].request(method, url, IN_SCOPE_DATA.get(endpoint))
            if allowed(role, permission):
                signed_out = endpoint == "auth.sign_out"  # its answer is the sign-in page
                assert response.status_code not in (401, 403) and (signed_out or not refused_for_sign_in(response)), \
                    (role, method, url, response.status_code, response.get_data(as_text=True)[:300])
            else:
                assert response.status_code == 403, (role, method, url, response.status_code)
            checked += 1
    assert checked > 150


def out_of_scope_cases(world):
    """endpoint -> (method, url, data, check(response) is True when nothing outside the scope showed)."""
    rule_b, contact_b = world["rules"][B].id, world["contacts"][B].id
    def hidden(*texts):
        return lambda r: r.status_code == 200 and not any(t in r.get_data(as_text=True) for t in texts)

    def gone(response):
        return response.status_code in (403, 404)

    def refused(response):
        return response.status_code == 403

    return {
        "stats.index": ("GET", f"/stats?commune={B}", None, gone),
        "stats.report": ("GET", f"/stats/report.xlsx?commune={B}&month=2026-03", None, gone),
        "stats.excel": ("GET", f"/stats/summary.xlsx?commune={B}", None, gone),
        "stats.api": ("GET", f"/api/v1/stats/summary?commune={B}", None, gone),
        "stats.start_export": ("POST", f"/stats/exports?commune={B}&table=summary", None, gone),
        # a job is its own account's alone (another account's job: test_stats_exports); no job -> 404
        "stats.export_status": ("GET", "/stats/exports/x", None, gone),
        "stats.export_status_json": ("GET", "/api/v1/stats/exports/x", None, gone),
        "stats.export_file": ("GET", "/stats/exports/x/file", None, gone),
        "agency.index": ("GET", "/agency?view=all", None, hidden(world["code_b"])),
        "agency.detail": ("GET", f"/agency/dossiers/{world['code_b']}", None, gone),
        "agency.act": ("POST", f"/agency/dossiers/{world['code_a_other']}/finish", None, gone),
        "reminders.index": ("GET", "/reminders", None, hidden(f"Quy tắc xã {B}", f"Người nhận xã {B}")),
        "reminders.add_rule": ("POST", "/reminders/rules", {"name": "x", "communes": B, "channels": "log",
                                                             "times": "08:00", "weekdays": "0"}, refused),
        "reminders.edit_rule": ("GET", f"/reminders/rules/{rule_b}", None, gone),
        "reminders.rule_active": ("POST", f"/reminders/rules/{rule_b}/active", None, gone),
        "reminders.add_contact": ("POST", "/reminders/contacts", {"name": "x", "commune": B}, refused),
        "reminders.edit_contact": ("GET", f"/reminders/contacts/{contact_b}", None, gone),
        "reminders.contact_active": ("POST", f"/reminders/contacts/{contact_b}/active", None, gone),
        "reminders.preview_page": ("GET", f"/reminders/{rule_b}/preview", None, gone),
        "reminders.log": ("GET", "/reminders/log", None, hidden(f"Nhắc việc xã {B}")),
        "reminders.list_rules": ("GET", "/api/v1/reminders", None, hidden(f"Quy tắc xã {B}")),
        "reminders.create_rule": ("POST", "/api/v1/reminders", {"name": "x", "communes": B, "channels": "log",
                                                                "times": "08:00", "weekdays": "0"}, refused),
        "reminders.change_rule": ("PATCH", f"/api/v1/reminders/{rule_b}", {"active": False}, gone),
        "reminders.list_contacts": ("GET", "/api/v1/reminders/contacts", None, hidden(f"Người nhận xã {B}")),
        "reminders.create_contact": ("POST", "/api/v1/reminders/contacts", {"name": "x", "commune": B}, refused),
        "reminders.change_contact": ("PATCH", f"/api/v1/reminders/contacts/{contact_b}", {"active": False}, gone),
        "reminders.preview_api": ("GET", f"/api/v1/reminders/{rule_b}/preview", None, gone),
        "booking_admin.index": ("GET", "/dat-lich", None, hidden("Xã Đông Anh")),
        "booking_admin.save_plan": ("POST", "/dat-lich/ke-hoach", {"commune": B, "service": "x", "capacity": "2",
                                                                   "slot_minutes": "30"}, refused),
        "booking_admin.closed_day": ("POST", "/dat-lich/ngay-nghi", {"commune": B, "day": "2026-12-24"}, refused),
    }


def test_scoped_accounts_see_and_change_nothing_outside_their_scope(world):
    app = world["app"]
    cases = out_of_scope_cases(world)
    scoped_endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                        if permission_of(app.view_functions[rule.endpoint]) in SCOPED}
    assert scoped_endpoints <= set(cases), f"no out-of-scope case for {sorted(scoped_endpoints - set(cases))}"
    for role in (Account.LEADER, Account.AGENCY, Account.VIEWER):
        browser = Browser(app, world["accounts"][role])
        for endpoint in sorted(scoped_endpoints):
            permission = permission_of(app.view_functions[endpoint])
            if not allowed(role, permission):
                continue
            method, url, data, check = cases[endpoint]
            response = browser.request(method, url, data)
            assert check(response), (role, endpoint, response.status_code, response.get_data(as_text=True)[:300])
    assert Dossier.get(Dossier.code == world["code_a_other"]).status == 4
    assert ReminderRule.get_by_id(world["rules"][B].id).active and Contact.get_by_id(world["contacts"][B].id).active


def test_agency_officer_sees_and_acts_on_its_own_agency_dossiers_only(world):
    officer = Browser(world["app"], world["accounts"][Account.AGENCY])
    listed = officer.request("GET", "/agency?view=all").get_data(as_text=True)
    assert world["code_a"] in listed and world["code_a_other"] not in listed and "Sở Xây dựng" not in listed
    assert officer.request("GET", f"/agency/dossiers/{world['code_a_other']}").status_code == 404
    assert officer.request("GET", f"/agency?agency={OTHER}").get_data(as_text=True).count(world["code_a_other"]) == 0
    assert officer.request("POST", f"/agency/dossiers/{world['code_a_other']}/finish").status_code == 404
    assert Dossier.get(Dossier.code == world["code_a_other"]).status == 4


def test_in_scope_data_is_shown(world):
    leader = Browser(world["app"], world["accounts"][Account.LEADER])
    page = leader.request("GET", "/agency?view=all").get_data(as_text=True)
    assert world["code_a"] in page and world["code_a_other"] in page  # both dossiers of the leader's commune
    assert f"Quy tắc xã {A}" in leader.request("GET", "/reminders").get_data(as_text=True)
    officer = Browser(world["app"], world["accounts"][Account.AGENCY])
    assert world["code_a"] in officer.request("GET", "/agency?view=all").get_data(as_text=True)


def test_pages_show_only_what_the_account_may_use(world):
    nav = {"/stats": "stats.view", "/agency": "dossiers.read", "/catalog": "catalog.manage",
           "/reminders": "reminders.manage", "/notifications": "messages.manage", "/accounts": "accounts.manage",
           "/audit": "audit.view"}
    for role in CLIENT_ROLES:
        browser = Browser(world["app"], world["accounts"][role])
        page = browser.request("GET", "/account").get_data(as_text=True)
        for href, permission in nav.items():
            assert (f'href="{href}"' in page) == allowed(role, permission), (role, href)


def test_every_role_is_declared_with_known_permissions():
    from central.accounts_roles import PERMISSIONS

    for role, (label, permissions) in ROLES.items():
        assert label and permissions <= set(PERMISSIONS) and "self" in permissions, role
