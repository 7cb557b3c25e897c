"""``motcua demo``: a hub and N commune boxes on 127.0.0.1 with demo data, until Ctrl-C."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from datetime import datetime
from zoneinfo import ZoneInfo

import click
from werkzeug.security import generate_password_hash

from office.communes import authority_name

# Real communes/wards (GSO codes) for the demo boxes, after the 2025 reorganisation.
DEMO_COMMUNES = ("05518", "00454", "12004", "01849", "05533", "00376")
DEMO_OPERATOR, DEMO_OPERATOR_PASSWORD = "admin", "motcua-hub"
DEMO_TECHNICIAN_PASSWORD = "kythuat123"


@click.command()
@click.option("--port-base", default=8000, show_default=True, help="Hub port; boxes use the next ports.")
@click.option("--data-dir", default="var/demo", show_default=True, type=click.Path(file_okay=False))
@click.option("--boxes", default=2, show_default=True, type=click.IntRange(1, len(DEMO_COMMUNES)))
def demo(port_base, data_dir, boxes):
    """Run a hub and commune boxes with demo services, counters and officers."""
    data = Path(data_dir).resolve()
    busy = [port for port in range(port_base, port_base + boxes + 1) if not _port_free(port)]
    if busy:
        raise click.ClickException(f"Cổng {', '.join(map(str, busy))} đang được dùng; chọn --port-base khác.")
    procs = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped by a supervisor: still stop the children
    try:
        hub_dir, hub_url = data / "hub", f"http://127.0.0.1:{port_base}"
        hub_args = ("--data-dir", hub_dir)
        hub_key = subprocess.run(_command("hub", "key", *hub_args), check=True, capture_output=True, text=True).stdout
        token = _demo_operator(hub_args)
        subprocess.run(_command("hub", "import-catalog", "--sample", 60, hub_dir / "catalog-sample.json", *hub_args),
                       check=True, stdout=subprocess.DEVNULL)  # procedures for the kiosks: the boxes pull them
        citizen_codes = ("--citizen-code-channel", "log")  # a demo has no SMS gateway: codes show in this window
        procs.append(_spawn("hub", "serve", "--port", port_base, *hub_args, *citizen_codes))
        procs.append(_spawn("hub", "worker", *hub_args, *citizen_codes))  # reminders and citizen messages (log channel)
        urls, technician = [], generate_password_hash(DEMO_TECHNICIAN_PASSWORD)
        for i in range(1, boxes + 1):
            box_dir, port, commune = data / f"box-{i}", port_base + i, DEMO_COMMUNES[i - 1]
            common = ("--data-dir", box_dir, "--port", port, "--commune-code", commune, "--printer", "preview",
                      "--hub-url", hub_url, "--technician-password-hash", technician)
            subprocess.run(_command("edge", "init", "--demo-data", "--hub-key", hub_key.strip(), *common), check=True,
                           stdout=subprocess.DEVNULL)
            subprocess.run(_command("hub", "register-box", "--commune", commune, "--public-key",
                                    box_dir / "keys" / "box.pub", *hub_args), check=True, stdout=subprocess.DEVNULL)
            samples = _seed_dossiers(box_dir, commune)
            procs.append(_spawn("edge", "serve", *common))
            procs.append(_spawn("edge", "worker", *common))
            urls.append((f"http://127.0.0.1:{port}", box_dir, samples))
        _wait_healthy([f"http://127.0.0.1:{port_base}"] + [u for u, *_ in urls], procs)
        _seed_reminders(hub_url, DEMO_COMMUNES[:boxes], token)
        _print_summary(port_base, urls)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        click.echo("Một tiến trình đã dừng; đang tắt bản demo.", err=True)
    except KeyboardInterrupt:
        click.echo("\nĐang tắt...")
    finally:
        _stop(procs)


def _port_free(port):
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _command(*args):
    return [sys.executable, "-m", "motcua", *map(str, args)]


def _spawn(*args):
    # Own process group: Ctrl-C reaches the demo, which then stops children in order.
    # The demo's kiosks issue numbers at any hour, so it can be tried in the evening; a real box
    # follows the office calendar (setting issue_any_time, off by default). A hub and several boxes
    # share this machine's cores: each would pin its web worker to the same last core (motcua.cpus).
    return subprocess.Popen(_command(*args), start_new_session=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1", MOTCUA_ISSUE_ANY_TIME="true",
                                     MOTCUA_CPU_PINNING="false"))


def _wait_healthy(bases, procs, timeout=30):
    import requests

    deadline = time.monotonic() + timeout
    for base in bases:
        while True:
            if any(p.poll() is not None for p in procs):
                raise click.ClickException("Một tiến trình không khởi động được (xem thông báo ở trên).")
            try:
                if requests.get(f"{base}/api/v1/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise click.ClickException(f"{base} không trả lời sau {timeout} giây.")
            time.sleep(0.2)


def _demo_operator(hub_args):
    """The demo's operator ``admin`` (its password needs no change) and an API token to seed the hub with."""
    made = subprocess.run(_command("hub", "account", "add", DEMO_OPERATOR, "--role", "operator", "--full-name",
                                   "Quản trị (demo)", "--password-file", "-", *hub_args),
                          input=DEMO_OPERATOR_PASSWORD + "\n", capture_output=True, text=True)
    if made.returncode != 0 and "đã có" not in made.stderr:  # a second run on the same data keeps the account
        raise click.ClickException(made.stderr.strip() or "Không tạo được tài khoản quản trị của bản demo.")
    return subprocess.run(_command("hub", "account", "token", DEMO_OPERATOR, "--label", "demo", *hub_args),
                          check=True, capture_output=True, text=True).stdout.strip()


def _seed_dossiers(box_dir, commune):
    """Demo dossiers in the box's database before it serves (once per data dir): [(code, secret,
    state)] for the tracking links the summary prints."""
    from motcua.settings import load_settings
    from office.db import bind, open_database
    from office.demo_dossiers import DEMO_DOSSIERS, seed_demo_dossiers
    from office.dossiers import Dossier
    from office.models import MODELS, Office
    from office.seed import DEMO_OFFICERS

    settings = load_settings("edge", environ={}, overrides={"data_dir": str(box_dir), "commune_code": commune})
    db = bind(open_database(settings["database"]), MODELS)
    try:
        office = Office.select().first()
        now = datetime.now(ZoneInfo(settings["timezone"])).replace(tzinfo=None)
        seed_demo_dossiers(office.agency_code, DEMO_OFFICERS[0][1], now)
        order = {name: i for i, (name, _, _) in enumerate(DEMO_DOSSIERS)}
        rows = sorted(Dossier.select().where(Dossier.applicant_name.in_(list(order))),
                      key=lambda d: order[d.applicant_name])
        states = {name: state for name, _, state in DEMO_DOSSIERS}
        return [(d.code, d.tracking_secret, states[d.applicant_name]) for d in rows]
    finally:
        db.close()


def _seed_reminders(hub_url, communes, token):
    """A weekday rule at 08:00 and 14:00 and who gets it, on the log channel (see /notifications);
    what a former run on the same data seeded is kept, not seeded again."""
    import requests

    from office.seed import DEMO_OFFICERS  # the domain's models: not loaded by every `motcua` command

    auth, api = {"Authorization": f"Bearer {token}"}, f"{hub_url}/api/v1/reminders"
    posts = [(api, {"name": "Nhắc hồ sơ sắp đến hạn và quá hạn", "what": "both", "lead": 2, "lead_unit": "days",
                    "audience": "both", "channels": "log", "times": "08:00,14:00", "weekdays": "0,1,2,3,4"})]
    for commune in communes:
        posts.append((f"{api}/contacts", {"name": f"Lãnh đạo {authority_name(commune)}", "commune": commune,
                                          "role": "leader", "phone": "0912000000"}))
        posts += [(f"{api}/contacts", {"name": name, "handler": username, "commune": commune, "role": "handler",
                                       "phone": "0912000001"}) for username, name in DEMO_OFFICERS]
    rules = requests.get(api, headers=auth, timeout=10)
    contacts = requests.get(f"{api}/contacts", headers=auth, timeout=10)
    rules.raise_for_status(), contacts.raise_for_status()
    seen = {("rule", r["name"]) for r in rules.json()}
    seen |= {("contact", c["name"], c.get("commune") or "", c.get("role")) for c in contacts.json()}
    for url, body in posts:
        key = (("contact", body["name"], body["commune"], body["role"]) if url.endswith("/contacts")
               else ("rule", body["name"]))
        if key in seen:
            continue
        requests.post(url, json=body, headers=auth, timeout=10).raise_for_status()


def _print_summary(port_base, urls):
    from office.demo_dossiers import STATE_LABELS
    from office.seed import DEMO_COUNTERS, DEMO_OFFICERS, DEMO_PASSWORD

    echo = click.echo
    echo("\n=== motcua demo đang chạy (Ctrl-C để dừng) ===")
    hub = f"http://127.0.0.1:{port_base}"
    echo(f"Mở trang này trước: {urls[0][0]}/   (trang chính của hộp 1: kiosk, phòng chờ, quầy, đánh giá, kỹ thuật)")
    echo("Bản demo cấp số thứ tự vào mọi giờ; hộp thật chỉ cấp số trong giờ làm việc (cài đặt issue_any_time).")
    echo(f"\nTrung tâm (hub):        {hub}/   (đăng nhập {DEMO_OPERATOR} / {DEMO_OPERATOR_PASSWORD})")
    echo(f"  Thống kê, báo cáo:    {hub}/stats")
    echo(f"  Danh mục thủ tục:     {hub}/catalog")
    echo(f"  Hồ sơ liên thông:     {hub}/agency")
    echo(f"  Tra cứu hồ sơ:        {hub}/tracking")
    echo(f"  Nhắc việc:            {hub}/reminders")
    echo(f"  Tin nhắn gửi đi:      {hub}/notifications")
    echo(f"  Tài khoản:            {hub}/accounts")
    echo(f"  Nhật ký thao tác:     {hub}/audit")
    echo(f"  Lịch hẹn (xã đặt chỗ): {hub}/dat-lich")
    echo(f"\nCông dân (điện thoại): {hub}/cong-dan/   (mã xác thực hiện trong cửa sổ này: bản demo không gửi SMS)")
    echo(f"  Phản ánh công khai:   {hub}/phan-anh")
    echo(f"  Open311 GeoReport v2: {hub}/open311/v2/services.json")
    for i, (base, box_dir, samples) in enumerate(urls, 1):
        echo(f"\nHộp {i}: {base}/   (dữ liệu: {box_dir})")
        echo(f"  Kiosk lấy số:         {base}/kiosk")
        echo(f"  Màn hình phòng chờ:   {base}/lobby")
        echo(f"  Bàn làm việc cán bộ:  {base}/counter")
        for number in DEMO_COUNTERS:
            echo(f"  Đánh giá quầy {number}:       {base}/rate/{number}   (ghép lần đầu: cán bộ quầy {number} đăng nhập)")
        echo(f"  Tiếp nhận hồ sơ:      {base}/dossiers   (cán bộ đăng nhập tại quầy trước)")
        echo(f"  Thông tin địa phương: {base}/places")
        echo(f"  Phản ánh của xã:      {base}/reports   (cán bộ đăng nhập tại quầy trước)")
        echo(f"  Tra cứu hồ sơ:        {base}/tracking")
        for code, secret, state in samples:
            echo(f"    hồ sơ mẫu {STATE_LABELS[state]}: {base}/tracking?code={code}&secret={secret}")
        if samples:
            echo(f"    (trung tâm có các hồ sơ này sau lần đồng bộ đầu, khoảng 1 phút: {hub}/tracking?code=...)")
        echo(f"  Danh mục thủ tục:     {base}/procedures")
        echo(f"  Thống kê:             {base}/stats   (cán bộ đăng nhập tại quầy trước)")
        echo(f"  Đồng bộ với trung tâm: {base}/sync")
        echo(f"  Bảng kỹ thuật:        {base}/console   (mật khẩu {DEMO_TECHNICIAN_PASSWORD})")
        echo(f"  API:                  {base}/api/v1/services")
        echo(f"  Phiếu in (ESC/POS + PNG): {box_dir / 'prints'}")
    echo("\nĐăng nhập cán bộ (mọi hộp): " + ", ".join(u for u, _ in DEMO_OFFICERS) + f" / mật khẩu: {DEMO_PASSWORD}")


def _stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 10
    for p in procs:
        try:
            p.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
