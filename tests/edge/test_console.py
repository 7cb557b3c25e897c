"""The technician console: sign-in, its limits, health page, actions, support bundle."""
import io
import json
import socket
import threading
import zipfile

import pytest
from escpos.printer import Dummy
from werkzeug.security import generate_password_hash

from devices.service import DeviceService
from edge.console import ConsoleState, run_restart, safe_settings

PASSWORD = "Kỹ-thuật 2026"
HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
PRINTER_REMEDY = "Máy in không kết nối: kiểm tra cáp USB và nguồn máy in, rồi bấm In thử"
HUB_REMEDY = "Kiểm tra dây mạng/modem; hộp vẫn hoạt động và sẽ tự gửi dữ liệu khi có mạng."


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Clock:
    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def console(app, settings):
    """The app with a technician password and a clock the test moves."""
    settings.update(technician_password_hash=HASH, printer="dummy", hub_url="")
    clock = Clock()
    app.extensions["console"].clock = clock
    return clock


def login(client, password=PASSWORD, address="127.0.0.1"):
    return client.post("/console/login", data={"password": password}, environ_base={"REMOTE_ADDR": address})


def text(response):
    return response.get_data(as_text=True)


# --- sign-in --------------------------------------------------------------------------------

def test_locked_until_the_box_is_provisioned(client, settings):
    assert settings["technician_password_hash"] == ""
    for response in (client.get("/console/"), client.get("/console/login"), login(client),
                     client.get("/console/support.zip"), client.post("/console/print-test")):
        assert response.status_code == 403
        assert "Bảng kỹ thuật đang khoá" in text(response)
    assert 'name="password"' not in text(client.get("/console/login"))


def test_sign_in_and_out(client, console):
    response = client.get("/console")
    assert response.status_code == 308  # /console -> /console/
    response = client.get("/console/")
    assert response.status_code == 302 and response.location.endswith("/console/login")
    assert "Mật khẩu kỹ thuật" in text(client.get("/console/login"))

    wrong = login(client, "đoán bừa")
    assert wrong.status_code == 401 and "Mật khẩu kỹ thuật không đúng." in text(wrong)
    right = login(client)
    assert right.status_code == 302 and right.location.endswith("/console/")
    page = client.get("/console/")
    assert page.status_code == 200 and "data-check=\"printer\"" in text(page)
    assert client.get("/console/login").status_code == 302  # already signed in

    out = client.post("/console/logout")
    assert out.status_code == 302
    assert "Đã đăng xuất." in text(client.get(out.location))
    assert client.get("/console/").status_code == 302


def test_the_officer_session_is_not_the_technician_session(client, console):
    from tests.conftest import sign_in

    sign_in(client)
    assert client.get("/console/").status_code == 302
    login(client)
    client.post("/console/logout")
    assert client.get("/api/v1/print-jobs").status_code == 200  # the officer is still signed in


def test_five_failures_in_ten_minutes_lock_the_address(client, console):
    for _ in range(4):
        assert login(client, "sai").status_code == 401
    blocked = login(client, "sai")
    assert blocked.status_code == 429
    assert "Nhập sai mật khẩu quá 5 lần" in text(blocked) and "10 phút" in text(blocked)
    assert int(blocked.headers["Retry-After"]) == 600
    assert login(client).status_code == 429  # even the right password waits
    assert login(client, address="192.168.1.50").status_code == 302  # another client is not affected

    console.now += 300
    assert "5 phút" in text(login(client))
    console.now += 301  # the first failure is now older than ten minutes
    assert login(client).status_code == 302


def test_failures_expire_one_by_one(client, console):
    for _ in range(4):
        login(client, "sai")
        console.now += 100
    console.now += 250  # the first failure (650 s ago) no longer counts
    assert login(client, "sai").status_code == 401
    assert login(client, "sai").status_code == 429


def test_a_success_clears_the_failures(client, console):
    for _ in range(4):
        login(client, "sai")
    assert login(client).status_code == 302
    client.post("/console/logout")
    for _ in range(4):
        assert login(client, "sai").status_code == 401


def test_sign_in_failures_are_shared_by_web_processes(client, console, app):
    for _ in range(4):
        assert login(client, "sai").status_code == 401
    fresh = ConsoleState(clock=console)  # what another web process starts with
    app.extensions["console"] = fresh
    assert login(client, "sai").status_code == 429  # the fifth failure, counted wherever it happened


def test_a_kept_cookie_opens_nothing_after_sign_out(client, console):
    login(client)
    kept = client.get_cookie("session").value
    assert client.get("/console/support.zip").status_code == 200
    client.post("/console/logout")
    client.set_cookie("session", kept)  # the cookie as it was before signing out
    assert client.get("/console/support.zip").status_code == 302
    assert client.get("/console/").status_code == 302
    assert client.get("/console/login").status_code == 200  # asks for the password again


def test_the_session_ends_after_the_idle_minutes(client, console, settings):
    settings["console_session_minutes"] = 15
    login(client)
    console.now += 14 * 60
    assert client.get("/console/").status_code == 200  # activity keeps it alive
    console.now += 14 * 60
    assert client.get("/console/").status_code == 200
    console.now += 15 * 60 + 1
    expired = client.get("/console/")
    assert expired.status_code == 302 and "expired=1" in expired.location
    assert "Phiên làm việc đã hết hạn sau 15 phút không thao tác" in text(client.get(expired.location))
    assert client.get("/console/").status_code == 302  # really signed out


def test_a_new_password_ends_old_sessions(client, console, settings):
    login(client)
    settings["technician_password_hash"] = generate_password_hash("mới", method="pbkdf2:sha256:1000")
    assert client.get("/console/").status_code == 302


# --- health page --------------------------------------------------------------------------

def test_health_page_shows_problems_with_what_to_do(client, console, settings):
    settings.update(printer=f"network:127.0.0.1:{closed_port()}", hub_url=f"http://127.0.0.1:{closed_port()}")
    login(client)
    page = text(client.get("/console/"))
    assert PRINTER_REMEDY in page and HUB_REMEDY in page
    assert "sự cố cần xử lý" in page
    assert page.index('data-check="printer"') < page.index('data-check="disk"')  # problems first
    data = client.get("/console/health.json").get_json()
    by_key = {r["key"]: r for r in data["results"]}
    assert data["status"] == "problem"
    assert by_key["printer"]["status"] == "problem" and by_key["hub"]["status"] == "problem"
    assert {"disk", "memory", "temperature", "uptime", "clock", "database", "network", "print_jobs", "logs", "sync",
            "device_service"} <= set(by_key)
    assert by_key["database"]["status"] == "ok"


def test_console_shows_the_data_size_of_the_box(client, console, settings):
    login(client)
    data = client.get("/console/health.json").get_json()
    size = {r["key"]: r for r in data["results"]}["data_size"]
    assert size["status"] == "ok" and size["value"].startswith("Tổng ")
    assert "cơ sở dữ liệu" in size["value"] and "bản in thử" in size["value"] and "tệp nhật ký" in size["value"]
    assert "mục nhật ký thay đổi trên hộp (mục đã gửi trung tâm giữ 90 ngày)" in size["value"]
    assert "Dữ liệu trên hộp" in text(client.get("/console/"))


def test_restart_buttons_hidden_when_none_configured(client, console):
    login(client)
    assert "Khởi động lại:" not in text(client.get("/console/"))


def test_restart_runs_the_configured_command_and_shows_its_exit_code(client, console, settings):
    settings["restart_commands"] = "web=true;worker=false"
    login(client)
    page = text(client.get("/console/"))
    assert "Khởi động lại: web" in page and "Khởi động lại: worker" in page
    done = client.post("/console/restart", data={"name": "web"})
    assert done.status_code == 302
    assert "Đã khởi động lại “web” (mã thoát 0)" in text(client.get("/console/"))
    client.post("/console/restart", data={"name": "worker"})
    assert "Khởi động lại “worker” thất bại (mã thoát 1)" in text(client.get("/console/"))
    client.post("/console/restart", data={"name": "rm -rf /"})  # only configured commands run
    assert "Không có lệnh khởi động lại này" in text(client.get("/console/"))


def test_run_restart_without_a_shell():
    assert run_restart("true") == {"returncode": 0, "output": "", "error": ""}
    assert run_restart("sh -c 'echo đã chạy; exit 3'") == {"returncode": 3, "output": "đã chạy", "error": ""}
    assert run_restart("echo a; echo b")["output"] == "a; echo b"  # no shell: ';' is only text
    assert "Không tìm thấy" in run_restart("/nonexistent/motcua-restart")["error"]
    assert "quá 0.3 giây" in run_restart("sleep 5", timeout=0.3)["error"]
    assert run_restart("'unclosed")["error"].startswith("Lệnh không hợp lệ")


def test_test_print(client, console, settings, tmp_path):
    login(client)
    client.post("/console/print-test")
    assert "Đã gửi phiếu in thử" in text(client.get("/console/"))
    settings["printer"] = f"file:{tmp_path}/no-such-dir/printer"
    client.post("/console/print-test")
    page = text(client.get("/console/"))
    assert "In thử thất bại" in page and PRINTER_REMEDY in page


@pytest.fixture
def device_service(office, settings):
    """A device service on a free port of 127.0.0.1 with a Dummy printer."""
    service = DeviceService(dict(settings, printer="dummy", keypad_pins="17,27,22"), open_printer_fn=Dummy)
    server = service.make_server(port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield service, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_with_a_device_service(client, console, settings, device_service):
    service, url = device_service
    settings.update(device_url=url, keypad_pins="17,27,22")
    login(client)
    data = client.get("/console/health.json").get_json()
    by_key = {r["key"]: r for r in data["results"]}
    assert by_key["device_service"]["status"] == "ok"
    assert by_key["printer"]["value"].startswith("Máy in mô phỏng")
    client.post("/console/print-test")
    assert "Đã gửi phiếu in thử" in text(client.get("/console/"))

    service._on_key(2)
    page = text(client.get("/console/keypad"))
    assert "Hài lòng" in page and "Không có số thứ tự chờ đánh giá" in page
    client.post("/console/keypad/test")
    page = text(client.get("/console/keypad"))
    assert "Đang thử bàn phím trong 60 giây" in page and 'http-equiv="refresh"' in page
    service._on_key(3)
    assert "Thử phím: không ghi đánh giá" in text(client.get("/console/keypad"))


def test_a_device_service_that_is_down(client, console, settings):
    settings.update(device_url=f"http://127.0.0.1:{closed_port()}", keypad_pins="17,27,22")
    login(client)
    by_key = {r["key"]: r for r in client.get("/console/health.json").get_json()["results"]}
    assert by_key["device_service"]["status"] == "problem"
    assert by_key["printer"]["status"] == "problem"
    client.post("/console/print-test")
    assert "dịch vụ thiết bị không trả lời" in text(client.get("/console/"))
    assert "Dịch vụ thiết bị không trả lời" in text(client.get("/console/keypad"))


def test_keypad_page_without_a_keypad(client, console):
    login(client)
    assert "Hộp chưa cấu hình bàn phím đánh giá" in text(client.get("/console/keypad"))


# --- support bundle -------------------------------------------------------------------------

def test_support_bundle_has_no_secrets(client, console, settings, app):
    from pathlib import Path

    secret_key = app.config["SECRET_KEY"]
    settings.update(database=settings["database"], hub_url="http://hub-user:hub-pass@127.0.0.1:1/")
    data_dir = Path(settings["data_dir"])
    keys = data_dir / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    (keys / "box.key").write_text("PRIVATE-KEY-MATERIAL-0123456789")
    logs = data_dir / "logs"
    logs.mkdir(exist_ok=True)
    (logs / "worker.log").write_text(f"2026-11-23 08:00:00 INFO x: oops {HASH} PRIVATE-KEY-MATERIAL-0123456789\n")
    login(client)
    response = client.get("/console/support.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "motcua-ho-tro-05518-" in response.headers["Content-Disposition"]
    bundle = zipfile.ZipFile(io.BytesIO(response.data))
    names = bundle.namelist()
    assert {"README.txt", "health.json", "sync.json", "settings.json", "device.json", "print_jobs_failed.json",
            "system.json", "logs/worker.log"} <= set(names)
    assert not any(n.startswith("keys/") or "box.key" in n for n in names)
    everything = "\n".join(bundle.read(n).decode("utf-8") for n in names)
    for secret in (secret_key, HASH, PASSWORD, "PRIVATE-KEY-MATERIAL-0123456789", "hub-pass", "motcua123"):
        assert secret not in everything
    exported = json.loads(bundle.read("settings.json"))
    assert "secret_key" not in exported and "technician_password_hash" not in exported
    assert exported["hub_url"] == "http://127.0.0.1:1/"
    assert exported["printer"] == "dummy" and exported["keypad_pins"] == ""
    assert {r["key"] for r in json.loads(bundle.read("health.json"))} >= {"printer", "hub", "disk"}
    assert json.loads(bundle.read("sync.json"))["node_id"] == "box-test0000000000"
    assert "[đã ẩn]" in bundle.read("logs/worker.log").decode()


def test_safe_settings():
    cleaned = safe_settings({"secret_key": "x", "technician_password_hash": "y", "operator_password": "z",
                             "enrol_token": "t", "keypad_pins": "17", "database": "postgresql://u:pw@db/hub",
                             "port": 8001})
    assert cleaned == {"keypad_pins": "17", "database": "postgresql://db/hub", "port": 8001}


def drive_every_route(app, settings):
    """Request every console route once (for tests/sync/test_capture.py, which checks that every
    route of the box is driven and that what it writes reaches the change log)."""
    saved = {k: settings[k] for k in ("technician_password_hash", "restart_commands")}
    settings.update(technician_password_hash=HASH, restart_commands="thử=true")
    try:
        client = app.test_client()
        assert client.get("/console/login").status_code == 200
        assert login(client).status_code == 302
        for path in ("/console/", "/console/health.json", "/console/keypad", "/console/support.zip"):
            assert client.get(path).status_code == 200, path
        for path, form in (("/console/print-test", {}), ("/console/restart", {"name": "thử"}),
                           ("/console/keypad/test", {}), ("/console/rating-screens/1/unpair", {}),
                           ("/console/logout", {})):
            if path == "/console/logout":  # the technician's "Đồng bộ ngay" on /sync, still signed in
                assert client.post("/sync/now").status_code == 303
                assert client.post("/console/print-jobs/999999/reprint").status_code == 404  # no such job
            assert client.post(path, data=form).status_code == 302, path
    finally:
        settings.update(saved)
