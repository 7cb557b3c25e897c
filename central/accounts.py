"""Named accounts at the hub: create, sign in (argon2, lockout), change and reset passwords, disable."""
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from peewee import IntegrityError

from office.clock import utcnow
from office.communes import find_commune
from office.db import database
from office.errors import Conflict, MotcuaError, NotFound

from . import accounts_throttle as throttle
from .accounts_contacts import refresh_contacts
from .accounts_models import Account
from .accounts_roles import ROLES

HASHER = PasswordHasher()
MIN_PASSWORD = 10
_DUMMY_HASH = HASHER.hash("not-a-password-of-anyone")


def hash_password(password):
    return HASHER.hash(password)


def temporary_password():
    return secrets.token_urlsafe(9)


def check_password(name, password):
    if len(password or "") < MIN_PASSWORD:
        raise MotcuaError(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.")
    if password.strip().lower() == (name or "").strip().lower():
        raise MotcuaError("Mật khẩu không được trùng tên đăng nhập.")


def clean_scope(role, communes="", agency=""):
    """The role, communes and agency of an account, checked (a clear message for each mistake)."""
    if role not in ROLES:
        raise MotcuaError("Vai trò không hợp lệ (operator, leader, agency, viewer).")
    codes = list(dict.fromkeys(c.strip() for c in (communes or "").replace(";", ",").split(",") if c.strip()))
    agency = (agency or "").strip()
    unknown = [c for c in codes if find_commune(c) is None]
    if unknown:
        raise MotcuaError(f"Không có xã/phường mã {', '.join(unknown)}.")
    if role in (Account.LEADER, Account.VIEWER) and not codes:
        raise MotcuaError("Lãnh đạo và người xem thống kê cần ít nhất một mã xã/phường.")
    if role == Account.AGENCY and not agency:
        raise MotcuaError("Cán bộ cơ quan liên thông cần mã cơ quan.")
    if role == Account.OPERATOR:
        codes, agency = [], ""
    if role != Account.AGENCY:
        agency = ""
    return role, ",".join(codes), agency


def create_account(name, role, communes="", agency="", full_name="", phone="", email="", password=None,
                   must_change=True, now=None):
    """A new account; returns it and its password (a temporary one when none is given)."""
    name = (name or "").strip()
    if not name or len(name) > 60 or any(ch.isspace() for ch in name):
        raise MotcuaError("Tên đăng nhập không được trống và không có khoảng trắng.")
    role, communes, agency = clean_scope(role, communes, agency)
    password = password or temporary_password()
    if must_change is False:
        check_password(name, password)
    try:
        with database.atomic():
            if Account.select().where(Account.name == name).exists():
                raise Conflict(f"Tên đăng nhập “{name}” đã có.")
            account = Account.create(name=name, role=role, communes=communes, agency=agency,
                                     full_name=(full_name or "").strip(), phone=(phone or "").strip(),
                                     email=(email or "").strip(), password_hash=hash_password(password),
                                     must_change=must_change, created_at=now or utcnow())
    except IntegrityError:  # the same name made a moment ago by another request
        raise Conflict(f"Tên đăng nhập “{name}” đã có.") from None
    return account, password


def find(name):
    account = Account.get_or_none(Account.name == (name or "").strip())
    if account is None:
        raise NotFound(f"Không có tài khoản “{name}”.")
    return account


def authenticate(name, password, address, now=None):
    """The account for these credentials, or a clear refusal; failures count towards a lockout."""
    now = now or utcnow()
    name = (name or "").strip()
    until = throttle.locked_until(name, address, now)
    if until is not None:
        minutes = max(1, int((until - now).total_seconds() // 60) + 1)
        raise MotcuaError(f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.", status=429)
    account = Account.get_or_none(Account.name == name) if name else None
    try:
        HASHER.verify(account.password_hash if account else _DUMMY_HASH, password or "")
        ok = account is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        throttle.record_failure(name, address, now)
        raise MotcuaError("Tên đăng nhập hoặc mật khẩu không đúng.", status=401)
    if not account.active:
        raise MotcuaError("Tài khoản này đã bị khoá. Vui lòng liên hệ quản trị trung tâm.", status=403)
    throttle.clear(name)
    changes = {"last_signin_at": now}
    if HASHER.check_needs_rehash(account.password_hash):
        changes["password_hash"] = hash_password(password)
    Account.update(**changes).where(Account.id == account.id).execute()
    return Account.get_by_id(account.id)


def change_password(account, current, new, confirm=None):
    try:
        HASHER.verify(account.password_hash, current or "")
    except (VerificationError, InvalidHashError):
        raise MotcuaError("Mật khẩu hiện tại không đúng.", status=400) from None
    if confirm is not None and new != confirm:
        raise MotcuaError("Hai lần nhập mật khẩu mới không khớp.")
    if new == current:
        raise MotcuaError("Mật khẩu mới phải khác mật khẩu hiện tại.")
    check_password(account.name, new)
    Account.update(password_hash=hash_password(new), must_change=False, password_changed_at=utcnow(),
                   session_version=Account.session_version + 1).where(Account.id == account.id).execute()
    return Account.get_by_id(account.id)


def reset_password(account):
    """A new temporary password (shown once); every session of the account ends."""
    password = temporary_password()
    Account.update(password_hash=hash_password(password), must_change=True,
                   session_version=Account.session_version + 1).where(Account.id == account.id).execute()
    return password


def set_active(account, active):
    Account.update(active=bool(active), session_version=Account.session_version + 1).where(
        Account.id == account.id).execute()
    return Account.get_by_id(account.id)


def update_account(account, role, communes="", agency="", full_name="", phone="", email=""):
    role, communes, agency = clean_scope(role, communes, agency)
    Account.update(role=role, communes=communes, agency=agency, full_name=(full_name or "").strip(),
                   phone=(phone or "").strip(), email=(email or "").strip(),
                   session_version=Account.session_version + 1).where(Account.id == account.id).execute()
    account = Account.get_by_id(account.id)
    refresh_contacts(account)
    return account


def ensure_first_operator(password, now=None):
    """On a hub with no account yet: an operator ``admin`` whose password is ``password()`` (the
    ``operator_password`` setting or secret file), to be changed at first sign-in."""
    if Account.select().exists():
        return None
    try:
        return create_account("admin", Account.OPERATOR, full_name="Quản trị", password=password(),
                              must_change=True, now=now)[0]
    except (Conflict, IntegrityError):  # another worker made it a moment ago
        return None
