"""Operators manage the hub's accounts: create, change role and scope, reset a password, disable."""
from flask import Blueprint, flash, get_flashed_messages, jsonify, redirect, render_template, request, url_for

from office.errors import MotcuaError, NotFound

from . import accounts
from .accounts_models import Account
from .accounts_roles import ROLES, requires
from .accounts_tokens import revoke_token, tokens_of
from .auth import audited, current_account

bp = Blueprint("accounts", __name__)
FIELDS = ("name", "full_name", "role", "communes", "agency", "phone", "email")


def _page(template, status=200, **context):
    return render_template(template, messages=get_flashed_messages(with_categories=True), ROLES=ROLES,
                           **context), status


def _all():
    return list(Account.select().order_by(Account.active.desc(), Account.role, Account.name))


def _get(pk):
    account = Account.get_or_none(Account.id == pk)
    if account is None:
        raise NotFound("Không có tài khoản này.")
    return account


def _values():
    return {k: request.form.get(k, "").strip() for k in FIELDS}


def _scope_text(account):
    if account.role == Account.AGENCY:
        return f"cơ quan {account.agency}"
    return f"xã {account.communes}" if account.communes else "toàn trung tâm"


@bp.get("/accounts")
@requires("accounts.manage")
def index():
    return _page("accounts.html", accounts=_all(), values={"role": Account.LEADER}, created=None)


@bp.post("/accounts")
@requires("accounts.manage")
def add():
    values = _values()
    try:
        with audited("account.add", values["name"]) as entry:
            account, password = accounts.create_account(**values)
            entry["detail"] = f"{account.role}, {_scope_text(account)}"
    except MotcuaError as exc:
        return _page("accounts.html", exc.status, accounts=_all(), values=values, error=exc.message, created=None)
    return _page("accounts.html", 201, accounts=_all(), values={"role": Account.LEADER},
                 created={"name": account.name, "password": password})


@bp.route("/accounts/<int:pk>", methods=("GET", "POST"))
@requires("accounts.manage")
def edit(pk):
    account = _get(pk)
    if request.method == "GET":
        return _page("account_edit.html", a=account, values={k: getattr(account, k) for k in FIELDS},
                     tokens=tokens_of(account))
    values = _values()
    try:
        with audited("account.change", account.name) as entry:
            changed = accounts.update_account(account, values["role"], values["communes"], values["agency"],
                                              values["full_name"], values["phone"], values["email"])
            entry["detail"] = f"{changed.role}, {_scope_text(changed)}"
    except MotcuaError as exc:
        return _page("account_edit.html", exc.status, a=account, values=values, tokens=tokens_of(account),
                     error=exc.message)
    flash(f"Đã lưu tài khoản {account.name}.")
    return redirect(url_for(".index"), 303)


@bp.post("/accounts/<int:pk>/active")
@requires("accounts.manage")
def set_active(pk):
    account = _get(pk)
    active = request.form.get("active") == "1"
    if not active and account.id == current_account().id:
        raise MotcuaError("Không thể tự khoá tài khoản đang dùng.", status=409)
    with audited("account.enable" if active else "account.disable", account.name):
        accounts.set_active(account, active)
    flash(f"Tài khoản {account.name} " + ("đã mở khoá." if active else "đã bị khoá và đăng xuất."))
    return redirect(url_for(".index"), 303)


@bp.post("/accounts/<int:pk>/reset")
@requires("accounts.manage")
def reset(pk):
    account = _get(pk)
    with audited("account.reset", account.name):
        password = accounts.reset_password(account)
    return _page("accounts.html", accounts=_all(), values={"role": Account.LEADER},
                 created={"name": account.name, "password": password, "reset": True})


@bp.post("/accounts/<int:pk>/tokens/<int:token_id>/revoke")
@requires("accounts.manage")
def revoke(pk, token_id):
    account = _get(pk)
    with audited("token.revoke", account.name, f"mã #{token_id}"):
        revoke_token(account, token_id)
    flash(f"Đã thu hồi mã truy cập của {account.name}.")
    return redirect(url_for(".edit", pk=pk), 303)


@bp.get("/api/v1/accounts")
@requires("accounts.manage")
def api():
    return jsonify([{"id": a.id, "name": a.name, "full_name": a.full_name, "role": a.role, "communes": a.commune_list,
                     "agency": a.agency, "active": a.active, "must_change": a.must_change} for a in _all()])
