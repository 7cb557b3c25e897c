"""Field reports on the box: the commune's list, a report's photos ("đang tải tệp" while the bytes
have not come down), and the commune's acts: acknowledge, assign, answer (confirmed, with a photo;
a notice for the reporter), close."""
import io
from datetime import datetime

from blobs.store import open_store
from office.attachments import Attachment, attachments_of
from office.notices import Notice
from office.reports import FieldReport
from sync.capture import applying_remote
from tests.conftest import DEMO_COMMUNE, sign_in

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x05" * 800
MISSING = "ab" * 32


def pulled_report(commune=DEMO_COMMUNE, code="PA-ABCDEFG"):
    """A report as the pull writes it: the row and its photo's row, the bytes not here yet."""
    with applying_remote():
        FieldReport.insert(id=f"r-{code}", commune=commune, code=code, category="moi-truong",
                           description="Rác thải đổ trộm bên đường Thắng Lợi", address="Ngõ 12 Thắng Lợi",
                           phone="0912345678", lat=21.45, lon=105.82, created_at=datetime(2026, 3, 2, 9),
                           ack_due=datetime(2026, 3, 2, 11), answer_due=datetime(2026, 3, 9, 17)).execute()
        Attachment.insert(id=f"a-{code}", commune=commune, owner=f"r-{code}", kind="photo", name="rac.jpg",
                          mime="image/jpeg", sha256=MISSING, size=1234, added_at=datetime(2026, 3, 2, 9)).execute()
    return FieldReport.get(FieldReport.code == code)


def test_an_officer_answers_a_report_whose_photo_is_still_on_its_way(app, client):
    app.extensions["dossier_clock"] = lambda: datetime(2026, 3, 2, 14)  # past the 2-hour acknowledgement
    pulled_report()
    assert client.get("/reports").status_code == 302  # not signed in: to the counter
    sign_in(client)
    listed = client.get("/reports").get_data(as_text=True)
    assert "PA-ABCDEFG" in listed and "Quá hạn" in listed
    page = client.get("/reports/PA-ABCDEFG").get_data(as_text=True)
    assert "đang tải tệp" in page and "Ngõ 12 Thắng Lợi" in page and "Quá hạn tiếp nhận" in page
    assert client.post("/reports/PA-ABCDEFG/acknowledge").status_code == 303
    assert client.post("/reports/PA-ABCDEFG/assign", data={"officer": "canbo2"}).status_code == 303
    assert FieldReport.get().assigned_to == "canbo2" and FieldReport.get().status == "in_progress"
    unconfirmed = client.post("/reports/PA-ABCDEFG/answer", data={"answer": "Đã thu dọn xong."})
    text = unconfirmed.get_data(as_text=True)
    assert unconfirmed.status_code == 400 and "xác nhận" in text and "Đã thu dọn xong." in text  # input kept
    not_photo = client.post("/reports/PA-ABCDEFG/answer", content_type="multipart/form-data",
                            data={"answer": "Đã thu dọn xong.", "confirm": "1",
                                  "photos": (io.BytesIO(b"%PDF-1.4"), "a.pdf")})
    assert not_photo.status_code == 400 and "không phải ảnh" in not_photo.get_data(as_text=True)
    assert FieldReport.get().status == "in_progress"
    answered = client.post("/reports/PA-ABCDEFG/answer", content_type="multipart/form-data",
                           data={"answer": "Đã thu dọn xong, cảm ơn ông/bà.", "confirm": "1",
                                 "photos": (io.BytesIO(JPEG), "xong.jpg")})
    assert answered.status_code == 303
    report = FieldReport.get()
    assert (report.status, report.answered_by, report.answer) == ("answered", "canbo1", "Đã thu dọn xong, cảm ơn ông/bà.")
    [answer_photo] = [a for a in attachments_of(report.id) if a.kind == "answer"]
    assert open_store(app.extensions["box"].settings).has(answer_photo.sha256)
    shown = client.get(f"/reports/photo/{answer_photo.sha256}")
    assert shown.status_code == 200 and shown.data == JPEG
    shown.close()
    assert client.get(f"/reports/photo/{MISSING}").status_code == 404
    [notice] = Notice.select()
    assert (notice.kind, notice.phone, notice.values["ma_phan_anh"]) == ("report_answered", "0912345678", "PA-ABCDEFG")
    assert client.post("/reports/PA-ABCDEFG/close").status_code == 303
    assert FieldReport.get().status == "closed"
    closed = client.post("/reports/PA-ABCDEFG/answer", data={"answer": "Lần nữa", "confirm": "1"})
    assert closed.status_code == 409 and "đã đóng" in closed.get_data(as_text=True)


def test_another_communes_report_is_not_acted_on(app, client):
    pulled_report(commune="00454", code="PA-KHACXA2")
    sign_in(client)
    assert "PA-KHACXA2" not in client.get("/reports?status=all").get_data(as_text=True)
    assert client.post("/reports/PA-KHACXA2/acknowledge").status_code == 404
