"""Who is acting at the hub: sessions (Flask-Login), API tokens, CSRF (Flask-WTF) and the one gate
that enforces ``central.accounts_roles`` on every request."""
import time

from flask import current_app, g, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, logout_user

from motcua.csrf import CSRFProtect
from motcua.web import setting_or_secret_file, wants_json
from office.errors import MotcuaError, NotFound

from . import audit
from .accounts_models import Account
from .accounts_roles import MACHINE_ENDPOINTS, allowed, is_public, permission_of, requires, scope_of
from .accounts_tokens import account_for_token

__all__ = ["requires", "install_auth", "current_account", "current_scope", "audited", "operator_password"]

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SIGNED_IN_ONLY = {"auth.sign_out", "auth.password", "auth.password_form"}  # reachable while a password must change


def operator_password(settings):
    """The first operator's password (``admin``), used only while the hub has no account."""
    import secrets

    return setting_or_secret_file(settings, "operator_password", lambda: secrets.token_urlsafe(12))


class User(UserMixin):
    """The signed-in account of this request (reloaded on every request)."""

    def __init__(self, account, via_token=False):
        self.account = account
        self.via_token = via_token

    def get_id(self):
        return f"{self.account.id}:{self.account.session_version}"


class HubLoginManager(LoginManager):
    """A request carrying ``Authorization: Bearer`` is its token's account alone, whatever cookie
    a script's HTTP client kept (Flask-Login would otherwise try the cookie session first)."""

    def _load_user(self):
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return self._update_request_context_with_user(_load_token_user(request))
        return super()._load_user()


def _load_session_user(user_id):
    pk, _, version = str(user_id).partition(":")
    account = Account.get_or_none(Account.id == pk) if pk.isdigit() else None
    if account is None or not account.active or str(account.session_version) != version:
        return None
    return User(account)


def _load_token_user(req):
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    account = account_for_token(header[len("Bearer "):].strip())
    return User(account, via_token=True) if account else None


def install_auth(app, idle_minutes):
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", WTF_CSRF_CHECK_DEFAULT=False,
                      WTF_CSRF_TIME_LIMIT=None, HUB_IDLE_SECONDS=int(idle_minutes) * 60)
    manager = HubLoginManager(app)
    manager.session_protection = "strong"
    manager.user_loader(_load_session_user)
    app.extensions["csrf_protect"] = CSRFProtect(app)
    app.before_request(gate)

    @app.context_processor
    def who():
        return {"me": current_account(), "can": can, "hub_nav": hub_nav, "local": current_app.extensions["to_local"],
                "commune_names": commune_names, "commune_label": commune_label}


def gate():
    """Every request: machine routes pass; otherwise idle timeout, CSRF, sign-in, permission."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in MACHINE_ENDPOINTS:
        return None
    user = current_user
    if user.is_authenticated and not user.via_token:
        now, seen = time.time(), session.get("seen", 0)
        if now - seen > current_app.config["HUB_IDLE_SECONDS"]:
            logout_user()
            session.clear()
            g.expired = True
        else:
            session["seen"] = now
    signed_in = current_user.is_authenticated
    if not signed_in and not is_public(endpoint):
        if wants_json():
            raise MotcuaError("Cần đăng nhập (mã truy cập: Authorization: Bearer ...).", status=401)
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?") if request.method == "GET" else None,
                                expired="1" if g.get("expired") else None))
    if request.method not in SAFE_METHODS and not (signed_in and current_user.via_token):
        current_app.extensions["csrf_protect"].protect()  # a browser's session: the form must carry its token
    if is_public(endpoint):
        return None
    account = current_user.account
    if account.must_change and not current_user.via_token and endpoint not in SIGNED_IN_ONLY:
        if wants_json():
            raise MotcuaError("Cần đổi mật khẩu trước khi dùng trung tâm.", status=403)
        return redirect(url_for("auth.password_form"))
    permission = permission_of(current_app.view_functions.get(endpoint))
    if permission is None or not allowed(account.role, permission):
        raise MotcuaError("Tài khoản của bạn không có quyền làm việc này.", status=403)
    return None


def commune_label(code):
    """A commune as people name it (“Phường Sông Công”), never its bare code."""
    from office.communes import commune_label as label

    return label(code)


def commune_names(codes):
    """ "05518,00454" as the communes' names, for people."""
    return ", ".join(commune_label(code.strip()) for code in (codes or "").split(",") if code.strip())


def current_account():
    return current_user.account if current_user and current_user.is_authenticated else None


def current_scope():
    return scope_of(current_user.account)


def can(permission):
    account = current_account()
    return account is not None and allowed(account.role, permission)


def require_commune(code):
    """Refuse (404, like a missing page) data of a commune outside the account's scope."""
    if not current_scope().has_commune(code):
        raise NotFound("Không tìm thấy dữ liệu này trong phạm vi tài khoản của bạn.")


def actor_name():
    account = current_account()
    return account.name if account else ""


def audited(action, target="", detail=""):
    """``with audited("catalog.import", name) as entry:`` the change and its audit entry, one transaction."""
    return audit.change(actor_name(), request.remote_addr, action, target, detail)


NAV = (("operator.index", "Trung tâm", "fleet.view"),
       ("stats.index", "Thống kê", "stats.view"),
       ("agency.index", "Hồ sơ liên thông", "dossiers.read"),
       ("catalog_admin.catalog", "Danh mục thủ tục", "catalog.manage"),
       ("catalog_admin.agencies", "Cơ quan", "agencies.manage"),
       ("reminders.index", "Nhắc việc", "reminders.manage"),
       ("booking_admin.index", "Đặt lịch hẹn", "bookings.manage"),
       ("notifications.page", "Tin nhắn gửi đi", "messages.manage"),
       ("open311_clients.index", "Ứng dụng Open311", "hub_data.manage"),
       ("accounts.index", "Tài khoản", "accounts.manage"),
       ("audit.index", "Nhật ký thao tác", "audit.view"))


def hub_nav():
    """(url, label) of the pages the signed-in account may use, in menu order."""
    return [(url_for(endpoint), label) for endpoint, label, permission in NAV if can(permission)]


def home_url():
    items = hub_nav()
    return items[0][0] if items else url_for("auth.account")
