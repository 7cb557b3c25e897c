"""Form files of the catalog kept at the hub: uploaded on the edit page, stored by content, served to
anyone at /forms/<sha256>/<name>, named in the replicated record, and shown by the kiosk as a QR code
that a phone on mobile data can open (the hub's address, not the office LAN)."""
import hashlib
import io
import json

from office.catalog import Procedure, record
from tests.central.test_catalog_admin import as_json, entries, form_of, hub, upload  # noqa: F401 (fixture)

DOCX = b"PK\x03\x04" + b"\x00" * 200 + "Tờ khai đăng ký khai sinh".encode()
RECORD = [{"code": "1.001193", "name": "Thủ tục đăng ký khai sinh", "levels": "Cấp Xã",
           "ways": ["Trực tiếp | Trong ngày | Miễn lệ phí"],
           "documents": ["nop | | Tờ khai đăng ký khai sinh | 1 | 0", "nop | | Giấy chứng sinh | 1 | 0"]}]


def save_with_file(client, p, filename, data, row=0, **changes):
    form = {k: v for k, v in form_of(p, **changes).items()}
    form[f"document-{row}-upload"] = (io.BytesIO(data), filename)
    return client.post(f"/catalog/{p.id}", data=form, content_type="multipart/form-data")


def test_a_form_file_is_uploaded_kept_by_content_and_served_to_anyone(hub, tmp_path):
    upload(hub, "c.json", as_json(RECORD))
    p = Procedure.get(Procedure.code == "1.001193")
    saved = save_with_file(hub, p, "../../To khai khai sinh.docx", DOCX)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    sha = hashlib.sha256(DOCX).hexdigest()
    doc = record(Procedure.get_by_id(p.id))["documents"][0]
    assert (doc["form"], doc["form_sha256"], doc["form_size"]) == ("To khai khai sinh.docx", sha, len(DOCX))
    assert (tmp_path / "forms" / sha).read_bytes() == DOCX
    assert json.loads(json.loads(entries("procedure")[-1].data)["components"])[0]["form_sha256"] == sha  # replicated
    anyone = hub.application.test_client()
    got = anyone.get(f"/forms/{sha}/To%20khai%20khai%20sinh.docx")
    assert got.status_code == 200 and got.data == DOCX
    assert got.headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert "attachment" in got.headers["Content-Disposition"] and got.headers["X-Content-Type-Options"] == "nosniff"
    got.close()  # send_file's open file
    for bad in (f"/forms/{sha}/x.exe", f"/forms/{'0' * 64}/x.docx", "/forms/abc/x.docx"):
        assert anyone.get(bad).status_code == 404, bad
    # saving the page again keeps the stored file (hidden fields), and the export carries it
    again = hub.post(f"/catalog/{p.id}", data=form_of(Procedure.get_by_id(p.id)))
    assert again.status_code == 302
    assert record(Procedure.get_by_id(p.id))["documents"][0]["form_sha256"] == sha
    exported = hub.get("/catalog/export.csv").get_data(as_text=True)
    assert sha in exported


def test_a_file_that_is_not_a_form_is_refused_in_vietnamese_and_the_input_kept(hub, tmp_path):
    upload(hub, "c.json", as_json(RECORD))
    p = Procedure.get(Procedure.code == "1.001193")
    for name, data, words in (("virus.exe", b"MZ....", "phải là .doc, .docx, .pdf"),
                              ("gia.pdf", b"<html>not a pdf</html>", "không phải tệp PDF thật"),
                              ("trong.docx", b"", "trống")):
        refused = save_with_file(hub, p, name, data, name="Đăng ký khai sinh (sửa)")
        page = refused.get_data(as_text=True)
        assert refused.status_code == 400 and words in page, name
        assert 'value="Đăng ký khai sinh (sửa)"' in page  # what the operator typed is kept
    assert not (tmp_path / "forms").exists() or not any((tmp_path / "forms").iterdir())
    assert Procedure.get_by_id(p.id).name == "Thủ tục đăng ký khai sinh"
