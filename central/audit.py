"""The audit log: every change a person makes at the hub (who, when, from where, what), append-only."""
import contextlib

from office.clock import utcnow
from office.db import database

from .accounts_models import AuditEntry

ACTIONS = {
    "account.add": "Tạo tài khoản", "account.change": "Sửa tài khoản", "account.disable": "Khoá tài khoản",
    "account.enable": "Mở khoá tài khoản", "account.reset": "Cấp lại mật khẩu", "account.password": "Đổi mật khẩu",
    "token.add": "Tạo mã truy cập", "token.revoke": "Thu hồi mã truy cập",
    "signin": "Đăng nhập", "signin.failed": "Đăng nhập sai", "signout": "Đăng xuất",
    "catalog.import": "Nhập danh mục", "catalog.add": "Thêm thủ tục", "catalog.change": "Sửa thủ tục",
    "catalog.active": "Bật/tắt thủ tục", "agency.add": "Thêm cơ quan", "agency.change": "Sửa cơ quan",
    "holiday.add": "Thêm ngày nghỉ", "place.add": "Thêm địa điểm", "place.change": "Sửa địa điểm",
    "box.register": "Đăng ký hộp", "box.revoke": "Thu hồi hộp", "box.release": "Đưa hộp trở lại",
    "bundle.issue": "Tạo gói cài đặt", "reminder.rule": "Quy tắc nhắc việc", "reminder.contact": "Người nhận nhắc việc",
    "message.resend": "Gửi lại tin nhắn", "dossier.transfer": "Chuyển bước hồ sơ", "dossier.finish": "Hoàn thành hồ sơ",
    "dossier.return": "Trả hồ sơ về xã",
    "release.publish": "Phát hành bản cập nhật", "release.target": "Mở rộng đợt cập nhật", "release.wave": "Xếp đợt cập nhật",
}


APPEND_ONLY_SQLITE = (
    "CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
)
APPEND_ONLY_POSTGRES = (
    "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
    "CREATE OR REPLACE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
)


def make_append_only(db):
    """The database itself refuses to change or delete an audit entry (one worker at a time sets it up)."""
    from peewee import PostgresqlDatabase

    with db.atomic():
        if isinstance(db, PostgresqlDatabase):
            db.execute_sql("SELECT pg_advisory_xact_lock(7313)")
            statements = APPEND_ONLY_POSTGRES
        else:
            statements = APPEND_ONLY_SQLITE
        for sql in statements:
            db.execute_sql(sql)


def record(account, address, action, target="", detail="", now=None):
    return AuditEntry.create(at=now or utcnow(), account=account or "", address=address or "", action=action,
                             target=str(target)[:255], detail=str(detail)[:2000])


@contextlib.contextmanager
def change(account, address, action, target="", detail=""):
    """Run a change and its audit entry in one transaction: ``with change(...) as entry: ...``;
    the block may set ``entry["target"]``/``entry["detail"]`` once it knows them."""
    entry = {"target": target, "detail": detail}
    with database.atomic():
        yield entry
        record(account, address, action, entry["target"], entry["detail"])


def entries(account="", action="", since=None, until=None, limit=500):
    query = AuditEntry.select()
    if account:
        query = query.where(AuditEntry.account == account)
    if action:
        query = query.where((AuditEntry.action == action) | AuditEntry.action.startswith(action + "."))
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    return list(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit))
