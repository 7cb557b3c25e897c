"""A dossier submitted online at a real hub (SQLite and PostgreSQL) reaches the commune's box by sync:
the citizen proves a phone, fills the applicant's details, uploads three papers with the tus protocol
(the ``tuspy`` client; one upload cut midway and resumed), submits; the box, offline at first, syncs,
the officer accepts and finishes it, the status goes back up, the citizen tracks it and gets the SMS."""
import hashlib
import io
import json
import re
from datetime import datetime

import pytest
import requests
from tusclient import client as tus
from tusclient.exceptions import TusCommunicationError

from office import online_dossiers
from office.attachments import attachments_of
from office.calendar import WorkCalendar
from office.models import Dossier, Procedure
from tests.central.fakes import FakeSms
from tests.central.online_support import pdf, png

from .online_citizen import citizen_session
from .notify_support import WorkerProcess, sms_args, wait_for
from .test_dossier_convergence import OFFICE_CODE, hub_import_catalog

PHONE, OTHER_PHONE = "0912345678", "0977000111"
BIRTH = "1.001193"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CATALOG = [{
    "code": BIRTH, "name": "Đăng ký khai sinh", "field": "Hộ tịch", "agency": "UBND cấp xã", "online_level": "toan_trinh",
    "ways": [{"way": "truc_tiep", "amount": 3, "unit": "ngay_lam_viec"},
             {"way": "truc_tuyen", "amount": 2, "unit": "ngay_lam_viec"}],
    "documents": [{"group": "nop", "name": "Tờ khai đăng ký khai sinh", "originals": 1, "copies": 0},
                  {"group": "nop", "name": "Giấy chứng sinh", "originals": 1, "copies": 0},
                  {"group": "xuat_trinh", "name": "Giấy chứng nhận kết hôn của cha mẹ", "originals": 1, "copies": 0}],
    "result": "Giấy khai sinh"}]


@pytest.fixture
def sms():
    gateway = FakeSms().start()
    yield gateway
    gateway.stop()


def citizen(hub, phone):
    return citizen_session(hub, phone)


def tus_client(hub, session, token):
    return tus.TusClient(hub.url + "/cong-dan/tai-len/", headers={
        "X-CSRFToken": token, "Cookie": session.headers["Cookie"]})


def test_online_dossier_from_phone_to_box_and_back(hub, make_box, tmp_path, sms):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG, ensure_ascii=False), encoding="utf-8")
    hub_import_catalog(hub.dir, hub.database_url, catalog)
    box = make_box()
    assert box.sync()["ok"]  # the hub learns the commune's office; the box gets the catalog
    browser = citizen(hub, PHONE)

    # the applicant's details
    form_page = f"{hub.url}/cong-dan/nop-ho-so/{box.commune}/{BIRTH}"
    token = CSRF.search(browser.get(form_page, timeout=10).text).group(1)
    response = browser.post(form_page, data={"csrf_token": token, "name": "Nguyễn Thị Hoa", "id_number": "034199001234",
                                             "phone": PHONE, "address": "Tổ 3, phường Sông Công"},
                            allow_redirects=False, timeout=10)
    assert response.status_code == 303, response.text
    papers_page = hub.url + response.headers["Location"]
    draft = papers_page.rsplit("/", 1)[1]
    token = META.search(browser.get(papers_page, timeout=10).text).group(1)
    uploads = tus_client(hub, browser, token)

    # three papers; the first is cut after three pieces and resumed by a new client (as after a reconnect)
    files = [(0, "to-khai.png", "image/png", png(600_000, 1)), (1, "chung-sinh.pdf", "application/pdf", pdf(250_000)),
             (2, "ket-hon.png", "image/png", png(120_000, 2))]
    for paper, name, mime, data in files:
        meta = {"filename": name, "filetype": mime, "draft": draft, "paper": str(paper)}
        uploader = uploads.uploader(file_stream=io.BytesIO(data), chunk_size=100_000, metadata=meta)
        if paper == 0:
            uploader.upload(stop_at=300_000)
            assert uploader.offset == 300_000
            again = tus_client(hub, browser, token).uploader(file_stream=io.BytesIO(data), url=uploader.url,
                                                             chunk_size=100_000, metadata=meta)
            assert again.offset == 300_000  # asked with HEAD: goes on where the cut left it
            again.upload()
            uploader = again
        else:
            uploader.upload()
        head = requests.head(uploader.url, headers=uploads.headers | {"Tus-Resumable": "1.0.0"}, timeout=10)
        assert head.status_code == 200 and int(head.headers["Upload-Offset"]) == len(data)
        # another phone does not see it at all
        stranger = citizen(hub, OTHER_PHONE)
        assert requests.head(uploader.url, timeout=10, headers={
            "Tus-Resumable": "1.0.0", "Cookie": stranger.headers["Cookie"]}).status_code == 404

    review = f"{papers_page}/xem-lai"
    token = CSRF.search(browser.get(review, timeout=10).text).group(1)
    response = browser.post(review, data={"csrf_token": token, "agree": "1"}, allow_redirects=False, timeout=10)
    assert response.status_code == 303, response.text
    done = browser.get(hub.url + response.headers["Location"], timeout=10).text
    code = re.search(r'id="dossier-code">([^<]+)<', done).group(1)
    secret = re.search(r'id="dossier-secret">([^<]+)<', done).group(1)
    assert code.startswith(f"TT-{box.commune}-")
    assert hub.query(f"select status, way from dossier where code = '{code}'") == [(1, "truc_tuyen")]

    # the box receives it with its files named by sha256
    assert box.sync()["ok"]
    with box:
        dossier = Dossier.get(Dossier.code == code)
        assert (dossier.status, dossier.applicant_phone) == (1, PHONE)
        assert sorted((a.label, a.sha256, a.size) for a in attachments_of(dossier.id)) == sorted(
            (CATALOG[0]["documents"][p]["name"], hashlib.sha256(d).hexdigest(), len(d)) for p, _, _, d in files)
        assert online_dossiers.waiting() == [dossier]
        procedure = Procedure.get(Procedure.code == BIRTH)
        online_dossiers.accept(WorkCalendar(), dossier, procedure, OFFICE_CODE, actor="Nguyễn Thị Lan",
                               now=datetime(2026, 3, 2, 9, 0))
        from office import dossiers

        dossiers.finish(dossier, actor="Nguyễn Thị Lan", now=datetime(2026, 3, 3, 10, 0))
    worker = WorkerProcess(hub.dir, [*hub.args, *sms_args(sms)])
    try:
        assert box.sync()["ok"]
        assert hub.query(f"select status from dossier where code = '{code}'") == [(9,)]
        worker.start()
        wait_for(lambda: len(sms.bodies()) >= 2, timeout=60, what="the SMS of acceptance and result")
    finally:
        worker.close()
    texts = sorted(body["Content"] for body in sms.bodies())
    assert any(f"da tiep nhan ho so {code}" in t for t in texts) and any(f"Ho so {code} da co ket qua" in t for t in texts)
    tracking = requests.get(f"{hub.url}/tracking", params={"code": code, "secret": secret}, timeout=10).text
    assert "Đã xử lý xong" in tracking


def test_tus_answers_wrong_offsets_sizes_and_strangers(hub, make_box, tmp_path):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG, ensure_ascii=False), encoding="utf-8")
    hub_import_catalog(hub.dir, hub.database_url, catalog)
    box = make_box()
    assert box.sync()["ok"]
    browser = citizen(hub, PHONE)
    form_page = f"{hub.url}/cong-dan/nop-ho-so/{box.commune}/{BIRTH}"
    token = CSRF.search(browser.get(form_page, timeout=10).text).group(1)
    response = browser.post(form_page, data={"csrf_token": token, "name": "Lê Văn Minh", "id_number": "001099012345",
                                             "phone": PHONE, "address": "Xóm Chùa"}, allow_redirects=False, timeout=10)
    draft = response.headers["Location"].rsplit("/", 1)[1]
    token = META.search(browser.get(hub.url + response.headers["Location"], timeout=10).text).group(1)
    uploads = tus_client(hub, browser, token)
    options = requests.options(hub.url + "/cong-dan/tai-len/", timeout=10)
    assert options.status_code == 204 and options.headers["Tus-Version"] == "1.0.0"
    assert options.headers["Tus-Max-Size"] == str(10 * 1024 * 1024)
    assert set(options.headers["Tus-Extension"].split(",")) == {"creation", "termination"}

    too_big = uploads.uploader(file_stream=io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * (11 * 1024 * 1024)),
                               metadata={"filename": "a.png", "filetype": "image/png", "draft": draft, "paper": "0"})
    with pytest.raises(TusCommunicationError) as refused:
        too_big.upload()
    assert refused.value.status_code == 413

    data = png(50_000, 3)
    uploader = uploads.uploader(file_stream=io.BytesIO(data), chunk_size=20_000,
                                metadata={"filename": "a.png", "filetype": "image/png", "draft": draft, "paper": "0"})
    uploader.upload(stop_at=20_000)
    headers = {**uploads.headers, "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
    wrong = requests.patch(uploader.url, data=data[5:100], headers={**headers, "Upload-Offset": "5"}, timeout=10)
    assert wrong.status_code == 409 and wrong.headers["Upload-Offset"] == "20000"
    stranger = citizen(hub, OTHER_PHONE)  # with its own valid token: the upload does not exist for it
    their_token = CSRF.search(stranger.get(form_page, timeout=10).text).group(1)
    assert requests.patch(uploader.url, data=data[20_000:], timeout=10, headers={
        **headers, "Upload-Offset": "20000", "X-CSRFToken": their_token,
        "Cookie": stranger.headers["Cookie"]}).status_code == 404
    fake = uploads.uploader(file_stream=io.BytesIO(b"MZ\x90\x00" + b"0" * 1000),
                            metadata={"filename": "b.png", "filetype": "image/png", "draft": draft, "paper": "1"})
    with pytest.raises(Exception):
        fake.upload()
    no_csrf = requests.post(hub.url + "/cong-dan/tai-len/", timeout=10, headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": "10", "Cookie": browser.headers["Cookie"]})
    assert no_csrf.status_code in (400, 403)
    deleted = requests.delete(uploader.url, headers=headers, timeout=10)
    assert deleted.status_code == 204
    assert requests.head(uploader.url, headers=headers, timeout=10).status_code == 404
