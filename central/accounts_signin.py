"""Sign in, sign out, change one's password, and one's own API tokens."""
import time

from flask import Blueprint, flash, get_flashed_messages, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user

from office.errors import MotcuaError

from . import accounts, audit
from .accounts_models import Account
from .accounts_roles import ROLES, requires
from .accounts_tokens import issue_token, revoke_token, tokens_of
from .auth import User, audited, current_account, home_url

bp = Blueprint("auth", __name__)


def _page(template, status=200, **context):
    return render_template(template, messages=get_flashed_messages(with_categories=True), ROLES=ROLES,
                           **context), status


def _safe_next(target):
    return target if target and target.startswith("/") and not target.startswith("//") else None


@bp.route("/signin", methods=("GET", "POST"))
def sign_in():
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        notice = "Phiên làm việc đã hết hạn vì lâu không thao tác. Vui lòng đăng nhập lại." \
            if request.args.get("expired") else None
        return _page("signin.html", next=next_url or "", notice=notice, name="")
    name = request.form.get("name", "").strip()
    try:
        account = accounts.authenticate(name, request.form.get("password", ""), request.remote_addr)
    except MotcuaError as exc:
        known = Account.select().where(Account.name == name).exists()  # a mistyped password is never written
        audit.record(name if known else "", request.remote_addr, "signin.failed", name if known else "",
                     exc.message if known else f"{exc.message} (tên đăng nhập không có)")
        return _page("signin.html", exc.status, next=next_url or "", error=exc.message, name=name)
    session.clear()
    login_user(User(account))
    session["seen"] = time.time()
    audit.record(account.name, request.remote_addr, "signin", account.name)
    if account.must_change:
        return redirect(url_for(".password_form"), 303)
    return redirect(next_url or home_url(), 303)


@bp.post("/signout")
@requires("self")
def sign_out():
    account = current_account()
    audit.record(account.name, request.remote_addr, "signout", account.name)
    logout_user()
    session.clear()
    return redirect(url_for(".sign_in"), 303)


@bp.get("/account/password")
@requires("self")
def password_form():
    return _page("account_password.html", forced=current_account().must_change)


@bp.post("/account/password")
@requires("self")
def password():
    form = request.form
    account = current_account()
    try:
        with audited("account.password", account.name):
            account = accounts.change_password(account, form.get("current", ""), form.get("new", ""),
                                               form.get("confirm", ""))
    except MotcuaError as exc:
        return _page("account_password.html", exc.status, forced=account.must_change, error=exc.message)
    login_user(User(account))  # the session carries the account's new version; other sessions end
    session["seen"] = time.time()
    flash("Đã đổi mật khẩu. Các phiên đăng nhập khác của tài khoản đã bị đăng xuất.")
    return redirect(home_url(), 303)


@bp.get("/account")
@requires("self")
def account():
    return _page("account.html", tokens=tokens_of(current_account()), new_token=None)


@bp.post("/account/tokens")
@requires("self")
def add_token():
    me = current_account()
    with audited("token.add", me.name) as entry:
        row, token = issue_token(me, request.form.get("label", ""))
        entry["detail"] = f"mã #{row.id} {row.label}".strip()
    return _page("account.html", 201, tokens=tokens_of(me), new_token=token)


@bp.post("/account/tokens/<int:token_id>/revoke")
@requires("self")
def revoke_own_token(token_id):
    me = current_account()
    with audited("token.revoke", me.name, f"mã #{token_id}"):
        revoke_token(me, token_id)
    flash("Đã thu hồi mã truy cập.")
    return redirect(url_for(".account"), 303)
