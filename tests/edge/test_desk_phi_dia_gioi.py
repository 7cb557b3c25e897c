"""The desk receives a dossier for another commune of the province (phi địa giới) and says so."""
import json

from office.catalog import Procedure
from office.models import Dossier
from sync.capture import applying_remote
from tests.conftest import sign_in
from tests.edge.test_dossier_views import clock, text  # noqa: F401 (fixture)


def test_desk_receives_for_another_commune_and_lists_it(app, client, clock):
    with applying_remote():
        Procedure.insert(id="p-ks", commune="*", code="1.001193", name="Đăng ký khai sinh", days=3,
                         components=json.dumps([{"name": "Tờ khai", "copies": 1}])).execute()
    sign_in(client)
    form = client.get("/dossiers/new?procedure=1.001193").get_data(as_text=True)
    assert 'name="decided_by"' in form and ">Bắc Kạn<" in form and ">Ba Đình<" not in form  # same province only
    answer = client.post("/dossiers", data={"procedure": "1.001193", "name": "Nguyễn Thị Hạnh", "components": "0",
                                            "decided_by": "01843", "collect_at": "deciding"})
    assert answer.status_code == 303
    dossier = Dossier.get(Dossier.applicant_name == "Nguyễn Thị Hạnh")
    assert (dossier.decided_by, dossier.collect_at) == ("01843", "01843")
    page = text(client.get(f"/dossiers/{dossier.code}"))
    page = " ".join(page.split())
    assert "Phi địa giới: Phường Bắc Kạn giải quyết" in page and "nhận kết quả tại Phường Bắc Kạn" in page, page[:3000]
    listed = text(client.get("/dossiers"))
    assert "Phi địa giới: Phường Bắc Kạn giải quyết" in listed
    bad = client.post("/dossiers", data={"procedure": "1.001193", "name": "Lê Văn Tám", "components": "0",
                                         "decided_by": "00004"})
    assert bad.status_code == 400 and "cùng tỉnh" in text(bad)
