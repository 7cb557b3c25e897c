"""The commune's booking plan at the hub (``/dat-lich``): places per service and time slot, days the
commune takes no bookings, and how bookings went (used, no-show, cancelled). Operators see every
commune; a commune leader only theirs."""
from flask import Blueprint, flash, get_flashed_messages, redirect, render_template, request, url_for

from motcua.web import refuse_cross_site
from office.bookings import STATE_LABELS, booking_counts
from office.communes import commune_label
from office.errors import MotcuaError

from . import bookings
from .auth import actor_name, audited, current_scope, requires

bp = Blueprint("booking_admin", __name__)
bp.before_request(refuse_cross_site)


def _communes():
    """Communes the account may plan for: those whose box sent services, within the scope."""
    from office.models import Service

    scope = current_scope()
    known = sorted({row.commune for row in Service.select(Service.commune).distinct()}, key=commune_label)
    return [c for c in known if scope.has_commune(c)]


def _check(commune):
    if not current_scope().has_commune(commune):
        raise MotcuaError("Tài khoản của bạn không quản lý xã/phường này.", status=403)


@bp.get("/dat-lich")
@requires("bookings.manage")
def index(status=200, error=None, values=None):
    communes = _communes()
    plans = [p for p in bookings.BookingPlan.select().order_by(bookings.BookingPlan.commune,
                                                                bookings.BookingPlan.service_code)
             if p.commune in communes]
    closed = [d for d in bookings.BookingClosedDay.select().order_by(bookings.BookingClosedDay.day)
              if d.commune in communes]
    services = {c: bookings.service_names(c) for c in communes}
    scope = current_scope()
    counts = booking_counts(None if scope.communes is None else scope.communes)
    return render_template("booking_plans.html", communes=communes, plans=plans, closed=closed, services=services,
                           counts=counts, STATE_LABELS=STATE_LABELS, commune_label=commune_label, error=error,
                           values=values or {"capacity": "2", "slot_minutes": "30"}, SLOT_CHOICES=bookings.SLOT_CHOICES,
                           messages=get_flashed_messages()), status


@bp.post("/dat-lich/ke-hoach")
@requires("bookings.manage")
def save_plan():
    form = request.form
    commune, service = form.get("commune", ""), form.get("service", "")
    _check(commune)
    try:
        with audited("bookings.plan", f"{commune}/{service}") as entry:
            plan = bookings.save_plan(commune, service, form.get("capacity"), form.get("slot_minutes"),
                                      form.get("active", "1") == "1", by=actor_name())
            entry["detail"] = f"{plan.capacity} chỗ / {plan.slot_minutes} phút, {'mở' if plan.active else 'tắt'}"
    except MotcuaError as exc:
        return index(status=exc.status, error=exc.message, values=dict(form.items()))
    flash(f"Đã lưu kế hoạch đặt lịch của {commune_label(commune)}.")
    return redirect(url_for("booking_admin.index"), code=303)


@bp.post("/dat-lich/ngay-nghi")
@requires("bookings.manage")
def closed_day():
    form = request.form
    commune = form.get("commune", "")
    _check(commune)
    closing = form.get("action", "add") == "add"
    try:
        with audited("bookings.closed_day", f"{commune}/{form.get('day', '')}", "thêm" if closing else "bỏ"):
            bookings.set_closed_day(commune, form.get("day", ""), form.get("note", ""), closed=closing)
    except MotcuaError as exc:
        return index(status=exc.status, error=exc.message, values=dict(form.items()))
    flash("Đã cập nhật ngày không nhận đặt lịch.")
    return redirect(url_for("booking_admin.index"), code=303)
