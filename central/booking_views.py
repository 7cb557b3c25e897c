"""The citizen books a time at the office (``/cong-dan/dat-lich``): pick a service of a commune, a
day and a slot with places left; the booking's page shows its code and QR code and can cancel it.
Routes of the ``citizen`` blueprint (public to the operators' gate; forms carry the CSRF token)."""
from datetime import date

import segno
from flask import current_app, redirect, render_template, request, url_for
from markupsafe import Markup

from office.bookings import Booking
from office.clock import utcnow
from office.communes import commune_label
from office.errors import MotcuaError, NotFound

from . import bookings
from .citizen_views import bp, consent_required
from .tasks import trigger_notify

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


def _hub():
    return current_app.extensions["hub"]


def _now_local():
    return current_app.extensions["to_local"](utcnow())


def day_label(day):
    return f"{WEEKDAYS[day.weekday()]}, {day:%d/%m/%Y}"


@bp.get("/dat-lich")
@consent_required
def book_start(citizen):
    """Communes and their services that take bookings."""
    groups = {}
    for commune, code, name, _plan in bookings.bookable_services():
        groups.setdefault(commune, []).append((code, name))
    communes = sorted(groups, key=commune_label)
    return render_template("citizen_book.html", groups=groups, communes=communes, commune_label=commune_label)


@bp.route("/dat-lich/chon-gio", methods=["GET", "POST"])
@consent_required
def book_slot(citizen):
    commune, _, service = request.values.get("pick", "").partition(":")  # from the list of services
    commune, service = request.values.get("commune", commune), request.values.get("service", service)
    plan = bookings.find_plan(commune, service)
    settings, now_local = _hub().settings, _now_local()
    error, status = None, 200
    chosen_day, chosen_slot = request.values.get("day", ""), request.form.get("slot", "")
    if request.method == "POST":
        try:
            booking = bookings.book(citizen.phone, commune, service, chosen_day, chosen_slot, settings, now_local)
        except MotcuaError as exc:
            error, status = exc.message, exc.status
        else:
            trigger_notify(_hub().tasks)
            return redirect(url_for("citizen.booking", code=booking.code, made=1), code=303)
    days = bookings.bookable_days(commune, now_local.date(), settings["booking_days_ahead"])
    day = next((d for d in days if d.isoformat() == chosen_day), None)
    offered = [(d, sum(left for _, left in bookings.day_slots(plan, d, now_local))) for d in days]
    if day is None:
        day = next((d for d, left in offered if left), days[0] if days else None)
    slots = bookings.day_slots(plan, day, now_local) if day else []
    return render_template("citizen_slots.html", commune=commune, commune_name=commune_label(commune),
                           service=service, service_name=bookings.service_names(commune)[service], plan=plan,
                           offered=offered, day=day, slots=slots, chosen_slot=chosen_slot, error=error,
                           day_label=day_label), status


@bp.get("/dat-lich/<code>")
@consent_required
def booking(citizen, code):
    row = Booking.get_or_none(Booking.code == code, Booking.phone == citizen.phone)
    if row is None:
        raise NotFound("Không tìm thấy lịch hẹn này.")
    qr = Markup(segno.make(row.qr_text, error="m").svg_inline(scale=8, border=2, dark="#0b2545",
                                                               title=f"Mã QR lịch hẹn {row.code}"))
    return render_template("citizen_booking.html", booking=row, qr=qr, commune_name=commune_label(row.commune),
                           day_label=day_label(date.fromisoformat(row.day)), made=request.args.get("made"))


@bp.post("/dat-lich/<code>/huy")
@consent_required
def cancel_booking(citizen, code):
    bookings.cancel(citizen.phone, code)
    trigger_notify(_hub().tasks)
    return redirect(url_for("citizen.booking", code=code), code=303)
