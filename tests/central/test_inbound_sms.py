"""A citizen texts a code to the office's number: the gateway posts it to the hub, which
answers with the dossier's or ticket's status and queues one SMS reply per incoming text."""
from datetime import datetime

import pytest

from central.app import create_app
from central.outbox import Outbox
from motcua.settings import load_settings
from office.db import database
from office.dossiers import Dossier
from office.models import Service, Ticket
from sync.capture import applying_remote

TOKEN = "mo-secret-1"
CODE = "000.19.05518-260302-0001"
SECRET = "K7PX3M"


@pytest.fixture
def app(tmp_path):
    settings = load_settings("hub", environ={}, overrides={
        "data_dir": str(tmp_path), "operator_password": "pw", "sms_inbound_token": TOKEN})
    application = create_app(settings)
    application.config["TESTING"] = True
    Dossier.create(commune="05518", code=CODE, procedure_code="1.001193", procedure_name="Đăng ký khai sinh",
                   applicant_name="Nguyễn Văn An", applicant_phone="0912345678", applicant_id_number="001099012345",
                   status=4, stage="Thẩm định hồ sơ", received_at=datetime(2026, 3, 2, 8, 30),
                   due_at=datetime(2099, 3, 5, 17, 0), tracking_secret=SECRET)
    with applying_remote():  # box-owned rows, as a box's batch brings them
        Service.insert(id="S1", commune="05518", code="ho-tich", name="Hộ tịch", prefix="A").execute()
        Ticket.insert(id="T1", commune="05518", day="2026-11-23", prefix="A", seq=12, number="A-012", service="S1",
                      tracking_code="7KQ2M9XD", issued_at=datetime(2026, 11, 23, 1),
                      queued_at=datetime(2026, 11, 23, 1)).execute()
    yield application
    database.close()


@pytest.fixture
def client(app):
    return app.test_client()


def post(client, body, token=TOKEN, **kwargs):
    return client.post(f"/api/v1/sms/inbound?token={token}" if token else "/api/v1/sms/inbound", json=body, **kwargs)


def test_known_dossier_code_gets_its_status_without_personal_data(client):
    response = post(client, {"Phone": "0912345678", "Content": "tracuu 000.19.05518-260302-0001 k7px3m ", "Id": "mo-1"})
    assert response.status_code == 200
    reply = ("Ho so 000.19.05518-260302-0001 (Dang ky khai sinh): Dang xu ly, buoc: Tham dinh ho so. "
             "Hen tra 17:00 05/03/2099.")
    assert response.get_json() == {"ok": True, "reply": reply, "queued": True}
    [message] = Outbox.select()
    assert (message.channel, message.recipient, message.purpose, message.text) == ("sms", "84912345678", "sms_reply", reply)
    assert "An" not in reply.split() and "001099012345" not in reply and "0912345678" not in reply


def test_dossier_code_without_its_secret_says_only_found(client):
    for n, typed in enumerate((f"TRACUU {CODE}", f"TRACUU {CODE} AAAAAA")):
        reply = post(client, {"Phone": "0987654321", "Content": typed, "Id": f"mo-s{n}"}).get_json()["reply"]
        assert reply == (f"Ho so {CODE} da duoc tiep nhan. De xem tinh trang, soan TRACUU {CODE} <ma bi mat> "
                         "(ma 6 ky tu in tren giay hen).")
        assert "Dang xu ly" not in reply and "Tham dinh" not in reply and "khai sinh" not in reply


def test_ticket_code_in_lower_case_with_spaces(client):
    response = post(client, {"From": "84987654321", "Text": "7kq2 m9xd", "id": "mo-2"})
    assert response.get_json()["reply"] == "So thu tu A-012 ngay 23/11/2026: dang cho goi."


def test_unknown_code(client):
    response = post(client, {"Phone": "0987654321", "Content": "TRACUU XYZ-1", "Id": "mo-3"})
    assert response.get_json()["reply"] == ("Khong tim thay ho so hoac so thu tu co ma XYZ-1. "
                                            "Soan TRACUU <ma ho so> <ma bi mat> tren giay hen, hoac ma tra cuu "
                                            "tren phieu so thu tu, "
                                            "de xem tinh trang.")
    assert Outbox.get().recipient == "84987654321"


def test_bad_or_missing_token_is_refused(client, app):
    assert post(client, {"Phone": "0912345678", "Content": CODE, "Id": "mo-4"}, token="wrong").status_code == 403
    assert post(client, {"Phone": "0912345678", "Content": CODE, "Id": "mo-4"}, token=None).status_code == 403
    assert client.post("/api/v1/sms/inbound", json={"Phone": "0912345678", "Content": CODE, "Id": "mo-4"},
                       headers={"X-Motcua-Token": TOKEN}).status_code == 200
    app.extensions["hub"].settings["sms_inbound_token"] = ""  # unset: nobody may post
    assert client.post("/api/v1/sms/inbound", json={"Phone": "0912345678", "Content": CODE, "Id": "mo-5"},
                       headers={"X-Motcua-Token": ""}).status_code == 403
    assert Outbox.select().count() == 1


def test_the_same_incoming_text_twice_queues_one_reply(client):
    body = {"Phone": "0912345678", "Content": CODE, "Id": "mo-6"}
    assert post(client, body).get_json()["queued"] is True
    again = post(client, body)
    assert again.status_code == 200 and again.get_json()["queued"] is False and again.get_json()["reply"]
    assert Outbox.select().count() == 1


def test_form_encoded_gateway_and_rate_limit_per_phone(client):
    for n in range(10):
        response = client.post(f"/api/v1/sms/inbound?token={TOKEN}", data={"Phone": "0911111111", "Content": CODE,
                                                                            "Id": f"f-{n}"})
        assert response.get_json()["queued"] is True
    limited = client.post(f"/api/v1/sms/inbound?token={TOKEN}", data={"Phone": "0911111111", "Content": CODE, "Id": "f-x"})
    assert limited.get_json() == {"ok": True, "reply": "", "queued": False, "limited": True}
    other = post(client, {"Phone": "0922222222", "Content": CODE, "Id": "f-y"})  # another phone is not limited
    assert other.get_json()["queued"] is True
    assert Outbox.select().count() == 11


def test_missing_sender_or_id_is_a_clear_400(client):
    assert post(client, {"Content": CODE, "Id": "z"}).status_code == 400
    response = post(client, {"Phone": "0912345678", "Content": CODE})
    assert response.status_code == 400 and response.get_json()["ok"] is False and "id" in response.get_json()["error"]


@pytest.mark.parametrize("typed, code", [
    ("TRACUU 000.19.05518-260302-0001", "000.19.05518-260302-0001"),
    ("TRACUU 000.19.05518-260302-0001 k7px3m", "000.19.05518-260302-0001 K7PX3M"),
    ("tra cuu: 000.19.05518-260302-0001", "000.19.05518-260302-0001"),
    ("  7kq2 m9xd ", "7KQ2M9XD"),
    ("TC3X9ABC", "TC3X9ABC"),  # a ticket code that starts like a keyword is left whole
    ("", ""),
])
def test_what_a_citizen_typed(typed, code):
    from central.sms_query import parse_code

    assert parse_code(typed) == code
