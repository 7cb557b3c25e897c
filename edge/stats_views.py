"""Statistics and reports of the box's own commune, for officers signed in at a counter: the
hub's pages, JSON and Excel downloads limited to this commune (``motcua.stats_web``)."""
import functools

from flask import Blueprint, flash, redirect, session, url_for

from motcua import stats_web
from motcua.web import wants_json
from office.errors import MotcuaError
from office.models import Officer

from .box import current_box

bp = Blueprint("stats", __name__)
NAV = (("/dossiers", "Hồ sơ"), ("/counter", "Quầy"))


def officer_signed_in(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        officer_id = session.get("officer_id")
        if officer_id is None or Officer.get_or_none(Officer.id == officer_id, Officer.active == True) is None:  # noqa: E712
            if wants_json():
                raise MotcuaError("Bạn cần đăng nhập tại quầy.", status=401)
            flash("Hãy đăng nhập tại quầy để xem thống kê.")
            return redirect(url_for("screens.counter"))
        return view(*args, **kwargs)

    return wrapped


def _scope():
    box = current_box()
    office = box.office
    commune = box.settings.get("commune_code") or (office.commune if office else "")
    if not commune:
        raise MotcuaError("Hộp chưa được khởi tạo cho xã/phường nào.", status=409)
    return commune, (office.name if office else f"Xã/phường mã {commune}")


@bp.get("/stats")
@officer_signed_in
def index():
    commune, name = _scope()
    return stats_web.page(commune, name, {"nav": NAV, "communes": ()})


@bp.get("/stats/report.xlsx")
@officer_signed_in
def report():
    return stats_web.report(*_scope())


@bp.get("/stats/<table>.xlsx")
@officer_signed_in
def excel(table):
    commune, name = _scope()
    return stats_web.excel(commune, name, table)


@bp.get("/api/v1/stats/<table>")
@officer_signed_in
def api(table):
    return stats_web.api(_scope()[0], table)
