"""The box's desk and the dossiers citizens submitted online (come down from the hub with status 1):
listed as waiting, their papers shown ("đang tải tệp" until the bytes are on the box), accepted (due date
from acceptance with the online way's limit, notice to the citizen) or refused with form 03 (notice with
the reason); nothing else is done to them before that."""
import hashlib
import io
import json
from datetime import datetime

import pytest

from blobs.store import open_store
from office.attachments import Attachment
from office.models import Dossier, DossierEvent, Procedure
from office.notices import Notice
from sync.capture import applying_remote
from tests.conftest import sign_in

from .test_dossier_views import text

MON = datetime(2026, 3, 2, 9, 15)  # a Monday, office-local
FORM, BIRTH = b"%PDF-1.4 to khai", b"\x89PNG\r\n\x1a\n giay chung sinh"


@pytest.fixture
def desk(app, client):
    app.extensions["dossier_clock"] = lambda: MON
    with applying_remote():  # as the hub sent them down
        Procedure.insert(id="p-ks", commune="*", code="1.001193", name="Đăng ký khai sinh", field="Hộ tịch",
                         online_level="toan_trinh", components="[]",
                         ways=json.dumps([{"way": "truc_tiep", "amount": 3, "unit": "ngay_lam_viec"},
                                          {"way": "truc_tuyen", "amount": 2, "unit": "ngay_lam_viec"}])).execute()
        Dossier.insert(id="d-online", commune="05518", code="TT-05518-260301-0001", procedure_code="1.001193",
                       procedure_name="Đăng ký khai sinh", applicant_name="Nguyễn Thị Hoa",
                       applicant_id_number="034199001234", applicant_phone="0912345678",
                       applicant_address="Tổ 3", way="truc_tuyen", status=1, stage="Chờ tiếp nhận",
                       received_at=datetime(2026, 3, 1, 20, 0), due_at=datetime(2026, 3, 3, 17, 0),
                       tracking_secret="K7PX3M").execute()
        for n, (label, data) in enumerate([("Tờ khai", FORM), ("Giấy chứng sinh", BIRTH)]):
            Attachment.insert(id=f"a-{n}", commune="05518", owner="d-online", kind="paper", label=label,
                              name=f"tep-{n}", mime="application/pdf", sha256=hashlib.sha256(data).hexdigest(),
                              size=len(data), added_at=datetime(2026, 3, 1, 13, 0)).execute()
    sign_in(client)
    return client


def test_online_dossier_waits_with_its_papers_until_the_bytes_arrive(desk, app):
    page = text(desk.get("/dossiers"))
    assert "Hồ sơ trực tuyến chờ tiếp nhận (1)" in page and "TT-05518-260301-0001" in page
    assert "đang tải tệp (2)" in page
    open_store(app.extensions["box"].settings).put(io.BytesIO(FORM))
    page = desk.get("/dossiers/TT-05518-260301-0001").get_data(as_text=True)
    detail = text(desk.get("/dossiers/TT-05518-260301-0001"))
    assert "Tệp đính kèm" in detail and page.count('class="file-waiting"') == 1
    assert "Tiếp nhận hồ sơ trực tuyến" in detail


def test_accept_runs_the_clock_from_acceptance_and_tells_the_citizen(desk):
    assert desk.post("/dossiers/TT-05518-260301-0001/transfer", data={"stage": "Thẩm định"}).status_code == 409
    response = desk.post("/dossiers/TT-05518-260301-0001/accept")
    assert response.status_code == 303
    dossier = Dossier.get_by_id("d-online")
    assert (dossier.status, dossier.received_at, dossier.agency) == (2, MON, "000.19.05518")
    assert dossier.due_at.date() == datetime(2026, 3, 4).date()  # 2 working days of the online way
    notice = Notice.get(Notice.kind == "dossier_received")
    assert notice.phone == "0912345678" and notice.values["ma_ho_so"] == dossier.code
    assert desk.post("/dossiers/TT-05518-260301-0001/accept").status_code == 409
    assert desk.post("/dossiers/TT-05518-260301-0001/finish", data={"confirm": "1"}).status_code == 303
    assert Notice.select().where(Notice.kind == "dossier_ready").count() == 1


def test_refuse_prints_form_03_and_tells_the_citizen_why(desk):
    response = desk.post("/dossiers/TT-05518-260301-0001/refuse",
                         data={"confirm": "1", "reason": "Ảnh giấy chứng sinh bị mờ, không đọc được"})
    assert response.status_code == 303
    assert Dossier.get_by_id("d-online").status == 3
    notice = Notice.get(Notice.kind == "dossier_refused")
    assert notice.values["ghi_chu"] == "Ảnh giấy chứng sinh bị mờ, không đọc được"
    form = text(desk.get("/dossiers/TT-05518-260301-0001/forms/03"))
    assert "Ảnh giấy chứng sinh bị mờ" in form
    assert [e.action for e in DossierEvent.select()] == ["refuse"]
