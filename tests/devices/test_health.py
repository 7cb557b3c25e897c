"""Health checks of the box: each one a pure function of crafted inputs."""
import http.server
import os
import socket
import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from escpos.printer import Dummy

from devices import health
from devices.health import OK, PROBLEM, WARNING

GB = 1024**3
NOW = datetime(2026, 11, 23, 2, 0)


def check_shape(r, key):
    assert set(r) == {"key", "title", "status", "value", "remedy"}
    assert r["key"] == key and r["title"] and r["value"]
    assert (r["status"] == OK) == (r["remedy"] == ""), "a warning or problem always says what to do"
    return r


# --- disk, memory, temperature, uptime ---------------------------------------------------------

@pytest.mark.parametrize("total, free, status", [
    (32 * GB, 20 * GB, OK),
    (32 * GB, 3 * GB, WARNING),          # under 15 %
    (8 * GB, int(0.9 * GB), WARNING),    # under 1 GB
    (32 * GB, 1 * GB, PROBLEM),          # under 5 %
    (2 * GB, 150 * 1024**2, PROBLEM),    # under 200 MB
])
def test_disk(total, free, status):
    r = check_shape(health.disk((total, total - free, free), "/var/lib/motcua"), "disk")
    assert r["status"] == status
    assert "Còn trống" in r["value"] and "/var/lib/motcua" in r["value"]


def test_disk_reads_the_real_data_dir(tmp_path):
    assert health.disk(health.read_disk(tmp_path))["status"] in (OK, WARNING, PROBLEM)


MEMINFO = """MemTotal:        3884352 kB
MemFree:          200000 kB
MemAvailable:     {avail} kB
Buffers:           54321 kB
"""


@pytest.mark.parametrize("available, status", [(2_000_000, OK), (400_000, WARNING), (100_000, PROBLEM)])
def test_memory(available, status):
    r = check_shape(health.memory(MEMINFO.format(avail=available)), "memory")
    assert r["status"] == status
    assert "3,7 GB" in r["value"]


def test_memory_unreadable():
    assert health.memory(None)["status"] == WARNING


def test_temperature():
    assert health.temperature([])["status"] == OK
    assert "Không có cảm biến" in health.temperature([])["value"]
    assert health.temperature([("thermal_zone0", 52.1)])["status"] == OK
    warm = check_shape(health.temperature([("thermal_zone0", 55.0), ("thermal_zone1", 73.4)]), "temperature")
    assert warm["status"] == WARNING and warm["value"] == "73,4 °C"
    assert health.temperature([("thermal_zone0", 84.0)])["status"] == PROBLEM


def test_temperature_reads_thermal_zones(tmp_path):
    for name, raw in (("thermal_zone0", "48312\n"), ("thermal_zone1", "garbage"), ("thermal_zone2", "81000")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "temp").write_text(raw)
    readings = health.read_temperatures(str(tmp_path / "thermal_zone*" / "temp"))
    assert readings == [("thermal_zone0", 48.312), ("thermal_zone2", 81.0)]
    assert health.temperature(readings)["status"] == PROBLEM


def test_uptime():
    assert health.uptime("350000.12 1200000.00")["status"] == OK
    assert "4 ngày" in health.uptime("350000.12 1200000.00")["value"]
    just_booted = check_shape(health.uptime("95.3 300.1"), "uptime")
    assert just_booted["status"] == WARNING and "nguồn điện" in just_booted["remedy"]
    assert health.uptime("")["status"] == OK


# --- clock, database ---------------------------------------------------------------------------

def test_clock_before_2024_is_wrong():
    r = check_shape(health.clock(datetime(1970, 1, 1, 0, 0, 12)), "clock")
    assert r["status"] == PROBLEM
    assert "đồng hồ sai, kiểm tra kết nối mạng/ntp" in r["remedy"].lower()


def test_clock_against_the_hub():
    assert health.clock(NOW)["status"] == OK
    assert "09:00:00 23/11/2026" in health.clock(NOW)["value"]  # the office's time zone
    assert health.clock(NOW, hub_offset_ms=1_200)["status"] == OK
    assert health.clock(NOW, hub_offset_ms=-45_000)["status"] == WARNING
    far = check_shape(health.clock(NOW, hub_offset_ms=600_000), "clock")
    assert far["status"] == PROBLEM and "600,0 giây" in far["value"]


def test_database_quick_check(tmp_path):
    path = tmp_path / "edge.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    rows = health.read_quick_check(path)
    assert health.database(rows)["status"] == OK
    broken = check_shape(health.database(["*** in database main ***", "Page 5: btreeInitPage() returns error code 11"]),
                         "database")
    assert broken["status"] == PROBLEM and "Page 5" in broken["value"]
    assert health.database(error="file is not a database")["status"] == PROBLEM


def test_database_quick_check_on_a_corrupt_file(tmp_path):
    path = tmp_path / "edge.db"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        health.read_quick_check(path)


# --- network, hub --------------------------------------------------------------------------------

def test_network():
    up = {"interfaces": {"lo": ["127.0.0.1"], "eth0": ["192.168.1.20"]}, "gateway": ("192.168.1.1", "eth0")}
    r = check_shape(health.network(up), "network")
    assert r["status"] == OK and "eth0 192.168.1.20" in r["value"] and "192.168.1.1" in r["value"]
    no_gateway = check_shape(health.network({"interfaces": up["interfaces"], "gateway": None}), "network")
    assert no_gateway["status"] == PROBLEM and "cổng mặc định" in no_gateway["value"]
    unplugged = health.network({"interfaces": {"lo": ["127.0.0.1"], "eth0": []}, "gateway": None})
    assert unplugged["status"] == PROBLEM and "dây mạng" in unplugged["remedy"]


def test_network_reads_netifaces():
    state = health.read_network()
    assert "lo" in state["interfaces"]


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def hub_server():
    """A tiny hub answering /api/v1/health (200) and anything else (503)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            ok = self.path == "/api/v1/health"
            self.send_response(200 if ok else 503)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}' if ok else b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_hub_reachable(hub_server):
    probe = health.probe_hub(hub_server, timeout=2)
    assert probe["ok"] and probe["status"] == 200 and probe["latency_ms"] >= 0
    r = check_shape(health.hub(hub_server, probe), "hub")
    assert r["status"] == OK and "ms" in r["value"]


def test_hub_unreachable():
    url = f"http://127.0.0.1:{closed_port()}"
    probe = health.probe_hub(url, timeout=2)
    assert probe == {"ok": False, "status": None, "latency_ms": None, "error": "bị từ chối kết nối"}
    r = check_shape(health.hub(url, probe), "hub")
    assert r["status"] == PROBLEM
    assert r["remedy"] == "Kiểm tra dây mạng/modem; hộp vẫn hoạt động và sẽ tự gửi dữ liệu khi có mạng."


def test_hub_errors_slow_and_missing():
    assert health.hub("http://hub", {"ok": False, "status": 502, "latency_ms": 10, "error": ""})["status"] == PROBLEM
    assert health.hub("http://hub", {"ok": True, "status": 200, "latency_ms": 3500, "error": ""})["status"] == WARNING
    assert health.hub("", None)["status"] == WARNING


# --- printer, print jobs, device service ---------------------------------------------------------

class Answering(Dummy):
    """A printer that answers status queries with fixed bytes (DLE EOT n)."""

    def __init__(self, online_byte, paper_byte):
        super().__init__()
        self.answers = {b"\x10\x04\x01": bytes([online_byte]), b"\x10\x04\x04": bytes([paper_byte])}
        self.last = b""

    def _raw(self, msg):
        self.last = msg

    def _read(self):
        return self.answers.get(self.last, b"")


def test_printer_that_cannot_be_opened():
    def unplugged():
        raise OSError("[Errno 2] No such file or directory: '/dev/usb/lp0'")

    state = health.probe_printer(unplugged, timeout=2)
    assert state["opened"] is False and state["error"] == "không có thiết bị/tệp này"
    r = check_shape(health.printer("serial:/dev/usb/lp0", state), "printer")
    assert r["status"] == PROBLEM
    assert r["remedy"] == "Máy in không kết nối: kiểm tra cáp USB và nguồn máy in, rồi bấm In thử"


def test_network_printer_on_a_closed_port():
    from devices.printer import open_printer

    spec = f"network:127.0.0.1:{closed_port()}"
    state = health.probe_printer(lambda: open_printer(spec, "/tmp", 2), timeout=3)
    assert state["opened"] is False and state["error"] == "bị từ chối kết nối"
    assert health.printer(spec, state)["status"] == PROBLEM


def test_printer_that_hangs_counts_as_not_connected():
    release = threading.Event()

    def hung():
        release.wait(5)
        return Dummy()

    started = time.monotonic()
    state = health.probe_printer(hung, timeout=0.3)
    release.set()
    assert time.monotonic() - started < 2
    assert state["opened"] is False and "không trả lời" in state["error"]


class Silent(Dummy):
    """Opens, takes bytes, never answers a status query (the read blocks)."""

    def __init__(self, release):
        super().__init__()
        self.release = release

    def _read(self):
        self.release.wait(5)
        return b""


def test_printer_that_opens_but_never_answers_status_is_not_broken():
    release = threading.Event()
    try:
        state = health.probe_printer(lambda: Silent(release), timeout=0.3)
    finally:
        release.set()
    assert state == {"opened": True, "online": None, "paper": None, "error": ""}
    r = health.printer("network:192.168.1.50", state)
    assert r["status"] == OK and "không báo trạng thái" in r["value"]


def test_printer_states():
    online_plenty = health.probe_printer(lambda: Answering(0x12, 0x12), timeout=2)
    assert online_plenty == {"opened": True, "online": True, "paper": 2, "error": ""}
    assert health.printer("usb:0x0416:0x5011", online_plenty)["status"] == OK

    offline = health.probe_printer(lambda: Answering(0x1A, 0x12), timeout=2)
    assert offline["online"] is False
    assert health.printer("usb:0416:5011", offline)["status"] == PROBLEM

    no_paper = health.probe_printer(lambda: Answering(0x12, 0x7E), timeout=2)
    assert no_paper["paper"] == 0
    r = health.printer("usb:0416:5011", no_paper)
    assert r["status"] == WARNING and "không trả lời" in r["value"]  # paper 0 may also mean "no answer"

    low = health.probe_printer(lambda: Answering(0x12, 0x1E), timeout=2)
    assert low["paper"] == 1 and health.printer("usb:0416:5011", low)["status"] == WARNING

    silent = {"opened": True, "online": None, "paper": None, "error": ""}  # no status support
    assert health.printer("usb:0416:5011", silent)["status"] == OK


def test_dummy_printer_opens_but_is_only_a_simulation():
    state = health.probe_printer(Dummy, timeout=2)
    assert state == {"opened": True, "online": None, "paper": None, "error": ""}  # Dummy cannot read
    assert health.printer("dummy", state)["status"] == WARNING


def test_printer_state_unknown_when_the_device_service_is_silent():
    assert health.printer("usb:0416:5011", None)["status"] == PROBLEM


def test_print_jobs():
    assert health.print_jobs(0, 0)["status"] == OK
    assert health.print_jobs(0, 3, 20)["status"] == OK
    failed = check_shape(health.print_jobs(2, 0), "print_jobs")
    assert failed["status"] == WARNING and failed["value"].startswith("2 phiếu in lỗi")
    assert health.print_jobs(0, 4, 300)["status"] == WARNING
    assert health.print_jobs(0, 4, 3600)["status"] == PROBLEM


def test_device_service():
    assert health.device_service("", None)["status"] == OK
    down = check_shape(health.device_service("http://127.0.0.1:8009", None, "bị từ chối kết nối"), "device_service")
    assert down["status"] == PROBLEM and "khởi động lại dịch vụ thiết bị" in down["remedy"]
    assert health.device_service("http://x", {"keypad": {"error": "pin 17 busy"}})["status"] == WARNING
    assert health.device_service("http://x", {"keypad": {"active": True, "error": ""}})["status"] == OK


# --- sync, logs --------------------------------------------------------------------------------

def sync_state(**kw):
    state = {"hub_url": "http://hub", "pending": 0, "oldest_pending_age_s": 0,
             "last_success_at": "2026-11-23T01:58:00Z", "last_error": "", "failures": 0}
    state.update(kw)
    return state


def test_sync_thresholds():
    assert health.sync(sync_state(hub_url=""), NOW)["status"] == OK
    ok = check_shape(health.sync(sync_state(pending=3, oldest_pending_age_s=40), NOW), "sync")
    assert ok["status"] == OK and "2 phút trước" in ok["value"]
    late = check_shape(health.sync(sync_state(pending=30, oldest_pending_age_s=3600, last_error="bị từ chối kết nối",
                                              failures=5), NOW), "sync")
    assert late["status"] == WARNING and "bị từ chối kết nối" in late["value"]
    assert health.sync(sync_state(last_error="x", failures=3), NOW)["status"] == WARNING
    stuck = health.sync(sync_state(pending=900, oldest_pending_age_s=2 * 86400, last_success_at=None), NOW)
    assert stuck["status"] == PROBLEM and "chưa đồng bộ thành công" in stuck["value"]
    assert health.sync(sync_state(hub_url=""), NOW, hub_url="http://hub")["value"].startswith("0 mục chờ gửi")


def test_logs(tmp_path):
    assert health.logs(health.recent_logs(tmp_path / "missing"))["status"] == OK
    (tmp_path / "web.log").write_text("".join(f"2026-11-23 08:00:{i:02d} INFO motcua: line {i}\n" for i in range(200)))
    (tmp_path / "worker.log").write_text("2026-11-23 08:01:00 ERROR motcua.printing: print job 4 failed\n")
    (tmp_path / "notes.txt").write_text("not a log")
    os.utime(tmp_path / "web.log", (time.time() - 60, time.time() - 60))
    entries = health.recent_logs(tmp_path, lines=10)
    assert [e["name"] for e in entries] == ["worker.log", "web.log"]  # newest first
    expected = [f"2026-11-23 08:00:{i:02d} INFO motcua: line {i}" for i in range(190, 200)]
    assert entries[1]["tail"].splitlines() == expected
    r = check_shape(health.logs(entries), "logs")
    assert r["status"] == WARNING and "1 dòng lỗi" in r["value"]


def test_attach_log_file(tmp_path):
    import logging

    handler = health.attach_log_file(tmp_path, "devices")
    again = health.attach_log_file(tmp_path, "devices")
    try:
        root = logging.getLogger()
        assert sum(getattr(h, "baseFilename", None) == again.baseFilename for h in root.handlers) == 1
        logging.getLogger("motcua.test").warning("máy in lỗi")
        again.flush()
        assert "WARNING motcua.test: máy in lỗi" in (Path(tmp_path) / "logs" / "devices.log").read_text("utf-8")
    finally:
        logging.getLogger().removeHandler(again)
        again.close()
        handler.close()


def test_log_files_stay_within_their_rotation_bound(tmp_path):
    import logging

    handler = health.attach_log_file(tmp_path, "worker", max_mb=0.0625, count=2)  # 64 KB, two older files
    try:
        for i in range(4000):
            logging.getLogger("motcua.test").warning("dòng nhật ký số %s gọi 0912345678", i)
        handler.flush()
        files = sorted(p.name for p in (Path(tmp_path) / "logs").iterdir())
        assert files == ["worker.log", "worker.log.1", "worker.log.2"]
        total = sum(p.stat().st_size for p in (Path(tmp_path) / "logs").iterdir())
        assert total <= 3 * 64 * 1024
        assert "0912345678" not in (Path(tmp_path) / "logs" / "worker.log").read_text("utf-8")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


def test_disk_levels_come_from_the_settings():
    usage = (64 * GB, 52 * GB, 12 * GB)
    assert health.disk(usage)["status"] == OK
    assert health.disk(usage, warn_mb=16 * 1024)["status"] == WARNING
    full = health.disk(usage, warn_mb=16 * 1024, problem_mb=13 * 1024)
    assert full["status"] == PROBLEM and "prints" in full["remedy"] and "logs" in full["remedy"]


def test_data_size_counts_each_part(tmp_path):
    data = tmp_path / "data"
    (data / "prints").mkdir(parents=True)
    (data / "logs").mkdir()
    (data / "keys").mkdir()
    (data / "edge.db").write_bytes(b"d" * 3000)
    (data / "edge.db-wal").write_bytes(b"w" * 1000)
    (data / "edge-huey.db").write_bytes(b"h" * 500)
    (data / "prints" / "A001.png").write_bytes(b"p" * 700)
    (data / "logs" / "web.log").write_bytes(b"l" * 200)
    (data / "logs" / "web.log.1").write_bytes(b"l" * 100)
    (data / "keys" / "box.key").write_bytes(b"k" * 50)
    sizes = health.read_data_sizes(data, str(data / "edge.db"))
    assert sizes == {"database": 4000, "tasks": 500, "prints": 700, "logs": 300, "other": 50}
    r = check_shape(health.data_size(sizes, 1234, 90), "data_size")
    assert r["status"] == OK and "cơ sở dữ liệu 3,9 KB" in r["value"] and "1234 mục" in r["value"]
    assert "giữ mãi" in health.data_size(sizes, 5, 0)["value"]
    assert health.read_data_sizes(tmp_path / "absent")["database"] == 0


def test_worst_and_order():
    results = [health.result("a", "A", OK, "x"), health.result("b", "B", PROBLEM, "y", "z"),
               health.result("c", "C", WARNING, "w", "v")]
    assert health.worst(results) == PROBLEM
    assert [r["key"] for r in health.by_severity(results)] == ["b", "c", "a"]
    assert health.worst([]) == OK
