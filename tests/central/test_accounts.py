"""Named accounts at the hub: sign-in, lockout, idle timeout, forced password change, tokens,
CSRF on forms, cookies, the first operator, the accounts page and the audit log."""
import base64
import io
import re
import time
from datetime import timedelta

import pytest
from flask import Blueprint
from openpyxl import load_workbook

from central import accounts_throttle
from central.accounts import authenticate
from central.accounts_models import Account, ApiToken, AuditEntry
from central.audit import record as audit_record
from central.app import create_app
from central.reminder_models import Contact
from motcua.settings import load_settings
from office.clock import utcnow
from office.db import database
from office.errors import MotcuaError
from tests.central.hub_accounts import CSRF, PASSWORD, csrf_token, make_account, sign_in, token_client

FIRST = "first-operator-pw"


@pytest.fixture
def app(tmp_path):
    application = create_app(load_settings("hub", environ={}, overrides={"data_dir": str(tmp_path),
                                                                         "operator_password": FIRST}))
    application.config["TESTING"] = True
    yield application
    database.close()


def signed_in(app, name="ops", role="operator", **scope):
    make_account(name, role, **scope)
    client = app.test_client()
    assert sign_in(client, name).status_code == 303
    return client


# ---- the shared Basic "admin" is gone ---------------------------------------------------------------

def test_shared_basic_admin_password_no_longer_opens_the_hub(app):
    basic = {"Authorization": "Basic " + base64.b64encode(f"admin:{FIRST}".encode()).decode()}
    client = app.test_client()
    assert client.get("/api/v1/boxes", headers=basic).status_code == 401
    assert client.post("/api/v1/reminders/contacts", headers=basic, json={"name": "x"}).status_code == 401
    assert client.get("/", headers=basic).headers["Location"].startswith("/signin")
    assert Contact.select().count() == 0


def test_first_run_makes_admin_from_operator_password_who_must_change_it(app):
    admin = Account.get(Account.name == "admin")
    assert admin.role == "operator" and admin.must_change and admin.password_hash.startswith("$argon2")
    client = app.test_client()
    assert sign_in(client, "admin", FIRST).headers["Location"] == "/account/password"
    assert client.get("/").headers["Location"] == "/account/password"  # nothing else until it is changed
    assert client.get("/api/v1/boxes").status_code == 403
    token = csrf_token(client)
    refused = client.post("/account/password", data={"current": FIRST, "new": "short", "confirm": "short",
                                                      "csrf_token": token})
    assert refused.status_code == 400 and "ít nhất 10 ký tự" in refused.get_data(as_text=True)
    changed = client.post("/account/password", data={"current": FIRST, "new": "a-new-password-2026",
                                                      "confirm": "a-new-password-2026", "csrf_token": token})
    assert changed.status_code == 303
    assert client.get("/").status_code == 200
    assert not Account.get(Account.name == "admin").must_change
    other = app.test_client()
    assert sign_in(other, "admin", FIRST).status_code == 401  # the old password is gone


def test_password_change_signs_out_the_accounts_other_sessions(app):
    make_account("ops")
    first, second = app.test_client(), app.test_client()
    sign_in(first, "ops"), sign_in(second, "ops")
    first.post("/account/password", data={"current": PASSWORD, "new": "another-password-9", "confirm":
                                          "another-password-9", "csrf_token": csrf_token(first)})
    assert first.get("/").status_code == 200
    assert second.get("/").headers["Location"].startswith("/signin")


# ---- sign-in: wrong passwords, lockout, idle timeout, disabled accounts -----------------------------------

def test_wrong_password_is_refused_with_one_message_for_unknown_names_too(app):
    make_account("ops")
    wrong, unknown = app.test_client(), app.test_client()
    a = sign_in(wrong, "ops", "not-the-password")
    b = sign_in(unknown, "nobody", "not-the-password")
    assert a.status_code == b.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in a.get_data(as_text=True)
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in b.get_data(as_text=True)


def test_repeated_wrong_passwords_lock_the_account_even_with_the_right_one(app):
    make_account("ops")
    client = app.test_client()
    for _ in range(accounts_throttle.LIMITS["account"]):
        assert sign_in(client, "ops", "guess-guess-guess").status_code == 401
    locked = sign_in(client, "ops", PASSWORD)
    assert locked.status_code == 429 and "thử lại sau 15 phút" in locked.get_data(as_text=True)
    later = utcnow() + accounts_throttle.LOCK_FOR + timedelta(seconds=1)
    assert authenticate("ops", PASSWORD, "10.0.0.9", now=later).name == "ops"


def test_repeated_failures_from_one_address_lock_it_for_every_name(app):
    make_account("ops")
    now = utcnow()
    for i in range(accounts_throttle.LIMITS["address"]):
        with pytest.raises(MotcuaError):
            authenticate(f"guess{i}", "x", "203.0.113.7", now=now)
    with pytest.raises(MotcuaError) as refused:
        authenticate("ops", PASSWORD, "203.0.113.7", now=now)
    assert refused.value.status == 429
    assert authenticate("ops", PASSWORD, "203.0.113.8", now=now).name == "ops"  # another address


def test_session_taken_to_another_address_is_dropped(app):
    client = signed_in(app)
    assert client.get("/", environ_base={"REMOTE_ADDR": "198.51.100.4"}).headers["Location"].startswith("/signin")


def test_idle_session_expires(app):
    client = signed_in(app)
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["seen"] = time.time() - app.config["HUB_IDLE_SECONDS"] - 1
    expired = client.get("/")
    assert expired.headers["Location"].startswith("/signin") and "expired=1" in expired.headers["Location"]
    assert "hết hạn" in client.get(expired.headers["Location"]).get_data(as_text=True)
    assert client.get("/").headers["Location"].startswith("/signin")


def test_disabled_account_is_signed_out_at_its_next_request(app):
    client = signed_in(app, "leader", "leader", communes="05518")
    assert client.get("/stats").status_code == 200
    operator = token_client(app)
    leader_id = Account.get(Account.name == "leader").id
    assert operator.post(f"/accounts/{leader_id}/active", data={"active": "0"}).status_code == 303
    assert client.get("/stats").headers["Location"].startswith("/signin")
    assert sign_in(app.test_client(), "leader").status_code == 403


def test_role_change_takes_effect_at_the_next_request(app):
    client = signed_in(app, "someone", "operator")
    assert client.get("/accounts").status_code == 200
    account = Account.get(Account.name == "someone")
    token_client(app, name="boss").post(f"/accounts/{account.id}", data={"role": "viewer", "communes": "05518"})
    assert client.get("/accounts").headers["Location"].startswith("/signin")  # its sessions ended
    again = app.test_client()
    sign_in(again, "someone")
    assert again.get("/accounts").status_code == 403 and again.get("/stats").status_code == 200


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(app):
    make_account("ops")
    client = app.test_client()
    assert client.get("/reminders").headers["Location"] == "/signin?next=/reminders"
    token = CSRF.search(client.get("/signin?next=/reminders").get_data(as_text=True)).group(1)
    back = client.post("/signin", data={"name": "ops", "password": PASSWORD, "next": "/reminders", "csrf_token": token})
    assert back.headers["Location"] == "/reminders"
    other = app.test_client()
    token = CSRF.search(other.get("/signin").get_data(as_text=True)).group(1)
    off = other.post("/signin", data={"name": "ops", "password": PASSWORD, "next": "//evil.example/",
                                      "csrf_token": token})
    assert off.headers["Location"] == "/"


# ---- CSRF and cookies ------------------------------------------------------------------------------------

def test_cross_site_form_with_origin_null_is_refused(app):
    """A page elsewhere (a sandboxed frame says ``Origin: null``) posts a reminder contact with the
    operator's browser: without the form's token it is refused."""
    client = signed_in(app)
    forged = client.post("/reminders/contacts", data={"name": "Kẻ gian", "phone": "0912000000"},
                         headers={"Origin": "null"})
    assert forged.status_code == 403 and "Trang này đã cũ" in forged.get_data(as_text=True)
    assert Contact.select().count() == 0


def test_form_post_without_origin_or_referer_needs_the_token(app):
    client = signed_in(app)
    assert client.post("/reminders/contacts", data={"name": "Kẻ gian", "phone": "0912000000"}).status_code == 403
    assert client.post("/api/v1/reminders/contacts", json={"name": "Kẻ gian"}).status_code == 403
    assert Contact.select().count() == 0
    ok = client.post("/reminders/contacts", data={"name": "Chị Lan", "phone": "0912000000",
                                                  "csrf_token": csrf_token(client)},
                     headers={"Origin": "http://localhost"})  # a browser names the form's page
    assert ok.status_code == 303 and Contact.select().count() == 1


def test_sign_in_form_needs_its_token(app):
    make_account("ops")
    assert app.test_client().post("/signin", data={"name": "ops", "password": PASSWORD}).status_code == 403


def test_every_post_form_of_the_hub_carries_the_token(app):
    from pathlib import Path

    import central

    for template in sorted((Path(central.__file__).parent / "templates").glob("*.html")):
        text = template.read_text("utf-8")
        forms = text.count('<form method="post"')
        assert text.count('name="csrf_token"') >= forms, template.name


def test_session_cookie_is_samesite_httponly_and_secure_over_tls(app):
    make_account("ops")
    client = app.test_client()
    plain = sign_in(client, "ops").headers.get_all("Set-Cookie")
    assert any("SameSite=Lax" in c and "HttpOnly" in c for c in plain) and not any("Secure" in c for c in plain)
    tls = app.test_client()
    token = CSRF.search(tls.get("/signin", base_url="https://hub.example").get_data(as_text=True)).group(1)
    cookies = tls.post("/signin", base_url="https://hub.example", headers={"Referer": "https://hub.example/signin"},
                       data={"name": "ops", "password": PASSWORD, "csrf_token": token}).headers.get_all("Set-Cookie")
    assert cookies and all("Secure" in c and "SameSite=Lax" in c for c in cookies)


# ---- API tokens --------------------------------------------------------------------------------------------

def test_token_is_shown_once_stored_hashed_and_revocable(app):
    client = signed_in(app)
    made = client.post("/account/tokens", data={"label": "sao lưu", "csrf_token": csrf_token(client, "/account")})
    token = re.search(r"<code[^>]*>(mct_[^<]+)</code>", made.get_data(as_text=True)).group(1)
    row = ApiToken.get()
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert token not in client.get("/account").get_data(as_text=True)  # shown once
    script = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert script.get("/api/v1/boxes", headers=bearer).status_code == 200
    holiday = {"day": "2026-09-02", "name": "Quốc khánh"}
    assert script.post("/api/v1/holidays", headers=bearer, json=holiday).status_code == 201
    client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf_token(client, "/account")})
    assert script.get("/api/v1/boxes", headers=bearer).status_code == 401
    assert script.get("/api/v1/boxes", headers={"Authorization": "Bearer mct_guessed"}).status_code == 401


def test_token_of_a_disabled_account_stops_working(app):
    script = token_client(app, "viewer", communes="05518")
    assert script.get("/api/v1/stats/summary").status_code == 200
    Account.update(active=False).where(Account.name == "viewer").execute()
    assert script.get("/api/v1/stats/summary").status_code == 401


def test_token_acts_with_its_accounts_role(app):
    script = token_client(app, "viewer", communes="05518")
    assert script.get("/api/v1/boxes").status_code == 403
    assert script.post("/api/v1/holidays", json={"day": "2026-09-02", "name": "x"}).status_code == 403


# ---- undeclared routes --------------------------------------------------------------------------------------

def test_a_route_that_declares_no_permission_is_refused_to_everyone(tmp_path):
    app = create_app(load_settings("hub", environ={}, overrides={"data_dir": str(tmp_path)}))
    extra = Blueprint("extra", __name__)

    @extra.get("/forgotten")
    def forgotten():
        return "secret"

    app.register_blueprint(extra)
    try:
        assert token_client(app).get("/forgotten").status_code == 403
    finally:
        database.close()


# ---- the accounts page and the audit log ---------------------------------------------------------------------

def test_operator_creates_an_account_whose_temporary_password_must_change(app):
    operator = signed_in(app)
    token = csrf_token(operator, "/accounts")
    made = operator.post("/accounts", data={"name": "lanhdao", "full_name": "Nguyễn Văn Lãnh", "role": "leader",
                                            "communes": "05518", "csrf_token": token})
    assert made.status_code == 201
    password = re.search(r"mật khẩu tạm <code[^>]*>([^<]+)</code>", made.get_data(as_text=True)).group(1)
    refused = operator.post("/accounts", data={"name": "lanhdao2", "role": "leader", "communes": "",
                                               "csrf_token": token})
    assert refused.status_code == 400 and "ít nhất một mã xã/phường" in refused.get_data(as_text=True)
    leader = app.test_client()
    assert sign_in(leader, "lanhdao", password).headers["Location"] == "/account/password"
    page = operator.get("/accounts").get_data(as_text=True)
    assert "lanhdao" in page and "Chờ đổi mật khẩu" in page and password not in page


def test_changes_are_written_to_the_audit_log_with_who_and_from_where(app):
    operator = signed_in(app)
    operator.post("/api/v1/holidays", json={"day": "2026-09-02", "name": "Quốc khánh"},
                  headers={"X-CSRFToken": csrf_token(operator)})
    token_client(app, name="script").post("/api/v1/reminders/contacts", json={"name": "Chị Lan", "commune": "05518"})
    sign_in(app.test_client(), "ops", "wrong-password-x")
    rows = {(e.account, e.action, e.target) for e in AuditEntry.select()}
    assert ("ops", "holiday.add", "2026-09-02") in rows and ("script", "reminder.contact", "Chị Lan") in rows
    assert ("ops", "signin", "ops") in rows and ("ops", "signin.failed", "ops") in rows
    assert AuditEntry.get(AuditEntry.action == "holiday.add").address == "127.0.0.1"
    page = operator.get("/audit?action=holiday").get_data(as_text=True)
    table = page.split('id="audit"', 1)[1]
    assert "Thêm ngày nghỉ" in table and "Chị Lan" not in table
    download = operator.get("/audit.xlsx?account=script")
    book = load_workbook(io.BytesIO(download.data))
    download.close()
    assert [row[1] for row in book.active.iter_rows(min_row=2, values_only=True)] == ["script"]


def test_a_failed_change_leaves_no_audit_entry(app):
    operator = token_client(app)
    assert operator.post("/api/v1/holidays", json={"day": "bad", "name": ""}).status_code == 400
    assert operator.post("/api/v1/agencies", json={"code": "", "name": ""}).status_code == 400
    assert not AuditEntry.select().where(AuditEntry.action.in_(["holiday.add", "agency.add"])).exists()


def test_agency_actions_are_audited_with_the_officer(app):
    from tests.central.test_agency import STP, add_stp, pushed_dossier
    from office.models import Office
    from sync.capture import applying_remote

    with applying_remote():
        Office.insert(id="office-1", commune="05518", name="UBND Phường Sông Công",
                      agency_code="000.19.05518").execute()
    add_stp(token_client(app))
    dossier = pushed_dossier(1, STP)
    officer = token_client(app, "agency", name="stp", agency=STP)
    app.extensions["dossier_clock"] = lambda: dossier.received_at + timedelta(days=1)
    assert officer.post(f"/agency/dossiers/{dossier.code}/finish", data={"note": "Đã cấp"}).status_code == 303
    entry = AuditEntry.get(AuditEntry.action == "dossier.finish")
    assert (entry.account, entry.target, entry.detail) == ("stp", dossier.code, "Đã cấp")


# ---- reminder contacts that are accounts ------------------------------------------------------------------

def test_contact_pointing_at_an_account_takes_its_phone_and_email_and_follows_changes(app):
    leader = make_account("lanhdao", "leader", communes="05518", full_name="Nguyễn Văn Lãnh", phone="0912000111",
                          email="lanh@songcong.gov.vn")
    operator = token_client(app)
    made = operator.post("/api/v1/reminders/contacts", json={"account": "lanhdao", "role": "leader",
                                                             "commune": "05518"})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["name"], body["phone"], body["email"], body["account"]) == (
        "Nguyễn Văn Lãnh", "0912000111", "lanh@songcong.gov.vn", "lanhdao")
    operator.post(f"/accounts/{leader.id}", data={"role": "leader", "communes": "05518", "full_name": "Nguyễn Văn Lãnh",
                                                  "phone": "0987654321", "email": "lanh@thainguyen.gov.vn"})
    contact = Contact.get_by_id(body["id"])
    assert (contact.phone, contact.email) == ("0987654321", "lanh@thainguyen.gov.vn")
    form = operator.get(f"/reminders/contacts/{contact.id}").get_data(as_text=True)
    assert '<option value="lanhdao" selected>' in form
    unlinked = operator.post(f"/reminders/contacts/{contact.id}", data={
        "account": "", "name": "Chị Lan", "role": "leader", "commune": "05518", "phone": "0912000222"})
    assert unlinked.status_code == 303
    operator.post(f"/accounts/{leader.id}", data={"role": "leader", "communes": "05518", "phone": "0900000000"})
    assert Contact.get_by_id(contact.id).phone == "0912000222"  # no longer follows the account
    assert operator.post("/api/v1/reminders/contacts", json={"account": "nobody"}).status_code == 400


def test_operator_revokes_and_releases_a_box_on_the_page_and_it_is_audited(app):
    from central.models import BoxNode

    BoxNode.create(node_id="box-1", commune="05518", public_key="k", registered_at=utcnow(),
                   status=BoxNode.QUARANTINED, status_reason="clone")
    operator = signed_in(app)
    page = operator.get("/").get_data(as_text=True)
    assert "/boxes/box-1/release" in page and "/boxes/box-1/revoke" in page
    token = csrf_token(operator, "/")
    assert operator.post("/boxes/box-1/release", data={"csrf_token": token}).status_code == 303
    assert BoxNode.get(BoxNode.node_id == "box-1").status == BoxNode.ACTIVE
    assert operator.post("/boxes/box-1/revoke", data={"reason": "mất máy", "csrf_token": token}).status_code == 303
    assert BoxNode.get(BoxNode.node_id == "box-1").status == BoxNode.REVOKED
    assert [(e.action, e.target, e.detail) for e in AuditEntry.select().where(AuditEntry.action.startswith("box."))
            .order_by(AuditEntry.id)] == [("box.release", "box-1", ""), ("box.revoke", "box-1", "mất máy")]
    assert operator.post("/boxes/nope/release", data={"csrf_token": token}).status_code == 404


def test_a_failed_sign_in_with_an_unknown_name_does_not_write_what_was_typed(app):
    sign_in(app.test_client(), "my-secret-password-typed-as-name", "x")
    entry = AuditEntry.get(AuditEntry.action == "signin.failed")
    assert "my-secret" not in f"{entry.account} {entry.target} {entry.detail}"


# ---- the same on PostgreSQL (a hub that scales out) ------------------------------------------------------

@pytest.fixture
def pg_app(tmp_path):
    from tests.sync.conftest import drop_schema, postgres_schema

    schema, url = postgres_schema()
    application = create_app(load_settings("hub", environ={}, overrides={
        "data_dir": str(tmp_path), "database": url, "operator_password": FIRST}))
    application.config["TESTING"] = True
    yield application
    database.close()
    drop_schema(schema)


def test_lockout_tokens_and_audit_work_on_postgresql(pg_app):
    make_account("ops")
    now = utcnow()
    for _ in range(accounts_throttle.LIMITS["account"]):
        with pytest.raises(MotcuaError):
            authenticate("ops", "guess-guess-guess", "10.0.0.1", now=now)
    with pytest.raises(MotcuaError) as locked:
        authenticate("ops", PASSWORD, "10.0.0.2", now=now)
    assert locked.value.status == 429
    script = token_client(pg_app, name="script")
    assert script.post("/api/v1/holidays", json={"day": "2026-09-02", "name": "Quốc khánh"}).status_code == 201
    assert script.post("/api/v1/holidays", json={"day": "x", "name": ""}).status_code == 400
    assert [(e.account, e.action) for e in AuditEntry.select()] == [("script", "holiday.add")]
    from peewee import DatabaseError

    with pytest.raises(DatabaseError):
        with database.atomic():
            AuditEntry.delete().execute()


def test_the_database_refuses_to_change_or_delete_audit_entries(app):
    from peewee import DatabaseError

    entry = audit_record("ops", "10.0.0.1", "holiday.add", "2026-09-02")
    with pytest.raises(DatabaseError):
        with database.atomic():
            AuditEntry.update(account="someone-else").where(AuditEntry.id == entry.id).execute()
    with pytest.raises(DatabaseError):
        with database.atomic():
            AuditEntry.delete().execute()
    assert AuditEntry.get_by_id(entry.id).account == "ops"
