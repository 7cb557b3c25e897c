"""Tracking a dossier by its code: status and history, never the ID number or the phone."""
from datetime import datetime

from office import dossiers
from office.calendar import WorkCalendar
from office.models import Procedure
from sync.capture import applying_remote

SECRETS = ("001099012345", "0912345678", "Tổ 5", "Nguyễn Văn")


def received(app):
    with applying_remote():
        Procedure.insert(id="p-ks", commune="*", code="1.001193", name="Đăng ký khai sinh", days=3).execute()
    dossier = dossiers.receive(WorkCalendar(), Procedure.get_by_id("p-ks"),
                               {"name": "Nguyễn Văn An", "id_number": "001099012345", "phone": "0912345678",
                                "address": "Tổ 5, phường Sông Công"}, "000.19.05518", now=datetime(2026, 3, 2, 9))
    dossiers.transfer(dossier, "Thẩm định", "canbo2")
    return dossier


def test_tracking_api_and_page_show_status_and_never_secrets(client, app):
    dossier = received(app)
    response = client.get(f"/api/v1/tracking/{dossier.code}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    data = response.get_json()
    assert data["status_label"] == "Đang xử lý" and data["stage"] == "Thẩm định" and data["applicant"] == "N***** V** An"
    assert [h["action"] for h in data["history"]] == ["Tiếp nhận hồ sơ", "Chuyển xử lý"]
    page = client.get(f"/tracking?code={dossier.code}").get_data(as_text=True)
    assert "Đang xử lý" in page and "17:00 05/03/2026" in page
    for secret in SECRETS:
        assert secret not in body and secret not in page


def test_unknown_code_and_rate_limit(client, app):
    assert client.get("/api/v1/tracking/000-000000-0000").get_json()["error"] == "Không tìm thấy hồ sơ với mã này."
    assert "Không tìm thấy hồ sơ" in client.get("/tracking?code=khong-co").get_data(as_text=True)
    statuses = [client.get("/api/v1/tracking/x").status_code for _ in range(40)]
    assert statuses.count(429) >= 8 and "quá nhiều lần" in client.get("/api/v1/tracking/x").get_json()["error"]
