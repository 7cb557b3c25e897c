"""Who may do what at the hub: the one declaration of roles, permissions and public routes.

Each hub view names the permission it needs with ``@requires(...)``; the sign-in gate
(``central.auth``) refuses every other request, including one to a route that declares
nothing and is not listed public below. Scoped permissions are further narrowed by the
account's communes (commune leader, viewer) or agency (agency officer) inside the view.
"""
from dataclasses import dataclass

from .accounts_models import Account

PERMISSIONS = {
    "self": "Đăng nhập, đổi mật khẩu, mã truy cập của mình",
    "fleet.view": "Xem các hộp, cảnh báo, xung đột",
    "fleet.manage": "Đăng ký, thu hồi, đưa hộp trở lại",
    "hub_data.manage": "Ngày nghỉ, địa điểm",
    "catalog.manage": "Danh mục thủ tục",
    "agencies.manage": "Cơ quan liên thông",
    "dossiers.read": "Xem hồ sơ liên thông",
    "dossiers.act": "Xử lý hồ sơ liên thông",
    "reminders.manage": "Nhắc việc",
    "messages.manage": "Tin nhắn gửi đi",
    "stats.view": "Thống kê, báo cáo",
    "accounts.manage": "Tài khoản",
    "audit.view": "Nhật ký thao tác",
    "bookings.manage": "Đặt lịch hẹn: số chỗ, ngày không nhận, kết quả",
}

# Permissions whose data a leader, viewer or agency officer sees only within the account's scope.
SCOPED = {"dossiers.read", "dossiers.act", "reminders.manage", "stats.view", "bookings.manage"}

ROLES = {
    Account.OPERATOR: ("Quản trị trung tâm", {
        "self", "fleet.view", "fleet.manage", "hub_data.manage", "catalog.manage", "agencies.manage",
        "dossiers.read", "reminders.manage", "messages.manage", "stats.view", "accounts.manage", "audit.view",
        "bookings.manage"}),
    Account.LEADER: ("Lãnh đạo xã/phường", {"self", "stats.view", "dossiers.read", "reminders.manage", "bookings.manage"}),
    Account.AGENCY: ("Cán bộ cơ quan liên thông", {"self", "dossiers.read", "dossiers.act"}),
    Account.VIEWER: ("Xem thống kê", {"self", "stats.view"}),
}

# Routes anyone may call: boxes (signed requests), the SMS gateway (its own shared secret),
# citizens' tracking, health, assets, and the sign-in page itself.
MACHINE_ENDPOINTS = {"sync_api.hub_info", "sync_api.push", "sync_api.pull", "sync_api.snapshot", "sync_api.hello",
                     "enrol.enrol_box", "releases_api.hello", "releases_api.release_file", "inbound_sms.inbound",
                     "blob_api.blob",
                     # Open311 GeoReport v2: reads are public, posts carry a client app's api_key
                     "open311.services", "open311.service_definition", "open311.post_request",
                     "open311.get_requests", "open311.get_request"}
PUBLIC_ENDPOINTS = MACHINE_ENDPOINTS | {"tracking.tracking_api", "tracking.tracking_page", "health", "static",
                                        "form_files.download",
                                        "assets.static", "auth.sign_in"}
PUBLIC_ENDPOINTS |= {"ticket_track.track"}  # a ticket's QR code, opened on a citizen's phone
PUBLIC_ENDPOINTS |= {"public_reports.index", "public_reports.show", "public_reports.photo"}  # public field reports
# Blueprints of the citizens' own pages (no operator sign-in; a citizen proves a phone number there):
# each adds its name here. Browser forms still carry the CSRF token.
CITIZEN_BLUEPRINTS = {"citizen", "citizen_online", "citizen_uploads", "citizen_reports"}


def is_public(endpoint):
    return endpoint in PUBLIC_ENDPOINTS or endpoint.split(".", 1)[0] in CITIZEN_BLUEPRINTS


def requires(permission):
    """Declare the permission a view needs (enforced for every request by the sign-in gate)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission}")

    def declare(view):
        view.permission = permission
        return view

    return declare


def permission_of(view):
    return getattr(view, "permission", None)


def allowed(role, permission):
    return permission in ROLES.get(role, ("", set()))[1]


@dataclass(frozen=True)
class Scope:
    """What an account covers: ``communes``/``agency`` of None mean every one."""

    communes: tuple = None
    agency: str = None

    @property
    def everything(self):
        return self.communes is None and self.agency is None

    def has_commune(self, code):
        return self.communes is None or code in self.communes


def scope_of(account):
    if account.role == Account.OPERATOR:
        return Scope()
    if account.role == Account.AGENCY:
        return Scope(communes=None, agency=account.agency or "-")
    return Scope(communes=tuple(account.commune_list))
