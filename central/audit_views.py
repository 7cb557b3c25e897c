"""The audit log page: filter by account, action and dates; download as Excel."""
from datetime import datetime, timedelta

from flask import Blueprint, current_app, render_template, request, send_file

from office import export
from office.errors import MotcuaError

from . import audit
from .accounts_models import Account
from .accounts_roles import requires

bp = Blueprint("audit", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _day(name):
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise MotcuaError("Ngày phải có dạng YYYY-MM-DD.") from None


def _rows():
    to_local = current_app.extensions["to_local"]
    since, until = _day("from"), _day("to")
    offset = to_local(datetime(2000, 1, 1)) - datetime(2000, 1, 1)  # local day bounds to stored UTC
    rows = audit.entries(account=request.args.get("account", "").strip(), action=request.args.get("action", "").strip(),
                         since=since - offset if since else None,
                         until=until + timedelta(days=1) - offset if until else None)
    return [(to_local(e.at), e) for e in rows]


@bp.get("/audit")
@requires("audit.view")
def index():
    names = [a.name for a in Account.select(Account.name).order_by(Account.name)]
    return render_template("audit.html", rows=_rows(), ACTIONS=audit.ACTIONS, names=names, args=request.args)


@bp.get("/audit.xlsx")
@requires("audit.view")
def excel():
    rows = _rows()

    def write(workbook, progress):
        sheet = workbook.add_sheet("Nhật ký thao tác", widths=(20, 18, 16, 26, 30, 60), freeze_rows=1)
        sheet.append([export.Cell(label, bold=True) for label in
                      ("Thời gian", "Tài khoản", "Địa chỉ", "Thao tác", "Đối tượng", "Chi tiết")])
        for local, e in rows:
            sheet.append([local.strftime("%Y-%m-%d %H:%M:%S"), e.account, e.address,
                          audit.ACTIONS.get(e.action, e.action), e.target, e.detail])

    return send_file(export.save(export.Book(write)), mimetype=XLSX, as_attachment=True,
                     download_name="nhat-ky-thao-tac.xlsx")
