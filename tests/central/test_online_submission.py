"""Online submission at the hub (Flask test client on a real SQLite file): only online procedures of
served communes, the applicant's details checked in Vietnamese and kept, required papers, type and
size limits, consent, and the dossier written in the commune's scope with status 1 and its files."""
import hashlib
import re

import pytest
from werkzeug.test import encode_multipart

from blobs.store import open_store
from central.app import create_app
from central.citizens import Citizen
from central.online_drafts import OnlineDraft, dossiers_of_phone
from motcua.settings import load_settings
from office.attachments import attachments_of
from office.db import database
from office.dossiers import Dossier, DossierEvent
from tests.central.citizen_session import proved_citizen
from tests.central.hub_accounts import CSRF

from .online_support import BIRTH, COMMUNE, OTHER, online_catalog, pdf, png, served, upload_file

PHONE = "0912345678"
APPLICANT = {"name": "Nguyễn Thị Hoa", "id_number": "034199001234", "phone": PHONE,
             "address": "Tổ 3, phường Sông Công, Thái Nguyên"}


@pytest.fixture
def hub(tmp_path):
    settings = load_settings("hub", environ={}, overrides={
        "data_dir": str(tmp_path / "hub"), "operator_password": "first-operator", "upload_max_mb": 1,
        "dossier_upload_max_mb": 2})
    app = create_app(settings)
    app.config["TESTING"] = True
    online_catalog()
    served(COMMUNE)
    yield app
    database.close()


def token(client, path):
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def post(client, path, data, page=None, content_type=None):
    """A form post as the page sends it; files as a multipart body built in memory."""
    data = {**data, "csrf_token": token(client, page or f"/cong-dan/nop-ho-so/{COMMUNE}/{BIRTH}")}
    headers = {"Origin": "http://localhost"}
    if content_type == "multipart/form-data":
        boundary, body = encode_multipart(data)
        return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}",
                           headers=headers)
    return client.post(path, data=data, headers=headers)


def start(client, values=APPLICANT):
    path = f"/cong-dan/nop-ho-so/{COMMUNE}/{BIRTH}"
    response = post(client, path, values)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def test_lists_only_online_procedures_of_served_communes(hub):
    client = proved_citizen(hub.test_client(), PHONE)
    page = client.get(f"/cong-dan/nop-ho-so?xa={COMMUNE}").get_data(as_text=True)
    assert "Đăng ký khai sinh" in page and "Đăng ký kết hôn" not in page
    assert client.get(f"/cong-dan/nop-ho-so/{COMMUNE}/1.000894").status_code == 404
    assert client.get(f"/cong-dan/nop-ho-so/{OTHER}/{BIRTH}").status_code == 404


def test_needs_a_proved_phone_and_consent(hub):
    anonymous = hub.test_client()
    assert anonymous.get("/cong-dan/nop-ho-so").status_code in (302, 401)
    client = proved_citizen(hub.test_client(), "0987654321")
    Citizen.update(consent_at=None).where(Citizen.phone == "0987654321").execute()
    response = client.get("/cong-dan/nop-ho-so")
    assert response.status_code in (302, 403)
    if response.status_code == 403:
        assert "đồng ý cho xử lý dữ liệu cá nhân" in response.get_data(as_text=True)


def test_applicant_errors_in_vietnamese_keep_the_input(hub):
    client = proved_citizen(hub.test_client(), PHONE)
    path = f"/cong-dan/nop-ho-so/{COMMUNE}/{BIRTH}"
    response = post(client, path, {"name": "Trần Văn Bình", "id_number": "12345", "phone": "+84 91 234",
                                   "address": "Xóm Đồng"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "phải có đúng 12 chữ số" in page and "Số điện thoại di động phải có 10 chữ số" in page
    assert 'value="Trần Văn Bình"' in page and 'value="12345"' in page and 'value="Xóm Đồng"' in page
    assert OnlineDraft.select().count() == 0


def test_submit_with_papers_makes_a_status_1_dossier_in_the_communes_scope(hub):
    client = proved_citizen(hub.test_client(), PHONE)
    papers_page = start(client, {**APPLICANT, "phone": "+84 912.345.678"})
    draft = OnlineDraft.get()
    assert draft.values["phone"] == PHONE
    form, birth = png(5000, 1), pdf(4000)
    response = post(client, papers_page, {"file-0": upload_file(form, "to-khai.png"),
                                          "file-1": upload_file(birth, "giay-chung-sinh.pdf")},
                    content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    review = f"/cong-dan/nop-ho-so/ban-nhap/{draft.id}/xem-lai"
    response = post(client, review, {"agree": "1"})
    assert response.status_code == 303, response.get_data(as_text=True)
    dossier = Dossier.get()
    assert re.fullmatch(rf"TT-{COMMUNE}-\d{{6}}-0001", dossier.code)
    assert (dossier.commune, dossier.status, dossier.way) == (COMMUNE, 1, "truc_tuyen")
    assert dossier.applicant_id_number == "034199001234" and dossier.tracking_secret
    files = attachments_of(dossier.id)
    assert [(a.label, a.kind, a.sha256, a.size) for a in files] == [
        ("Tờ khai đăng ký khai sinh", "paper", hashlib.sha256(form).hexdigest(), len(form)),
        ("Giấy chứng sinh", "paper", hashlib.sha256(birth).hexdigest(), len(birth))]
    store = open_store(hub.extensions["hub"].settings)
    assert all(store.has(a.sha256) for a in files)
    assert [e.action for e in DossierEvent.select()] == ["submit"]
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert dossier.code in done and dossier.tracking_secret in done
    assert dossiers_of_phone(PHONE) == [dossier]
    # the public tracking page shows it as "Mới đăng ký"
    tracking = hub.test_client().get(f"/tracking?code={dossier.code}&secret={dossier.tracking_secret}")
    assert "Mới đăng ký" in tracking.get_data(as_text=True)
    # a second submit of the same draft is refused
    assert post(client, review, {"agree": "1"}, page=f"/cong-dan/nop-ho-so/{COMMUNE}/{BIRTH}").status_code == 409


def test_required_papers_missing_refused(hub):
    client = proved_citizen(hub.test_client(), PHONE)
    papers_page = start(client)
    post(client, papers_page, {"file-0": upload_file(png(3000), "to-khai.png")}, content_type="multipart/form-data")
    draft = OnlineDraft.get()
    review = f"/cong-dan/nop-ho-so/ban-nhap/{draft.id}/xem-lai"
    page = client.get(review).get_data(as_text=True)
    assert "Còn thiếu giấy tờ bắt buộc: Giấy chứng sinh" in page
    response = post(client, review, {"agree": "1"})
    assert response.status_code == 400 and "Giấy chứng sinh" in response.get_data(as_text=True)
    assert Dossier.select().count() == 0


def test_type_and_size_limits(hub):
    client = proved_citizen(hub.test_client(), PHONE)
    papers_page = start(client)
    response = post(client, papers_page, {"file-0": upload_file(b"MZ\x90\x00not an image", "anh.png"),
                                          "file-1": upload_file(b"x" * 100, "virus.exe"),
                                          "file-3": upload_file(png(1_300_000, 2), "qua-lon.png")},
                    content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "anh.png: Chỉ nhận ảnh JPG, PNG hoặc tệp PDF" in page and "không đúng loại" in page
    assert "virus.exe: Chỉ nhận ảnh JPG, PNG" in page
    assert "qua-lon.png: Tệp lớn quá 1 MB" in page
    for seed in range(2):  # the dossier's total: 2 MB
        post(client, papers_page, {"file-3": upload_file(png(900_000, 10 + seed), f"anh-{seed}.png")},
             content_type="multipart/form-data")
    response = post(client, papers_page, {"file-3": upload_file(png(900_000, 20), "anh-3.png")},
                    content_type="multipart/form-data")
    assert "Tổng dung lượng các tệp của một hồ sơ không quá 2 MB" in response.get_data(as_text=True)


def test_another_phone_cannot_see_or_use_the_draft(hub):
    client = proved_citizen(hub.test_client(), PHONE)
    papers_page = start(client)
    other = proved_citizen(hub.test_client(), "0977000111")
    assert other.get(papers_page).status_code == 404
