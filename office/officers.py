"""Officer accounts of the office: who may sign in at a counter."""
from werkzeug.security import generate_password_hash

from .db import database
from .errors import Conflict, MotcuaError
from .models import Officer

MIN_PASSWORD = 8


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
    officer.password_hash = generate_password_hash(password)
    officer.active = True
    officer.save()
    return officer


def deactivate(username):
    officer = Officer.get_or_none(Officer.username == (username or "").strip())
    if officer is None:
        raise MotcuaError(f"Không có cán bộ “{username}”.", status=404)
    officer.active = False
    officer.save()
    return officer
