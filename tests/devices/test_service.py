"""The device service: prints the print_job rows, owns the keypad, answers on 127.0.0.1.

Test doubles only at the hardware edge: python-escpos ``Dummy`` (and a printer that
raises), gpiozero's ``MockFactory``.
"""
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from escpos.printer import Dummy
from gpiozero.pins.mock import MockFactory

from devices.service import DeviceClient, DeviceService, DeviceServiceDown, device_token
from office import queue
from office.models import Officer, PrintJob, Rating, utcnow

ROOT = Path(__file__).resolve().parents[2]


class Unplugged(Dummy):
    """A printer whose cable is out: every byte fails."""

    def _raw(self, msg):
        raise OSError("USB device not found")


def payload(ticket):
    return {"office": "UBND phường Sông Công", "service": ticket.service.name, "priority_label": None,
            "issued_at": "08:15 23/11/2026", "estimated_wait_min": 5, "ahead": 0,
            "tracking_code": ticket.tracking_code, "qr": f"http://box.local/t/{ticket.tracking_code}"}


def issue(policy):
    ticket = queue.issue_ticket(policy, "ho-tich", print_payload=payload, now=utcnow() - timedelta(seconds=5))
    return PrintJob.get(PrintJob.ticket == ticket)


class Printers:
    """Opens a fresh printer of ``kind`` and remembers each one."""

    def __init__(self, kind=Dummy):
        self.kind = kind
        self.opened = []

    def __call__(self):
        self.opened.append(self.kind())
        return self.opened[-1]


@pytest.fixture
def pins():
    factory = MockFactory()
    yield factory
    factory.reset()


@pytest.fixture
def service_settings(settings):
    return dict(settings, printer_width=384, printer_timeout=2.0, print_max_attempts=3)


def test_prints_pending_jobs(office, policy, service_settings):
    printers = Printers()
    service = DeviceService(service_settings, open_printer_fn=printers)
    first, second = issue(policy), issue(policy)
    assert service.print_due() == {first.id: PrintJob.DONE, second.id: PrintJob.DONE}
    assert [PrintJob.get_by_id(j.id).state for j in (first, second)] == [PrintJob.DONE, PrintJob.DONE]
    assert first.ticket.tracking_code.encode() in printers.opened[0].output
    assert service.print_due() == {}  # nothing left
    state = service.status(probe=False)
    assert state["printer"]["error"] == "" and state["printer"]["last_printed_at"]
    assert state["jobs"] == {"pending": 0, "failed": 0}


def test_an_unplugged_printer_keeps_the_job_and_shows_the_error(office, policy, service_settings):
    service = DeviceService(service_settings, open_printer_fn=Printers(Unplugged))
    job = issue(policy)
    assert service.print_due() == {job.id: PrintJob.PENDING}
    job = PrintJob.get_by_id(job.id)
    assert job.attempts == 1 and "USB device not found" in job.last_error
    state = service.status(probe=False)
    assert state["printer"]["opened"] is False and "USB device not found" in state["printer"]["error"]
    assert state["jobs"] == {"pending": 1, "failed": 0}


def test_status_probes_the_printer_and_caches_the_answer(office, service_settings):
    now = [1000.0]
    calls = []

    def cannot_open():
        calls.append(1)
        raise OSError("[Errno 2] No such file or directory: '/dev/usb/lp0'")

    service = DeviceService(service_settings, open_printer_fn=cannot_open, clock=lambda: now[0])
    printer = service.status()["printer"]
    assert printer["opened"] is False and printer["error"] == "không có thiết bị/tệp này"
    service.status()
    assert len(calls) == 1  # the same answer for a few seconds
    now[0] += 6
    service.status()
    assert len(calls) == 2


def test_test_print(office, service_settings):
    printers = Printers()
    service = DeviceService(service_settings, open_printer_fn=printers)
    assert service.print_test(office="UBND phường Sông Công") == {"ok": True, "error": ""}
    assert b"http://motcua.local/console" in printers.opened[0].output  # the sample's QR code
    broken = DeviceService(service_settings, open_printer_fn=Printers(Unplugged))
    answer = broken.print_test()
    assert answer["ok"] is False and "USB device not found" in answer["error"]


def finish_at_counter(policy, number, username):
    counter = queue.sign_in(number, Officer.get(username=username))
    queue.issue_ticket(policy, "ho-tich", now=utcnow() - timedelta(minutes=3))
    queue.call_next(policy, counter.id)
    return queue.finish(counter.id)


def test_keypad_presses_rate_and_are_shown(office, policy, service_settings, pins):
    settings = dict(service_settings, keypad_pins="17,27,22", keypad_counter=1)
    service = DeviceService(settings, open_printer_fn=Dummy)
    assert service.start_keypad(pin_factory=pins) is not None
    try:
        ticket = finish_at_counter(policy, 1, "canbo1")
        pins.pin(27).drive_low()
        pins.pin(27).drive_high()
        rating = Rating.get()
        assert (rating.ticket_id, rating.score, rating.source) == (ticket.id, 2, "keypad")
        pins.pin(22).drive_low()  # nobody left to rate
        presses = service.status(probe=False)["keypad"]["presses"]
        assert [(p["label"], p["outcome"]) for p in presses] == [
            ("Chưa hài lòng", "Không có số thứ tự chờ đánh giá"),
            ("Hài lòng", f"Đã ghi đánh giá cho số thứ tự {ticket.number}"),
        ]
        assert service.status(probe=False)["keypad"]["active"] is True
    finally:
        service.stop()


def test_keypad_test_mode_rates_nobody(office, policy, service_settings, pins):
    now = [1000.0]
    settings = dict(service_settings, keypad_pins="17,27,22", keypad_counter=1)
    service = DeviceService(settings, open_printer_fn=Dummy, clock=lambda: now[0])
    service.start_keypad(pin_factory=pins)
    try:
        finish_at_counter(policy, 1, "canbo1")
        service.start_keypad_test(60)
        assert service.status(probe=False)["keypad"]["testing"] is True
        pins.pin(17).drive_low()
        pins.pin(17).drive_high()
        assert Rating.select().count() == 0
        assert service.status(probe=False)["keypad"]["presses"][0]["outcome"] == "Thử phím: không ghi đánh giá"
        now[0] += 61  # the test is over: keys rate again
        pins.pin(17).drive_low()
        assert Rating.get().score == 3
    finally:
        service.stop()


def test_a_keypad_that_cannot_open_is_reported(office, service_settings, pins):
    service = DeviceService(dict(service_settings, keypad_pins="17,27"), open_printer_fn=Dummy)
    assert service.start_keypad(pin_factory=pins) is None
    keypad = service.status(probe=False)["keypad"]
    assert keypad["active"] is False and "3 pins" in keypad["error"]


@pytest.fixture
def served(office, service_settings):
    """The service's HTTP API on 127.0.0.1 (a free port), printer Dummy."""
    printers = Printers()
    service = DeviceService(service_settings, open_printer_fn=printers)
    server = service.make_server(port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield service, DeviceClient(f"http://127.0.0.1:{server.server_address[1]}", timeout=5, token=service.token), printers
    server.shutdown()
    server.server_close()
    service.stop()


def test_http_api(served, policy):
    service, client, printers = served
    issue(policy)
    status = client.status()
    assert status["ok"] is True
    assert status["printer"]["opened"] is True and status["printer"]["spec"] == "dummy"
    assert status["jobs"] == {"pending": 1, "failed": 0}
    assert client.print_test("UBND phường Sông Công", "http://box.local/console") == {"ok": True, "error": ""}
    assert any(b"http://box.local/console" in p.output for p in printers.opened)
    answer = client.keypad_test(30)
    assert answer["ok"] is True and answer["test_until"].endswith("Z")
    assert client.status()["keypad"]["testing"] is True
    assert client._call("GET", "/nowhere") == {"ok": False, "error": "Không có đường dẫn này.", "status": 404}


def test_client_of_a_service_that_is_down():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DeviceServiceDown):
        DeviceClient(f"http://127.0.0.1:{port}", timeout=1).status()


def test_the_loop_prints_within_about_a_second(office, policy, service_settings):
    printers = Printers()
    service = DeviceService(service_settings, open_printer_fn=printers)
    thread = threading.Thread(target=service.loop, kwargs={"interval": 0.1}, daemon=True)
    thread.start()
    try:
        job = issue(policy)
        deadline = time.monotonic() + 5
        while PrintJob.get_by_id(job.id).state != PrintJob.DONE:
            assert time.monotonic() < deadline, "the service did not print the job"
            time.sleep(0.05)
    finally:
        service.stop()
        thread.join(5)
    assert not thread.is_alive()


# --- the worker leaves printer and keypad to the device service ---------------------------

def test_worker_tasks_do_not_print_when_a_device_service_is_set(office, policy, settings):
    from huey import MemoryHuey

    from edge.tasks import register_tasks

    job = issue(policy)
    tasks = register_tasks(MemoryHuey(immediate=True), dict(settings, device_url="http://127.0.0.1:8009"))
    tasks["print_job"](job.id)
    tasks["sweep_print_jobs"]()
    job = PrintJob.get_by_id(job.id)
    assert (job.state, job.attempts) == (PrintJob.PENDING, 0)

    tasks = register_tasks(MemoryHuey(immediate=True), dict(settings, printer="dummy"))
    tasks["sweep_print_jobs"]()
    assert PrintJob.get_by_id(job.id).state == PrintJob.DONE  # without one, the worker prints as before


def test_worker_does_not_open_the_keypad_when_a_device_service_is_set(settings, monkeypatch):
    import edge.worker as worker

    opened, ran = [], []

    class Consumer:
        def run(self):
            ran.append(True)

    class Huey:
        def flush_locks(self, *names):
            return set()

    monkeypatch.setattr(worker, "create_huey", lambda s: (Huey(), {}))
    monkeypatch.setattr(worker, "create_consumer", lambda huey, s, **kwargs: Consumer())
    monkeypatch.setattr(worker, "keypad_for", lambda s: opened.append(s) or None)
    monkeypatch.setattr(worker, "configure_logging", lambda level: None)
    monkeypatch.setattr(worker, "attach_log_file", lambda *a, **k: None)
    worker.run_worker(dict(settings, keypad_pins="17,27,22", device_url="http://127.0.0.1:8009"))
    assert ran == [True] and opened == []
    worker.run_worker(dict(settings, keypad_pins="17,27,22", device_url=""))
    assert len(opened) == 1


# --- the command -------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_motcua_edge_devices_serves_status(tmp_path):
    data, port = tmp_path / "box", free_port()
    common = ["--data-dir", str(data), "--commune-code", "05518"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    subprocess.run([sys.executable, "-m", "motcua", "edge", "init", *common], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=60)
    proc = subprocess.Popen([sys.executable, "-m", "motcua", "edge", "devices", *common, "--device-port", str(port),
                             "--printer", "dummy"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        client = DeviceClient(f"http://127.0.0.1:{port}", timeout=2, token=device_token(data))
        deadline = time.monotonic() + 20
        while True:
            try:
                status = client.status()
                break
            except DeviceServiceDown:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "the device service did not answer"
                time.sleep(0.2)
        assert status["printer"]["spec"] == "dummy" and status["printer"]["opened"] is True
        assert client.print_test()["ok"] is True
    finally:
        proc.terminate()
        output = proc.communicate(timeout=15)[0].decode()
    assert proc.returncode == 0, output
    assert "Dịch vụ thiết bị" in output
    assert (data / "logs" / "devices.log").exists()


# --- who may call the device service, and what it survives ---------------------------------------

def raw_request(port, head, body=b"", timeout=5):
    """Send ``head`` (request line and headers, no final blank line) and ``body``; (status, JSON)."""
    import json

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    payload = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(payload) if payload else None


def port_of(client):
    return int(client.url.rsplit(":", 1)[1])


def test_device_api_refuses_requests_without_the_token(served):
    service, client, printers = served
    anyone = DeviceClient(client.url, timeout=5)
    answer = anyone._call("POST", "/keypad/test", {"seconds": 30})
    assert answer["ok"] is False and answer["status"] == 401 and "mã" in answer["error"]
    assert DeviceClient(client.url, timeout=5, token="guess")._call("GET", "/status")["status"] == 401
    assert service.testing_keypad() is False and printers.opened == []
    assert client.status()["ok"] is True  # the box's own client has the token


def test_device_token_is_kept_private_in_the_data_dir(tmp_path):
    token = device_token(tmp_path)
    path = tmp_path / "device_token"
    assert len(token) >= 40 and (path.stat().st_mode & 0o777) == 0o600
    assert device_token(tmp_path) == token


def test_device_api_refuses_other_host_headers(served):
    service, client, printers = served
    port = port_of(client)
    for host in ("evil.example:%d" % port, "127.0.0.1.nip.io:%d" % port, "127.0.0.1:1"):
        status, answer = raw_request(port, f"POST /keypad/test HTTP/1.1\r\nHost: {host}\r\n"
                                           f"X-Motcua-Device-Token: {service.token}\r\nContent-Length: 2", b"{}")
        assert status == 403 and answer["ok"] is False, host
    assert service.testing_keypad() is False
    status, _ = raw_request(port, f"GET /status HTTP/1.1\r\nHost: localhost:{port}\r\nX-Motcua-Device-Token: {service.token}")
    assert status == 200


@pytest.mark.parametrize("length, body", [("abc", b"{}"), ("-5", b"{}"), ("99999999", b"{}"),
                                          ("15", b'{"seconds":NaN}'), ("20", b'{"seconds":Infinity}'),
                                          ("17", b'{"seconds":1e400}'), ("6000", b"[" * 6000),
                                          ("4", b"\xff\xfe{}")])
def test_device_api_survives_bad_lengths_nan_and_infinity(served, length, body):
    service, client, printers = served
    port = port_of(client)
    status, answer = raw_request(port, f"POST /keypad/test HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                                       f"X-Motcua-Device-Token: {service.token}\r\nContent-Length: {length}", body)
    assert status < 500 and answer["ok"] in (True, False)
    if status >= 400:
        assert answer["ok"] is False and answer["status"] == status
    assert client.status()["ok"] is True  # and it goes on serving


def test_device_api_threads_are_bounded(served):
    from devices.service import MAX_THREADS

    service, client, printers = served
    port = port_of(client)
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(MAX_THREADS)]  # each holds a thread
    try:
        time.sleep(0.3)
        started = time.monotonic()
        status, answer = raw_request(port, f"GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                                           f"X-Motcua-Device-Token: {service.token}")
        assert status == 503 and "bận" in answer["error"] and time.monotonic() - started < 2
    finally:
        for s in idle:
            s.close()
    deadline = time.monotonic() + 5
    while not client._call("GET", "/status").get("ok"):  # the threads come back once their clients are gone
        assert time.monotonic() < deadline, "the device service stayed busy"
        time.sleep(0.1)
