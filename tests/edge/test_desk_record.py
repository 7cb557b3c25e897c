"""The desk with national records: a procedure that states no time limit asks the officer for the
appointment (never "within the day"); notes are not ticked as papers; each way's own limit applies."""
import json
from datetime import datetime

from office.catalog import Procedure, validate
from office.models import Dossier
from sync.capture import applying_remote
from tests.conftest import sign_in
from tests.edge.test_dossier_views import clock, text  # noqa: F401 (fixture)

ROWS = [
    {"code": "1.012345", "name": "Thủ tục xác nhận thông tin về cư trú", "levels": "Cấp Xã",
     "ways": [{"way": "truc_tiep", "limit": "", "fee": "Miễn phí"}],
     "documents": ["nop | | Tờ khai thay đổi thông tin cư trú | 1 | 0",
                   "ghi_chu | | Không cần nộp bản sao sổ hộ khẩu | 0 | 0"]},
    {"code": "1.000894", "name": "Thủ tục đăng ký kết hôn có yếu tố nước ngoài", "levels": ["xa"],
     "ways": ["Trực tiếp | 15 Ngày | 1.500.000 đồng", "Trực tuyến | 10 Ngày | 750.000 đồng"],
     "documents": ["nop | | Tờ khai đăng ký kết hôn | 1 | 0", "nop | | Hộ chiếu của người nước ngoài | 0 | 2"]},
]


def load(app):
    with applying_remote():
        for n, row in enumerate(ROWS):
            clean, reasons = validate(row)
            assert not reasons
            Procedure.insert(id=f"r{n}", commune="*", **clean).execute()


def test_procedure_without_a_time_limit_asks_for_the_appointment(app, client, clock):
    load(app)
    sign_in(client)
    page = client.get("/dossiers/new?procedure=1.012345").get_data(as_text=True)
    assert 'name="due_at"' in page and "không quy định thời hạn" in page
    assert "Lưu ý: Không cần nộp bản sao sổ hộ khẩu" in page  # a note, not a box to tick
    assert page.count('name="components"') == 1
    base = {"procedure": "1.012345", "name": "Võ Thị Lan", "components": "0", "way": "truc_tiep"}
    missing = client.post("/dossiers", data=base)
    assert missing.status_code == 400 and "hãy nhập ngày, giờ hẹn trả kết quả" in text(missing)
    assert 'value="Võ Thị Lan"' in missing.get_data(as_text=True)  # the input is kept
    done = client.post("/dossiers", data={**base, "due_at": "2026-03-06T16:00"})
    assert done.status_code == 303
    assert Dossier.get(Dossier.applicant_name == "Võ Thị Lan").due_at == datetime(2026, 3, 6, 16, 0)


def test_each_way_keeps_its_own_limit_at_receipt(app, client, clock):
    load(app)
    sign_in(client)
    page = client.get("/dossiers/new?procedure=1.000894").get_data(as_text=True)
    assert 'name="due_at"' not in page and "2 bản sao" in page
    client.post("/dossiers", data={"procedure": "1.000894", "name": "Trần Hoa", "components": ["0", "1"],
                                   "way": "truc_tuyen"})
    dossier = Dossier.get(Dossier.applicant_name == "Trần Hoa")
    assert dossier.due_at == datetime(2026, 3, 12, 17, 0)  # 10 calendar days after Monday 2 March
    assert json.loads(dossier.components)[1] == {"name": "Hộ chiếu của người nước ngoài", "copies": 2}
