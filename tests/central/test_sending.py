"""Notices become outbox messages once; the sender claims, sends, backs off, gives up, and
resends what a dead worker left, with the same request id."""
import json
import threading
from datetime import datetime, timedelta

import pytest

from central.app import HUB_MODELS
from central.channels import request_id
from central.dispatch import LogCursor, dispatch
from central.models import Alert
from central.outbox import Outbox, enqueue
from central.sending import backoff, release_stale, retry_now, send_due
from motcua.settings import load_settings
from office.db import bind, database, open_database
from office.notices import notify
from provisioning.identity import ensure_hub_identity

from .fakes import FakeSms

T0 = datetime(2026, 11, 23, 2, 0)
FIELDS = {"ten_nguoi_dan": "Nguyễn Văn An", "ma_ho_so": "000.19.05518-260302-0001", "thu_tuc": "Đăng ký khai sinh",
          "trang_thai": "Được tiếp nhận", "ngay_hen": "17:00 05/03/2026", "ghi_chu": ""}


@pytest.fixture
def hub_db(tmp_path):
    db = bind(open_database(str(tmp_path / "hub.db")), HUB_MODELS)
    ensure_hub_identity(str(tmp_path))
    yield db
    db.close()


@pytest.fixture
def sms():
    gateway = FakeSms().start()
    yield gateway
    gateway.stop()


def settings_for(tmp_path, gateway=None, **values):
    base = {"data_dir": str(tmp_path), "notify_timeout": 2.0}
    if gateway is not None:
        base.update(sms_url=gateway.url, sms_api_key="AK", sms_secret_key="SK", sms_brandname="UBND-SONGCONG")
    return load_settings("hub", environ={}, overrides={**base, **values})


def states():
    return [(m.state, m.attempts) for m in Outbox.select().order_by(Outbox.id)]


# --- dispatch ----------------------------------------------------------------------------------------------------

def test_each_notice_becomes_one_message_per_channel(hub_db, tmp_path):
    settings = settings_for(tmp_path, citizen_channels="sms,zalo,log", zalo_templates="dossier_received=7001")
    notify("05518", "dossier_received", "E1", "0912 345 678", FIELDS)
    notify("05518", "dossier_ready", "E2", "0912345678", dict(FIELDS, trang_thai="Đã xử lý xong"))
    notify("05518", "dossier_received", "E3", "12345", FIELDS)  # no mobile number
    assert dispatch(settings) == {"notices": 3, "queued": 5, "skipped": 1, "stale": 0}
    rows = {(m.purpose, m.channel): m for m in Outbox.select()}
    assert set(rows) == {("dossier_received", "sms"), ("dossier_received", "zalo"), ("dossier_received", "log"),
                         ("dossier_ready", "sms"), ("dossier_ready", "log")}  # no ZNS template for "ready"
    sms, zalo, log = rows["dossier_received", "sms"], rows["dossier_received", "zalo"], rows["dossier_received", "log"]
    assert {m.recipient for m in rows.values()} == {"84912345678"}
    assert sms.text == ("UBND Phuong Song Cong da tiep nhan ho so 000.19.05518-260302-0001 (Dang ky khai sinh). "
                        "Hen tra ket qua 17:00 05/03/2026. Tra cuu bang ma ho so.")
    assert log.text == ("UBND Phường Sông Công đã tiếp nhận hồ sơ 000.19.05518-260302-0001 (Đăng ký khai sinh). "
                        "Hẹn trả kết quả 17:00 05/03/2026. Tra cứu bằng mã hồ sơ.")
    assert zalo.template == "7001" and zalo.values["ten_nguoi_dan"] == "Nguyễn Văn An" and sms.commune == "05518"
    assert LogCursor.get().skipped == 1
    # nothing new: nothing queued; a cursor set back queues nothing twice either
    assert dispatch(settings) == {"notices": 0, "queued": 0, "skipped": 0, "stale": 0}
    LogCursor.update(position=0).execute()
    assert dispatch(settings)["queued"] == 0 and Outbox.select().count() == 5


def test_a_message_names_a_phuong_a_phuong_and_a_xa_a_xa(hub_db, tmp_path):
    """An SMS said “UBND xã” for Phường Sông Công: the commune's unit is taken from the national list."""
    notify("05518", "dossier_received", "E1", "0912345678", FIELDS)  # Phường Sông Công
    notify("01849", "dossier_ready", "E2", "0912345678", FIELDS)  # Xã Phong Quang
    notify("06994", "dossier_received", "E3", "0912345678", FIELDS)  # Đặc khu Vân Đồn
    dispatch(settings_for(tmp_path, citizen_channels="log"))
    texts = [m.text for m in Outbox.select().order_by(Outbox.id)]
    assert texts[0].startswith("UBND Phường Sông Công đã tiếp nhận hồ sơ")
    assert "đến bộ phận một cửa UBND Xã Phong Quang nhận kết quả" in texts[1]
    assert texts[2].startswith("UBND Đặc khu Vân Đồn đã tiếp nhận hồ sơ")
    assert all("UBND xã đã" not in t for t in texts)


def test_a_long_note_is_cut_to_two_sms_segments(hub_db, tmp_path):
    notify("05518", "dossier_supplement", "E9", "0912345678", dict(FIELDS, ghi_chu="Giấy chứng sinh bản chính " * 20))
    dispatch(settings_for(tmp_path, citizen_channels="sms,log"))
    sms, log = Outbox.get(Outbox.channel == "sms"), Outbox.get(Outbox.channel == "log")
    assert len(sms.text) == 306 and sms.text.startswith("Ho so 000.19.05518-260302-0001 can bo sung: Giay chung sinh")
    assert sms.text.endswith("...") and sms.text.isascii() and len(log.text) > 500  # the log keeps it whole


def test_a_late_turn_near_notice_is_dropped(hub_db, tmp_path):
    turn = {"so_thu_tu": "A-012", "quay": "2", "so_luot_truoc": "3"}
    notify("05518", "turn_near", "T-old", "0912345678", turn, now=T0)
    notify("05518", "turn_near", "T-new", "0912345679", dict(turn, so_thu_tu="A-013"), now=T0 + timedelta(minutes=50))
    counts = dispatch(settings_for(tmp_path, citizen_channels="sms"), now=T0 + timedelta(minutes=60))
    assert counts == {"notices": 2, "queued": 1, "skipped": 0, "stale": 1}
    assert Outbox.get().text == "So A-013 cua ong/ba sap den luot (con 3 nguoi truoc). Vui long co mat gan quay 2."


def test_dispatch_follows_the_log_in_pages(hub_db, tmp_path):
    settings = settings_for(tmp_path, citizen_channels="log")
    for n in range(7):
        notify("05518", "dossier_ready", f"E{n}", f"091234567{n}", FIELDS)
    assert dispatch(settings, limit=3)["queued"] == 3
    assert dispatch(settings, limit=3)["queued"] == 3
    assert dispatch(settings, limit=3)["queued"] == 1
    assert Outbox.select().count() == 7


# --- sending -----------------------------------------------------------------------------------------------------

def queue_sms(n=1, now=T0):
    for i in range(n):
        enqueue(f"E{i}", "sms", f"8491234500{i}", f"tin {i}", purpose="dossier_ready", commune="05518", now=now)


def test_backoff_doubles_from_30_seconds_to_one_hour():
    assert [backoff(n).total_seconds() for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_sent_once_with_provider_ref(hub_db, tmp_path, sms):
    settings = settings_for(tmp_path, sms)
    queue_sms(2)
    assert send_due(settings, now=T0) == {"sent": 2, "retry": 0, "failed": 0}
    first = Outbox.get(Outbox.key == "E0|sms|84912345000")
    assert (first.state, first.provider_ref, first.sent_at, first.attempts) == ("sent", "sms-1", T0, 1)
    assert sms.bodies()[0]["RequestId"] == request_id(first.key) and sms.bodies()[0]["Phone"] == "84912345000"
    assert send_due(settings, now=T0 + timedelta(hours=1)) == {"sent": 0, "retry": 0, "failed": 0}
    assert len(sms.requests) == 2  # sent rows are never sent again


def test_retry_after_500_on_the_backoff_schedule(hub_db, tmp_path, sms):
    settings = settings_for(tmp_path, sms)
    queue_sms()
    sms.script += [(500, {"error": "down"}, 0), (502, {}, 0)]
    assert send_due(settings, now=T0)["retry"] == 1
    message = Outbox.get()
    assert (message.state, message.attempts, message.next_at) == ("pending", 1, T0 + timedelta(seconds=30))
    assert "HTTP 500" in message.last_error
    assert send_due(settings, now=T0 + timedelta(seconds=29)) == {"sent": 0, "retry": 0, "failed": 0}
    assert send_due(settings, now=T0 + timedelta(seconds=30))["retry"] == 1
    assert Outbox.get().next_at == T0 + timedelta(seconds=30 + 60)
    assert send_due(settings, now=T0 + timedelta(seconds=90))["sent"] == 1
    assert states() == [("sent", 3)] and len(sms.delivered) == 1
    assert len({b["RequestId"] for b in sms.bodies()}) == 1  # every attempt the same RequestId


def test_retry_after_timeout(hub_db, tmp_path, sms):
    settings = settings_for(tmp_path, sms, notify_timeout=0.3)
    queue_sms()
    sms.script.append((200, None, 1.5))  # takes the message, answers after the client gave up
    assert send_due(settings, now=T0)["retry"] == 1
    assert "không trả lời trong 0.3 giây" in Outbox.get().last_error
    assert send_due(settings, now=T0 + timedelta(seconds=30))["sent"] == 1
    message = Outbox.get()
    # the gateway took the first (timed-out) request: the resend's RequestId was refused as a duplicate
    assert message.state == "sent" and message.provider_ref == f"RequestId {request_id(message.key)}"
    assert len(sms.delivered) == 1 and len(sms.requests) == 2


def test_failed_after_max_attempts_with_an_alert_and_retry_now(hub_db, tmp_path, sms):
    settings = settings_for(tmp_path, sms, notify_max_attempts=3)
    queue_sms()
    sms.script += [(500, {}, 0)] * 3
    now = T0
    for _ in range(3):
        send_due(settings, now=now)
        now += timedelta(hours=1)
    assert states() == [("failed", 3)]
    alert = Alert.get()
    assert alert.kind == "notify_failed" and alert.origin == "05518"
    assert "84912***000" in alert.message and "sau 3 lần" in alert.message and "84912345000" not in alert.message
    assert send_due(settings, now=now + timedelta(days=1))["sent"] == 0  # failed stays failed
    assert retry_now(Outbox.get().id, now=now) and not retry_now(Outbox.get().id, now=now)
    assert send_due(settings, now=now)["sent"] == 1 and states() == [("sent", 1)]


def test_client_error_is_permanent_at_once(hub_db, tmp_path, sms):
    settings = settings_for(tmp_path, sms)
    queue_sms()
    sms.script.append((400, {"error": "bad"}, 0))
    assert send_due(settings, now=T0)["failed"] == 1
    assert states() == [("failed", 1)] and "bị từ chối" in Alert.get().message


def test_a_message_left_sending_is_resent_after_the_lease_with_the_same_request_id(hub_db, tmp_path, sms):
    settings = settings_for(tmp_path, sms, notify_lease_seconds=600)
    queue_sms()
    message = Outbox.get()
    # a worker claimed it, the gateway took it, and the worker died before recording the answer
    Outbox.update(state="sending", claimed_at=T0).execute()
    sms.answer({"RequestId": request_id(message.key), "Phone": message.recipient})
    assert send_due(settings, now=T0 + timedelta(minutes=9))["sent"] == 0  # within the lease: left alone
    assert release_stale(600, now=T0 + timedelta(minutes=9)) == 0
    assert send_due(settings, now=T0 + timedelta(minutes=11))["sent"] == 1
    assert sms.bodies()[0]["RequestId"] == request_id(message.key)
    assert len(sms.delivered) == 1 and Outbox.get().state == "sent"


def test_enqueue_keeps_its_signature_for_reminders(hub_db):
    assert enqueue("reminder:2026-11-23T08:00:canbo1", "email", "lan@example.vn", "3 hồ sơ sắp đến hạn",
                   purpose="reminder", commune="05518", subject="Nhắc việc", now=T0)
    assert not enqueue("reminder:2026-11-23T08:00:canbo1", "email", "lan@example.vn", "again", purpose="reminder")
    assert json.loads(Outbox.get().fields) == {}


# --- two senders on PostgreSQL --------------------------------------------------------------------------------------

@pytest.fixture
def pg_hub(tmp_path):
    from tests.sync.conftest import drop_schema, postgres_schema

    name, url = postgres_schema()
    db = bind(open_database(url), HUB_MODELS)
    yield db
    db.close()
    drop_schema(name)


def test_two_senders_on_postgresql_never_send_a_message_twice(pg_hub, tmp_path, sms):
    settings = settings_for(tmp_path, sms)
    for i in range(60):
        enqueue(f"E{i}", "sms", f"849123{i:05d}", f"tin {i}", purpose="dossier_ready", now=T0)
    results, errors = [], []
    start = threading.Barrier(2)

    def sender():
        try:
            start.wait(10)
            results.append(send_due(settings, now=T0 + timedelta(seconds=1), limit=100))
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(results) == 2
    assert sum(r["sent"] for r in results) == 60
    request_ids = [b["RequestId"] for b in sms.bodies()]
    assert len(request_ids) == 60 and len(set(request_ids)) == 60  # raw requests: none sent twice
    assert Outbox.select().where(Outbox.state == "sent").count() == 60


def test_unreachable_gateway_is_said_in_plain_vietnamese(hub_db, tmp_path, caplog):
    """Defect: a gateway nobody answers at showed exception text ("ConnectionError",
    "HTTPConnectionPool(…)") on the messages page. It says what happened in Vietnamese; the raw
    cause is in the log."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    settings = load_settings("hub", environ={}, overrides={
        "data_dir": str(tmp_path), "notify_timeout": 2.0, "sms_url": f"http://127.0.0.1:{port}/send",
        "sms_api_key": "AK", "sms_secret_key": "SK", "sms_brandname": "UBND-SONGCONG"})
    queue_sms()
    with caplog.at_level("WARNING", logger="motcua.hub.channels"):
        assert send_due(settings, now=T0)["retry"] == 1
    error = Outbox.get().last_error
    assert error.startswith("Không kết nối được tới cổng gửi tin"), error
    assert "Connection" not in error and "HTTP" not in error and "Errno" not in error
    assert any("Connection refused" in r.getMessage() for r in caplog.records)
