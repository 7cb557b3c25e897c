"""What boxes ask about software: the signed hello (the version they run, their rollout's state;
the answer names the release meant for them) and the release files (HTTP Range for resuming)."""
import hashlib
import json

from flask import Blueprint, abort, jsonify, request, send_from_directory

from sync.protocol import BatchRejected
from updates.manifest import FILE_RE, VERSION_RE

from .fleet import record_contact
from .releases import offer_for, record_hello, release_store
from .releases_models import Release
from .sync_api import hub, signed_box

bp = Blueprint("releases_api", __name__, url_prefix="/sync/v1")

MAX_HELLO = 16 * 1024


@bp.post("/hello")
def hello():
    body = request.get_data(cache=False)
    if len(body) > MAX_HELLO:
        return jsonify(ok=False, error="Lời chào quá lớn.", status=413), 413
    try:
        box = signed_box("hello")  # signs the query: digest=<sha256 of the body>
    except BatchRejected as exc:
        answer = exc.to_dict()
        answer.update(reason=exc.reason)
        return jsonify(answer), exc.status
    if request.args.get("digest") != hashlib.sha256(body).hexdigest():
        return jsonify(ok=False, error="Nội dung lời chào không khớp chữ ký.", status=401, reason="bad_signature"), 401
    try:
        report = json.loads(body)
        if not isinstance(report, dict):
            raise ValueError("not an object")
    except ValueError:
        return jsonify(ok=False, error="Lời chào không phải JSON hợp lệ.", status=400), 400
    record_hello(box, report)
    record_contact(box.id)  # a software hello is a contact too
    release = offer_for(box)
    offer = None if release is None else {
        "version": release.version, "manifest": release.manifest, "signature": release.signature}
    return jsonify(release=offer)


@bp.get("/releases/<version>/<name>")
def release_file(version, name):
    if not VERSION_RE.match(version) or not FILE_RE.match(name):
        abort(404)
    if Release.get_or_none(Release.version == version) is None:
        abort(404)
    return send_from_directory(release_store(hub().settings["data_dir"], version), name, conditional=True,
                               mimetype="application/octet-stream")
