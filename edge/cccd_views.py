"""The dossier desk reads a chip ID card's QR code into the applicant's fields.

A USB scanner in keyboard mode types the code into the form (edge/static/cccd.js sends it here); the
counter's webcam sends a still image. Either way only the parsed fields go back to the page: the raw
text is neither stored nor logged, and nothing is written to the database.
"""
from flask import Blueprint, jsonify, request

from office import cccd
from office.errors import MotcuaError

from .dossier_views import desk

bp = Blueprint("cccd", __name__, url_prefix="/dossiers/cccd")

@bp.errorhandler(MotcuaError)
def _as_json(error):
    """Both routes are called by the desk's script: errors answer JSON, also for an image body."""
    return jsonify(error.to_dict()), error.status


def _fields(raw):
    try:
        card = cccd.parse(raw)
    except cccd.CardError as exc:
        raise MotcuaError(str(exc), status=422) from None
    return jsonify(fields=card.form_fields(), card=card.as_json())


@bp.post("")
@desk
def from_text():
    """``{"text": "<what the scanner typed>"}`` → the form's fields."""
    body = request.get_json(silent=True) or {}
    return _fields(body.get("text") if isinstance(body.get("text"), str) else "")


@bp.post("/image")
@desk
def from_image():
    """A webcam still (PNG or JPEG body) → the form's fields."""
    data = request.get_data(cache=False)
    if not data:  # the app's request size limit refuses what is too big for a webcam still
        raise MotcuaError("Ảnh từ camera trống: hãy chụp lại.", status=400)
    try:
        text = cccd.decode_image(data)
    except cccd.CardError as exc:
        raise MotcuaError(str(exc), status=422) from None
    if text is None:
        raise MotcuaError("Không thấy mã QR trong ảnh: đưa mặt sau thẻ căn cước lại gần camera hơn.",
                          status=422)
    return _fields(text)
