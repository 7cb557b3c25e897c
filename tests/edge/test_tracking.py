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
    response = client.get(f"/api/v1/tracking/{dossier.code}?secret={dossier.tracking_secret}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    data = response.get_json()
    assert data["status_label"] == "Đang xử lý" and data["stage"] == "Thẩm định" and data["applicant"] == "N***** V** An"
    assert [h["action"] for h in data["history"]] == ["Tiếp nhận hồ sơ", "Chuyển xử lý"]
    page = client.get(f"/tracking?code={dossier.code}&secret={dossier.tracking_secret.lower()}").get_data(as_text=True)
    assert "Đang xử lý" in page and "17:00 05/03/2026" in page
    for secret in SECRETS:
        assert secret not in body and secret not in page


def test_unknown_code_and_rate_limit(client, app):
    assert client.get("/api/v1/tracking/000-000000-0000").get_json()["error"] == "Không tìm thấy hồ sơ với mã này."
    assert "Không tìm thấy hồ sơ" in client.get("/tracking?code=khong-co").get_data(as_text=True)
    statuses = [client.get("/api/v1/tracking/x").status_code for _ in range(40)]
    assert statuses.count(429) >= 8 and "quá nhiều lần" in client.get("/api/v1/tracking/x").get_json()["error"]


def test_sequential_codes_without_the_secret_tell_only_found(client, app):
    dossier = received(app)
    others = [dossiers.receive(WorkCalendar(), Procedure.get_by_id("p-ks"), {"name": f"Trần Thị Bình {n}"},
                               "000.19.05518", now=datetime(2026, 3, 2, 10 + n)) for n in range(3)]
    for code in [dossier.code] + [d.code for d in others]:  # one after another, as a guesser would
        for secret in ("", "?secret=AAAAAA", f"?secret={dossier.tracking_secret}" if code != dossier.code else ""):
            answer = client.get(f"/api/v1/tracking/{code}{secret}")
            assert answer.status_code == 200 and answer.get_json() == {"code": code, "found": True, "verified": False}
        page = client.get(f"/tracking?code={code}").get_data(as_text=True)
        assert f"Có hồ sơ mã <b>{code}</b>" in page and "mã bí mật" in page
        for hidden in ("Đăng ký khai sinh", "Đang xử lý", "Tiếp nhận hồ sơ", "Thẩm định", "T*** T** Bình", "N***** V** An"):
            assert hidden not in page
    assert "Mã bí mật không đúng" in client.get(f"/tracking?code={dossier.code}&secret=AAAAAA").get_data(as_text=True)


def test_clients_behind_a_trusted_proxy_are_limited_apart(client, app, settings):
    received(app)
    settings["trusted_proxies"] = 1

    def status(forwarded):
        return client.get("/api/v1/tracking/x", headers={"X-Forwarded-For": forwarded},
                          environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code  # the proxy

    assert [status("203.0.113.7") for _ in range(31)].count(429) == 1
    assert status("203.0.113.8") == 404  # another citizen behind the same proxy
    assert status("1.2.3.4, 203.0.113.7") == 429  # what the client wrote on the left is not trusted


def test_the_tracking_limit_is_shared_by_web_processes(client, app, settings):
    from edge.app import create_app

    other = create_app(settings, tasks={}).test_client()  # another web process on the same database
    statuses = [c.get("/api/v1/tracking/x").status_code for _ in range(20) for c in (client, other)]
    assert statuses.count(404) == 30 and statuses.count(429) == 10
