"""A citizen proves a phone with a one-time code sent through the outbox to the (fake) SMS gateway,
then consents (Decree 13/2023) before anything is booked or submitted."""
import logging
from datetime import timedelta

import pytest

from central.phone_codes import MAX_TRIES, PhoneCode, check_code, send_code
from central.tasks import run_notifications
from office.clock import utcnow
from office.errors import MotcuaError

from .citizen_hub import hub, sent_codes, sms, token  # noqa: F401  (fixtures)

PHONE = "0912345678"


def ask_code(client, phone, address="10.0.0.1"):
    return client.post("/cong-dan/dang-nhap", data={"phone": phone, "csrf_token": token(client, "/cong-dan/dang-nhap")},
                       environ_base={"REMOTE_ADDR": address})


def deliver(app):
    run_notifications(app.extensions["hub"].settings)


def test_code_from_the_sms_signs_in_and_consent_comes_first(hub, sms, caplog):
    caplog.set_level(logging.INFO)
    client = hub.test_client()
    assert client.get("/cong-dan/dat-lich").headers["Location"].startswith("/cong-dan/dang-nhap")
    answer = ask_code(client, "+84 912.345.678")
    assert answer.status_code == 303 and "/cong-dan/dang-nhap/ma" in answer.headers["Location"]
    deliver(hub)
    [(recipient, code)] = sent_codes(sms)
    assert recipient == "84912345678"
    page = client.get("/cong-dan/dang-nhap/ma").get_data(as_text=True)
    assert "09******78" in page and PHONE not in page
    wrong = "000000" if code != "000000" else "111111"
    answer = client.post("/cong-dan/dang-nhap/ma", data={"code": wrong, "csrf_token": token(client, "/cong-dan/dang-nhap/ma")})
    assert answer.status_code == 400 and f"còn {MAX_TRIES - 1} lần thử" in answer.get_data(as_text=True)
    answer = client.post("/cong-dan/dang-nhap/ma", data={"code": code, "csrf_token": token(client, "/cong-dan/dang-nhap/ma")})
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/cong-dan/dong-y")
    # no consent, no booking: every citizen page but the consent sends there
    assert client.get("/cong-dan/dat-lich").headers["Location"].startswith("/cong-dan/dong-y")
    consent = client.get("/cong-dan/dong-y").get_data(as_text=True)
    for words in ("Nghị định số 13/2023/NĐ-CP", "Giữ trong bao lâu", "Ai được xem", "rút lại sự đồng ý"):
        assert words in consent
    refused = client.post("/cong-dan/dong-y", data={"csrf_token": token(client, "/cong-dan/dong-y")})
    assert refused.status_code == 400 and "Tôi đồng ý" in refused.get_data(as_text=True)
    agreed = client.post("/cong-dan/dong-y", data={"agree": "2025-1", "csrf_token": token(client, "/cong-dan/dong-y")})
    assert agreed.status_code == 303
    with hub.app_context():
        from central.citizens import Citizen

        citizen = Citizen.get(Citizen.phone == PHONE)
        assert citizen.consent_version == "2025-1" and citizen.consent_at is not None
    assert client.get("/cong-dan/").status_code == 200
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("motcua"))
    with hub.app_context():  # nor on the operators' page of messages sent
        from tests.central.hub_accounts import make_account, sign_in

        make_account("ops")
        operator = hub.test_client()
        sign_in(operator, "ops")
        sent = operator.get("/notifications?purpose=citizen_code").get_data(as_text=True)
        assert "Ma xac thuc cong dan cua quy khach: ******" in sent and code not in sent
    assert code not in logged and PHONE not in logged and "09******78" in logged
    # withdrawing consent signs out and ends the consent
    client.post("/cong-dan/rut-dong-y", data={"csrf_token": token(client, "/cong-dan/")})
    with hub.app_context():
        assert Citizen.get(Citizen.phone == PHONE).consent_at is None
    assert client.get("/cong-dan/").status_code == 302


def test_bad_phone_is_refused_with_the_input_kept(hub):
    client = hub.test_client()
    answer = ask_code(client, "12345")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "Số điện thoại di động không hợp lệ" in page and 'value="12345"' in page


def test_code_expires_and_five_wrong_tries_end_it(hub, monkeypatch):
    codes = iter([123456, 654321, 111222])
    monkeypatch.setattr("central.phone_codes.secrets.randbelow", lambda n: next(codes))
    secret, now = "s" * 32, utcnow()
    with hub.app_context():
        row = send_code(PHONE, "1.1.1.1", secret, 5, now=now)
        code = _code_of(row, secret)
        with pytest.raises(MotcuaError, match="hết hạn"):
            check_code(PHONE, code, secret, now=now + timedelta(minutes=5, seconds=1))
        row = send_code(PHONE, "1.1.1.1", secret, 5, now=now)
        code = _code_of(row, secret)
        wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
        for left in range(MAX_TRIES - 1, -1, -1):
            with pytest.raises(MotcuaError, match="Mã không đúng"):
                check_code(PHONE, wrong, secret, now=now)
        with pytest.raises(MotcuaError, match=f"Đã nhập sai {MAX_TRIES} lần"):
            check_code(PHONE, code, secret, now=now)  # the right code, too late
        row = send_code(PHONE, "1.1.1.1", secret, 5, now=now)
        assert check_code(PHONE, _code_of(row, secret), secret, now=now) is True
        with pytest.raises(MotcuaError):  # used once
            check_code(PHONE, _code_of(row, secret), secret, now=now)
        assert all(len(r.code_hash) == 64 for r in PhoneCode.select())  # kept hashed, never as typed


def _code_of(row, secret):
    """The code of ``row`` among the ones the test made the hub draw (checked against its hash)."""
    from central.phone_codes import _digest

    return next(c for c in ("123456", "654321", "111222") if _digest(secret, row.phone, c) == row.code_hash)


def test_codes_are_limited_per_number_and_per_address(hub, sms):
    client = hub.test_client()
    assert [ask_code(client, PHONE).status_code for _ in range(4)] == [303, 303, 303, 429]
    refused = ask_code(client, PHONE)
    assert "Đã gửi mã cho số điện thoại này nhiều lần" in refused.get_data(as_text=True)
    # one address asking for many numbers: 10 in 15 minutes (the 4 above were from it too)
    codes = [ask_code(client, f"09123400{n:02d}").status_code for n in range(8)]
    assert codes == [303] * 7 + [429]  # 3 + 7: the refused fourth one was not counted
    assert ask_code(client, "0912340099", address="10.0.0.2").status_code == 303  # another address
    deliver(hub)
    assert len(sent_codes(sms)) == 3 + 7 + 1


def test_a_demonstration_hub_sends_codes_on_the_log_channel(hub):
    """The demo has no SMS gateway: with ``citizen_code_channel = log`` the code goes to the log channel
    (shown in the demo's window), so a citizen's pages can be tried; the default stays SMS."""
    from central.outbox import Outbox
    from motcua.settings import SETTINGS

    assert {s.name: s.default for s in SETTINGS}["citizen_code_channel"] == "sms"
    with hub.app_context():
        send_code(PHONE, "127.0.0.1", "secret", 5, channel="log")
        assert [m.channel for m in Outbox.select()] == ["log"]
