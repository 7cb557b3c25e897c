"""Field reports on the box (phản ánh, kiến nghị), for officers signed in at a counter: the commune's
reports as they came down from the hub, their photos ("đang tải tệp" while the bytes are not here
yet), and the commune's acts: acknowledge, assign to an officer, answer (text and photos, which go
up by push with the row), close. Every act is one call of ``office.reports``."""
from flask import Blueprint, abort, flash, g, redirect, request, send_file, url_for

from blobs.photos import store_photos
from blobs.store import is_sha256, open_store
from motcua.web import local_now
from office import reports
from office.attachments import Attachment
from office.errors import MotcuaError
from office.models import Officer

from .box import current_box
from .dossier_views import _page, desk, fmt

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _store():
    return open_store(current_box().settings)


def _here():
    office = current_box().office
    if office is None:
        raise MotcuaError("Hộp chưa được khởi tạo cho xã/phường nào.", status=409)
    return office.commune


def _officers():
    return list(Officer.select().where(Officer.active == True).order_by(Officer.full_name))  # noqa: E712


@bp.get("")
@desk
def index():
    status = request.args.get("status", "open")
    rows = reports.commune_reports(_here(), status if status in (*reports.STATUS, "open") else "")
    now = local_now()
    return _page("reports.html", rows=rows, status=status, now=now, names=reports.category_names(),
                 STATUS=reports.STATUS, fmt=fmt, officer_names={o.username: o.full_name for o in _officers()})[0]


def _detail(report, error=None, values=None, status=200):
    store = _store()
    photos = [(a, store.has(a.sha256)) for a in reports.photos_of(report)]
    late = report.overdue(local_now())
    return _page("report.html", status, r=report, photos=photos, error=error, values=values or {},
                 names=reports.category_names(), officers=_officers(), fmt=fmt, late=late,
                 officer_names={o.username: o.full_name for o in _officers()})


def _report(code):
    report = reports.get(code)
    if report.commune != _here():
        abort(404)
    return report


@bp.get("/<code>")
@desk
def detail(code):
    return _detail(_report(code))


@bp.post("/<code>/<any(acknowledge, assign, answer, close):action>")
@desk
def act(code, action):
    report = _report(code)
    form = {k: v.strip() for k, v in request.form.items()}
    now = local_now()
    try:
        if action == "acknowledge":
            reports.acknowledge(report, now)
            message = "Đã tiếp nhận phản ánh."
        elif action == "assign":
            officer = Officer.get_or_none(Officer.username == form.get("officer", ""), Officer.active == True)  # noqa: E712
            if officer is None:
                raise MotcuaError("Hãy chọn cán bộ xử lý.")
            reports.assign(report, officer.username, now)
            message = f"Đã giao cho {officer.full_name}."
        elif action == "answer":
            if form.get("confirm") != "1":
                raise MotcuaError("Chưa gửi trả lời: trả lời sẽ được công bố và báo cho người phản ánh, "
                                  "hãy đánh dấu ô xác nhận rồi bấm lại.")
            reports.clean_answer(form.get("answer", ""))
            files = [(f.filename, f.stream) for f in request.files.getlist("photos") if f and f.filename]
            photos = store_photos(_store(), files)
            reports.answer(report, form.get("answer", ""), g.officer.username, now, photos=photos)
            message = "Đã gửi trả lời; trả lời sẽ lên trung tâm ở lần đồng bộ tới."
        else:
            reports.close(report, now)
            message = "Đã đóng phản ánh."
    except MotcuaError as exc:
        return _detail(reports.get(code), error=exc.message, values=dict(form, action=action),
                       status=exc.status if exc.status < 500 else 400)
    flash(message)
    return redirect(url_for(".detail", code=report.code), 303)


@bp.get("/photo/<sha>")
@desk
def photo(sha):
    if not is_sha256(sha):
        abort(404)
    row = Attachment.select().where(Attachment.sha256 == sha, Attachment.commune == _here()).first()
    store = _store()
    if row is None or not store.has(sha):
        abort(404)
    return send_file(store.open(sha), mimetype=row.mime)
