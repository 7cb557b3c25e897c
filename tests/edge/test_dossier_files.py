"""Files of a dossier at the desk: what is here opens, what is still on its way says "đang tải tệp"
(and the desk works on), scans made at the desk (số hóa) are checked and kept whole."""
import hashlib
import io
import os
from datetime import datetime

from blobs import open_store
from office.attachments import Attachment, attachments_of
from sync.capture import applying_remote
from sync.models import ChangeEntry
from tests.edge.test_dossier_views import act, desk, clock, received, text  # noqa: F401  (fixtures)

PDF = b"%PDF-1.4\n" + os.urandom(40_000) + b"\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0" + os.urandom(400_000)  # over the box's 256 KB forms; under the test client's spooling


def scan(client, dossier, data, name="giay-chung-sinh.pdf", label="Giấy chứng sinh"):
    return client.post(f"/dossiers/{dossier.code}/so-hoa", data={"label": label, "scan": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_a_scan_at_the_desk_is_kept_whole_named_by_its_hash_and_logged(app, desk):
    dossier = received(desk)
    response = scan(desk, dossier, JPEG, name="anh.jpg")  # larger than the box's 256 KB form limit
    assert response.status_code == 303, text(response)[:500]
    [row] = attachments_of(dossier.id)
    assert (row.kind, row.mime, row.size, row.sha256) == ("scan", "image/jpeg", len(JPEG), hashlib.sha256(JPEG).hexdigest())
    assert open_store(app.extensions["box"].settings).size(row.sha256) == len(JPEG)
    assert ChangeEntry.select().where(ChangeEntry.table == "attachment", ChangeEntry.pk == row.id).count() == 1
    page = desk.get(f"/dossiers/{dossier.code}")
    assert "Giấy chứng sinh" in text(page) and "đang tải tệp" not in text(page)
    opened = desk.get(f"/dossiers/{dossier.code}/tep/{row.id}")
    assert opened.status_code == 200 and opened.data == JPEG and opened.mimetype == "image/jpeg"


def test_a_file_not_yet_arrived_says_dang_tai_tep_and_the_desk_works_on(app, desk):
    dossier = received(desk)
    with applying_remote():  # a paper the citizen uploaded online: the row came down, the bytes not yet
        Attachment.insert(id="att-online-1", commune=dossier.commune, owner=dossier.id, kind="paper",
                          label="Tờ khai", name="to-khai.pdf", mime="application/pdf", sha256="ab" * 32,
                          size=123_456, added_at=datetime(2026, 3, 2, 8, 0), added_by="").execute()
    page = desk.get(f"/dossiers/{dossier.code}")
    assert page.status_code == 200 and "Tờ khai" in text(page) and "đang tải tệp" in text(page)
    assert desk.get(f"/dossiers/{dossier.code}/tep/att-online-1").status_code == 404
    assert act(desk, dossier, "transfer", stage="Thẩm định hồ sơ").status_code == 303  # the rest works


def test_a_scan_of_the_wrong_type_is_refused_in_vietnamese_and_keeps_the_label(app, desk):
    dossier = received(desk)
    response = scan(desk, dossier, b"MZ\x90\x00 not a picture", name="virus.exe", label="Sổ hộ khẩu cũ")
    assert response.status_code == 415
    assert "không phải ảnh" in text(response) and 'value="Sổ hộ khẩu cũ"' in response.get_data(as_text=True)
    assert attachments_of(dossier.id) == []
    assert open_store(app.extensions["box"].settings).total_size() == 0


def test_a_scan_over_the_size_limit_is_refused_and_nothing_is_kept(app, desk):
    app.extensions["box"].settings["scan_max_mb"] = 0.3
    dossier = received(desk)
    response = scan(desk, dossier, JPEG, name="anh.jpg")
    assert response.status_code == 413 and "Tệp quá lớn" in text(response)
    assert attachments_of(dossier.id) == []
    store = open_store(app.extensions["box"].settings)
    assert store.total_size() == 0 and os.listdir(store.partials) == []


def test_files_open_for_signed_in_officers_only(app, desk):
    dossier = received(desk)
    scan(desk, dossier, PDF)
    [row] = attachments_of(dossier.id)
    desk.delete_cookie("session")
    fresh = app.test_client()
    response = fresh.get(f"/dossiers/{dossier.code}/tep/{row.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/counter")
