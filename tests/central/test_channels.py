"""Each gateway adapter against a fake gateway on 127.0.0.1: the exact request it makes, and
which failures are worth retrying."""
import email
import socket
from email import policy

import pytest

from central.channels import Permanent, Retryable, adapter, request_id
from central.outbox import Outbox
from motcua.settings import load_settings

from .fakes import FakeSms, FakeSmtp, FakeZalo

KEY = "N1|sms|84912345678"


@pytest.fixture
def sms():
    gateway = FakeSms().start()
    yield gateway
    gateway.stop()


@pytest.fixture
def zalo():
    gateway = FakeZalo().start()
    yield gateway
    gateway.stop()


def config(tmp_path, **values):
    return load_settings("hub", environ={}, overrides={"data_dir": str(tmp_path), **values})


def sms_config(tmp_path, gateway, **values):
    values = {"sms_url": gateway.url, "sms_api_key": "AK", "sms_secret_key": "SK", "sms_brandname": "UBND-SONGCONG",
              "notify_timeout": 2.0, **values}
    return config(tmp_path, **values)


def message(channel="sms", recipient="84912345678", text="Ho so 000.19.05518-260302-0001 da co ket qua.", **more):
    return Outbox(key=f"N1|{channel}|{recipient}", channel=channel, recipient=recipient, text=text, **more)


def test_request_id_is_stable_and_per_message():
    assert request_id(KEY) == request_id(KEY) and len(request_id(KEY)) == 32
    assert request_id(KEY) != request_id("N2|sms|84912345678")


def test_sms_posts_the_esms_body_and_returns_smsid(tmp_path, sms):
    ref = adapter("sms")(message(), sms_config(tmp_path, sms))
    assert ref == "sms-1"
    [request] = sms.requests
    assert request["path"] == "/send" and request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == {
        "ApiKey": "AK", "SecretKey": "SK", "Phone": "84912345678",
        "Content": "Ho so 000.19.05518-260302-0001 da co ket qua.", "Brandname": "UBND-SONGCONG",
        "SmsType": "2", "IsUnicode": "0", "RequestId": request_id(KEY),
    }


def test_sms_resend_of_a_taken_request_id_counts_as_sent(tmp_path, sms):
    settings = sms_config(tmp_path, sms)
    adapter("sms")(message(), settings)
    ref = adapter("sms")(message(), settings)  # the gateway answers 124: it has it already
    assert ref == f"RequestId {request_id(KEY)}"
    assert len(sms.delivered) == 1 and len(sms.requests) == 2
    assert sms.requests[0]["body"]["RequestId"] == sms.requests[1]["body"]["RequestId"]


def test_sms_unicode_when_ascii_is_off(tmp_path, sms):
    adapter("sms")(message(text="Hồ sơ đã có kết quả"), sms_config(tmp_path, sms, sms_ascii=False))
    assert sms.requests[0]["body"]["IsUnicode"] == "1" and sms.requests[0]["body"]["Content"] == "Hồ sơ đã có kết quả"


@pytest.mark.parametrize("status, answer, kind", [
    (500, {"error": "boom"}, Retryable),
    (503, {}, Retryable),
    (429, {}, Retryable),
    (400, {"error": "Invalid request"}, Permanent),
    (403, {}, Permanent),
    (200, {"CodeResult": "101", "ErrorMessage": "Authorize Failed"}, Permanent),
    (200, {"CodeResult": "104", "ErrorMessage": "Brand name code is not exist"}, Permanent),
    (200, {"CodeResult": "108", "ErrorMessage": "Phone invalid"}, Permanent),
    (200, {"CodeResult": "103", "ErrorMessage": "Not enough balance"}, Retryable),
])
def test_sms_failures_are_sorted(tmp_path, sms, status, answer, kind):
    sms.script.append((status, answer, 0))
    with pytest.raises(kind):
        adapter("sms")(message(), sms_config(tmp_path, sms))


def test_sms_timeout_and_refused_connection_are_retryable(tmp_path, sms):
    sms.script.append((200, {"CodeResult": "100", "SMSID": "late"}, 1.5))
    with pytest.raises(Retryable, match="không trả lời"):
        adapter("sms")(message(), sms_config(tmp_path, sms, notify_timeout=0.3))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/send"
    with pytest.raises(Retryable, match="Không kết nối"):
        adapter("sms")(message(), sms_config(tmp_path, sms, sms_url=closed))


def test_sms_without_account_is_permanent(tmp_path, sms):
    with pytest.raises(Permanent, match="sms_api_key"):
        adapter("sms")(message(), config(tmp_path, sms_url=sms.url))
    assert sms.requests == []


def zalo_config(tmp_path, gateway, **values):
    return config(tmp_path, **{"zalo_url": gateway.url, "zalo_access_token": "TOKEN-1", "notify_timeout": 2.0, **values})


def zns_message():
    import json

    fields = {"ten_nguoi_dan": "Nguyễn Văn An", "ma_ho_so": "000.19.05518-260302-0001", "trang_thai": "Được tiếp nhận"}
    return Outbox(key="N1|zalo|84912345678", channel="zalo", recipient="84912345678", text="...", template="123456",
                  purpose="dossier_received", fields=json.dumps(fields, ensure_ascii=False))


def test_zalo_posts_template_fields_with_access_token(tmp_path, zalo):
    ref = adapter("zalo")(zns_message(), zalo_config(tmp_path, zalo))
    assert ref == "zns-1"
    [request] = zalo.requests
    assert request["headers"]["access_token"] == "TOKEN-1"
    assert request["body"] == {
        "phone": "84912345678", "template_id": "123456",
        "template_data": {"ten_nguoi_dan": "Nguyễn Văn An", "ma_ho_so": "000.19.05518-260302-0001",
                          "trang_thai": "Được tiếp nhận"},
        "tracking_id": request_id("N1|zalo|84912345678"),
    }


@pytest.mark.parametrize("answer, kind", [
    ({"error": -100, "message": "Unknown error"}, Retryable),
    ({"error": -108, "message": "Phone number invalid"}, Permanent),
    ({"error": -109, "message": "Template ID invalid"}, Permanent),
])
def test_zalo_error_codes(tmp_path, zalo, answer, kind):
    zalo.script.append((200, answer, 0))
    with pytest.raises(kind):
        adapter("zalo")(zns_message(), zalo_config(tmp_path, zalo))


def test_zalo_needs_a_template_and_a_token(tmp_path, zalo):
    no_template = zns_message()
    no_template.template = ""
    with pytest.raises(Permanent, match="mẫu ZNS"):
        adapter("zalo")(no_template, zalo_config(tmp_path, zalo))
    with pytest.raises(Permanent, match="zalo_access_token"):
        adapter("zalo")(zns_message(), config(tmp_path, zalo_url=zalo.url))
    assert zalo.requests == []


@pytest.fixture
def smtp():
    server = FakeSmtp().start()
    yield server
    server.stop()


def test_email_over_smtp_with_login_and_stable_message_id(tmp_path, smtp):
    settings = config(tmp_path, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False, smtp_user="motcua",
                      smtp_password="pw-1", smtp_sender="motcua@songcong.gov.vn", notify_timeout=5.0)
    mail = message("email", "lan.nguyen@example.vn", "Hồ sơ 000.19.05518-260302-0001 đã có kết quả.",
                   subject="Hồ sơ đã có kết quả")
    ref = adapter("email")(mail, settings)
    [got] = smtp.mails
    assert got["from"] == "motcua@songcong.gov.vn" and got["to"] == ["lan.nguyen@example.vn"]
    assert got["auth"] == [b"motcua", b"pw-1"]
    parsed = email.message_from_bytes(got["data"], policy=policy.default)
    message_id = f"<{request_id('N1|email|lan.nguyen@example.vn')}@songcong.gov.vn>"
    assert ref == message_id and parsed["Message-ID"] == message_id
    assert parsed["Subject"] == "Hồ sơ đã có kết quả" and parsed["To"] == "lan.nguyen@example.vn"
    assert parsed.get_content().strip() == "Hồ sơ 000.19.05518-260302-0001 đã có kết quả."


def test_email_unreachable_server_is_retryable_and_unconfigured_permanent(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = config(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_sender="a@b.vn", notify_timeout=2.0)
    with pytest.raises(Retryable):
        adapter("email")(message("email", "x@example.vn"), settings)
    with pytest.raises(Permanent, match="smtp_host"):
        adapter("email")(message("email", "x@example.vn"), config(tmp_path))


def test_log_channel_always_succeeds(tmp_path, caplog):
    caplog.set_level("INFO", logger="motcua.hub.notify")
    ref = adapter("log")(message("log"), config(tmp_path))
    assert ref == f"log-{request_id('N1|log|84912345678')}"
    assert "84*******78" in caplog.text and "84912345678" not in caplog.text and "da co ket qua" in caplog.text
