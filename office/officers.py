"""Officer accounts of the office: who may sign in at a counter, and how often one may try."""
import functools
import time

from werkzeug.security import check_password_hash, generate_password_hash

from . import sessions
from .db import database
from .errors import Conflict, MotcuaError
from .limits import Window
from .models import Counter, Officer

MIN_PASSWORD = 8
MAX_FAILURES = 5  # wrong passwords per client address (as the technician console) ...
FAILURE_WINDOW = 600  # ... within this many seconds; then refused until the oldest expires
MAX_FAILURES_PER_NAME = 20  # per username from any address: guessing from many addresses stops too,
# and one person at the lobby cannot lock an officer out with five tries
SIGN_IN_FAILURES = {"addr": Window("officer-signin", MAX_FAILURES, FAILURE_WINDOW),
                    "user": Window("officer-signin-name", MAX_FAILURES_PER_NAME, FAILURE_WINDOW)}
WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."


@functools.lru_cache(maxsize=1)
def _dummy_hash():
    """Checked for unknown usernames, so they cost as much time as a wrong password does."""
    return generate_password_hash("motcua-no-such-officer")


def too_many_failures(seconds):
    minutes = max(1, -(-int(seconds) // 60))
    return MotcuaError(f"Nhập sai mật khẩu quá {MAX_FAILURES} lần. Vì an toàn, vui lòng thử lại sau khoảng "
                       f"{minutes} phút.", status=429, detail={"retry_after": int(seconds)})


def authenticate(username, password, address, now=None):
    """The active officer with this username and password. Wrong passwords are counted per client
    address (``MAX_FAILURES``) and per username (``MAX_FAILURES_PER_NAME``) within
    ``FAILURE_WINDOW``; past either, sign-in is refused for a while, even with the right
    password. An unknown username takes the same work as a known one."""
    now = time.time() if now is None else now
    username, password = (v if isinstance(v, str) else "" for v in (username, password))  # JSON may send anything
    username = username.strip()
    keys = {"addr": address or "?", "user": username.lower()}

    def wait():
        return max(SIGN_IN_FAILURES[kind].retry_after(key, now) for kind, key in keys.items())

    if wait():
        raise too_many_failures(wait())
    officer = Officer.get_or_none(Officer.username == username) if username else None
    matches = check_password_hash(officer.password_hash if officer else _dummy_hash(), password or "")
    if not matches or officer is None or not officer.active:
        for kind, key in keys.items():
            SIGN_IN_FAILURES[kind].record(key, now)
        seconds = wait()
        raise too_many_failures(seconds) if seconds else MotcuaError(WRONG, status=401)
    SIGN_IN_FAILURES["user"].clear(keys["user"])
    return officer


def add_officer(username, full_name, password):
    username, full_name = (username or "").strip(), (full_name or "").strip()
    if not username or not username.replace(".", "").replace("_", "").isalnum():
        raise MotcuaError("Tên đăng nhập chỉ gồm chữ, số, dấu chấm hoặc gạch dưới.")
    if not full_name:
        raise MotcuaError("Cần họ tên cán bộ.")
    if len(password or "") < MIN_PASSWORD:
        raise MotcuaError(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.")
    with database.atomic():
        if Officer.get_or_none(Officer.username == username) is not None:
            raise Conflict(f"Đã có cán bộ với tên đăng nhập “{username}”.")
        return Officer.create(username=username, full_name=full_name, password_hash=generate_password_hash(password))


def set_password(username, password):
    if len(password or "") < MIN_PASSWORD:
        raise MotcuaError(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.")
    officer = Officer.get_or_none(Officer.username == (username or "").strip())
    if officer is None:
        raise MotcuaError(f"Không có cán bộ “{username}”.", status=404)
    with database.atomic():
        officer.password_hash = generate_password_hash(password)
        officer.active = True
        officer.save()
        sessions.end_all(sessions.OFFICER, officer.id)  # a new password ends the sessions of the old one
    return officer


def deactivate(username):
    officer = Officer.get_or_none(Officer.username == (username or "").strip())
    if officer is None:
        raise MotcuaError(f"Không có cán bộ “{username}”.", status=404)
    with database.atomic():
        officer.active = False
        officer.save()
        for counter in Counter.select().where(Counter.officer == officer):
            counter.officer, counter.signed_in_at = None, None
            counter.save()
        sessions.end_all(sessions.OFFICER, officer.id)
    return officer
