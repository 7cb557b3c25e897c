"""A field report travels: written at the hub by a citizen's phone, down to the commune's box (offline
at first), answered there, up again; the hub's public page shows the answer and the reporter gets an
SMS; the citizen's photo comes down to the box and the answer's photo goes up, whole. On SQLite and
PostgreSQL hubs, with the hub and its worker as their own processes."""
import hashlib
import io
import re
from datetime import datetime

import pytest
import requests

from blobs.store import open_store
from office import reports
from office.attachments import attachments_of
from office.reports import FieldReport
from tests.central.citizen_session import citizen_cookie
from tests.central.fakes import FakeSms

from .notify_support import NotifyQueue, WorkerProcess, sms_args, wait_for
from .test_blob_transfer import box_transfer

PHONE = "0912345678"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(range(256)) * 20
ANSWER_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(range(255, -1, -1)) * 30


@pytest.fixture
def sms():
    gateway = FakeSms().start()
    yield gateway
    gateway.stop()


def prove_phone(hub, phone):
    """The hub's Citizen row and a browser session carrying the proof (the code's own tests are elsewhere)."""
    now = datetime.utcnow().isoformat(sep=" ")
    hub.query(f"insert into citizen (phone, created_at, consent_version, consent_at) "
              f"values ('{phone}', '{now}', 'test', '{now}') returning id")
    session = requests.Session()
    secret = (hub.dir / "secret_key").read_text().strip()
    session.cookies.set("session", citizen_cookie(secret, phone), domain="127.0.0.1")
    return session


def citizen_reports(hub, session, description, public="1"):
    form = session.get(hub.url + "/cong-dan/phan-anh/moi", timeout=10)
    assert form.status_code == 200, form.text[:500]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    sent = session.post(hub.url + "/cong-dan/phan-anh/moi", timeout=10, allow_redirects=False,
                        headers={"Origin": hub.url, "Referer": hub.url + "/cong-dan/phan-anh/moi"},
                        data={"csrf_token": token, "category": "chieu-sang", "description": description,
                              "lat": "21.45", "lon": "105.82", "commune_name": "Phường Sông Công", "public": public},
                        files=[("photos", ("den.jpg", JPEG, "image/jpeg"))])
    assert sent.status_code == 302, sent.text[:1500]
    return sent.headers["Location"].rsplit("/", 1)[-1]


def test_a_report_goes_down_to_the_offline_box_is_answered_there_and_published_with_an_sms(hub, make_box, sms):
    box = make_box("05518")
    assert box.sync()["ok"]
    code = citizen_reports(hub, prove_phone(hub, PHONE), "Đèn đường trước trường tiểu học bị hỏng cả tuần")
    hub.stop()  # the commune's link is down
    assert not box.sync()["ok"]
    hub.start()
    assert box.sync()["ok"]
    with box:
        report = FieldReport.get(FieldReport.code == code)
        assert (report.phone, report.status, report.category) == (PHONE, "new", "chieu-sang")
        [photo] = attachments_of(report.id)
        assert photo.kind == "photo" and photo.size == len(JPEG)
        assert not open_store(box.settings).has(photo.sha256)  # the bytes travel apart (the desk: "đang tải tệp")
        reports.acknowledge(report, datetime(2026, 3, 4, 9, 30))
        answer_sha, size = open_store(box.settings).put(io.BytesIO(ANSWER_JPEG))
        reports.answer(report, "Đã thay bóng đèn ngày 05/3, cảm ơn ông/bà.", "canbo1", datetime(2026, 3, 5, 10, 0),
                       photos=[("den-moi.jpg", "image/jpeg", answer_sha, size)])

    worker_args = [*hub.args, *sms_args(sms)]
    queue = NotifyQueue(worker_args)
    queue.huey.flush()
    worker = WorkerProcess(hub.dir, worker_args).start()
    try:
        assert box.sync()["ok"]
        page = requests.get(f"{hub.url}/phan-anh/{code}", timeout=10).text
        assert "Đã thay bóng đèn ngày 05/3" in page and "Đã trả lời" in page
        assert PHONE not in page
        wait_for(lambda: sms.delivered, timeout=45, what="the SMS at the gateway")
        [body] = sms.bodies()
        assert body["Phone"] == "84912345678" and code in body["Content"]
        assert body["Content"].startswith("UBND Phuong Song Cong da tra loi phan anh")
    finally:
        worker.close()
        queue.huey.flush()
    assert hub.query(f"select status, answered_by from field_report where code = '{code}'") == [("answered", "canbo1")]

    moved = box_transfer(box)  # the box's worker: the citizen's photo down, the answer's photo up
    assert (moved["fetched"], moved["sent"]) == (1, 1), moved
    with open_store(box.settings).open(hashlib.sha256(JPEG).hexdigest()) as photo:
        assert photo.read() == JPEG
    published = requests.get(f"{hub.url}/phan-anh/anh/{answer_sha}", timeout=10)
    assert published.status_code == 200 and published.content == ANSWER_JPEG
