"""What ``motcua edge migrate`` and ``motcua hub migrate`` do and say (no terminal code here)."""
from .runner import LATEST, pending, upgrade


def migrate_command(db, models, check=False):
    """Apply the pending migrations (or with ``check`` only tell them); return (ok, message).

    ``ok`` is False when ``check`` finds migrations still to apply, so a script can stop there."""
    db.connect(reuse_if_open=True)
    new, done, todo = pending(db, models)
    if check:
        if new:
            return True, f"Chưa có dữ liệu: cơ sở dữ liệu sẽ được tạo ở lược đồ số {LATEST}."
        if todo:
            return False, (f"Cơ sở dữ liệu ở lược đồ số {max(done, default=0)}; cần áp dụng các bước số "
                           f"{_numbers(todo)}: chạy lệnh migrate (không có --check).")
        return True, f"Cơ sở dữ liệu đã ở lược đồ mới nhất (số {LATEST})."
    applied = upgrade(db, models)
    if new:
        return True, f"Đã tạo cơ sở dữ liệu mới ở lược đồ số {LATEST}."
    if applied:
        return True, f"Đã nâng cơ sở dữ liệu lên lược đồ số {LATEST} (các bước số {_numbers(applied)})."
    return True, f"Cơ sở dữ liệu đã ở lược đồ mới nhất (số {LATEST}); không có gì phải làm."


def _numbers(numbers):
    return ", ".join(str(n) for n in numbers)
