"""A damaged card: the box's SQLite file has pages overwritten in the middle (what a failing SD
card does), then the box starts. It keeps the damaged file aside, rebuilds from the hub (SQLite
and PostgreSQL hubs), goes on with its change log where the hub has it, and says which of its
entries the hub never had: on its output, in a report file and on the technician console.
"""
import hashlib
import json
import re
import sqlite3

import pytest
import requests
from werkzeug.security import generate_password_hash

from office.models import Officer
from office.queue import QueuePolicy, call_next, finish, issue_ticket, sign_in, start_serving
from office.ratings import rate
from sync import box as sync_box
from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.processes import wait_for
from tests.sync.conftest import Box, running_hub

from .box_processes import WholeBox

PASSWORD = "kythuat-the-nho"
BANNER = "CƠ SỞ DỮ LIỆU CỦA HỘP BỊ HỎNG"


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path):
    yield from running_hub(request.param, tmp_path / "hub")


def damage(path, tables):
    """Overwrite with garbage every page of ``tables`` (their rows and indexes): pages in the
    middle of the file, away from the schema (page 1) and the change log. Returns the pages."""
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute(
            f"SELECT name FROM sqlite_master WHERE tbl_name IN ({','.join('?' * len(tables))})", tables)]
        pages = sorted({r[0] for r in conn.execute(
            f"SELECT pageno FROM dbstat WHERE name IN ({','.join('?' * len(names))})", names)})
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        total = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    assert pages and 1 not in pages and max(pages) < total
    with open(path, "r+b") as handle:
        for page in pages:
            handle.seek((page - 1) * size)
            handle.write(bytes((page * 37 + i * 11) % 251 for i in range(size)))
    return pages


def box_with_history(hub, root):
    """A box whose first tickets and rating reached the hub, then three tickets that did not."""
    box = Box(root, "05518", hub)
    hub.register(box)
    policy = QueuePolicy()
    with box:
        acked = [issue_ticket(policy, "ho-tich").number for _ in range(4)]
        counter = sign_in(1, Officer.get(Officer.username == "canbo1")).id
        served = call_next(policy, counter)
        start_serving(counter)
        finish(counter)
        rate(served.id, 3)
    assert box.sync()["ok"]
    with box:
        acked_seq = sync_box.status()["acked_seq"]
        lost = [issue_ticket(policy, "ho-tich").number for _ in range(3)]
        assert sync_box.status()["pending"] >= 3
    box.db.close()  # the file alone is the database (the WAL checkpointed into it)
    return box, acked, acked_seq, lost


def read(path, sql):
    with sqlite3.connect(path) as conn:
        rows = conn.execute(sql).fetchall()
    conn.close()
    return rows


def _client(url):
    session = requests.Session()
    html = session.get(url + "/kiosk", timeout=10).text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)[1]
    session.headers.update({"Origin": url, "X-CSRFToken": token})
    return session


def test_damaged_card_is_kept_aside_and_rebuilt_from_the_hub(hub, tmp_path):
    box, acked, acked_seq, lost = box_with_history(hub, tmp_path / "box")
    path = box.dir / "edge.db"
    damage(path, ("ticket", "print_job"))
    damaged_digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert not _sound(path)

    whole = WholeBox(box.dir, ["--commune-code", "05518", "--hub-url", hub.url, "--printer", "preview",
                               "--technician-password-hash", generate_password_hash(PASSWORD)])
    try:
        whole.start()
        output = whole.tail(20000)
        assert output.count(BANNER) == 1, output  # one process rebuilt it, the others found it sound

        # the damaged file, kept aside as it was
        aside = [p for p in box.dir.glob("edge.db.damaged-*") if not p.name.endswith(("-wal", "-shm"))]
        assert len(aside) == 1, sorted(p.name for p in box.dir.iterdir())
        assert hashlib.sha256(aside[0].read_bytes()).hexdigest() == damaged_digest
        assert str(aside[0]) in output

        # the new database: sound, the acknowledged tickets back from the hub, the lost ones listed
        assert read(path, "PRAGMA quick_check") == [("ok",)]
        held = {n for (n,) in read(path, "SELECT number FROM ticket")}
        assert set(acked) <= held and not set(lost) & held
        reports = sorted((box.dir / "recovery").glob("*.json"))
        assert len(reports) == 1 and reports[0].with_suffix(".txt").is_file()
        report = json.loads(reports[0].read_text("utf-8"))
        assert report["status"] == "restored" and report["hub_acked_seq"] == acked_seq
        assert report["unreadable"] == 0
        lost_tickets = [i["what"] for i in report["lost"] if i["kind"] == "Vé" and i["op"] == "thêm"]
        assert lost_tickets == [f"vé {n}" for n in lost], report["lost"]
        assert report["lost_by_kind"] == {"Vé": 3}, report["lost"]  # each ticket (its issue is its row)
        assert "0912345678" not in reports[0].read_text("utf-8")
        for number in lost:
            assert number in output

        # the box goes on: a new ticket takes none of the lost numbers, and the hub takes its log
        session = _client(whole.url)
        issued = session.post(whole.url + "/api/v1/tickets", json={"service": "ho-tich"}, timeout=30)
        assert issued.status_code == 201, issued.text
        assert issued.json()["number"] not in set(acked) | set(lost)
        wait_for(lambda: session.get(whole.url + "/api/v1/sync", timeout=10).json()["pending"] == 0, 45,
                 step=0.3, what="the rebuilt box's new entries to reach the hub")
        state = session.get(whole.url + "/api/v1/sync", timeout=10).json()
        assert not state["last_error"], state
        numbers = {n for (n,) in hub.query("SELECT number FROM ticket")}
        assert issued.json()["number"] in numbers and not set(lost) & numbers
        assert hub.query(f"SELECT status FROM box_node WHERE node_id = '{box.node_id}'") == [("active",)]

        _console_says_so(whole, lost, len(report["lost"]), hub_kind="pg" if hub.database_url else "sqlite")
    finally:
        whole.stop()


def _sound(path):
    try:
        return read(path, "PRAGMA quick_check") == [("ok",)]
    except sqlite3.Error:
        return False


def _console_says_so(whole, lost, count, hub_kind):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for name, size in (("laptop", {"width": 1366, "height": 768}), ("phone", {"width": 390, "height": 844})):
                page = browser.new_page(viewport=size)
                page.goto(whole.url + "/console/login")
                page.fill("#password", PASSWORD)
                page.press("#password", "Enter")
                page.wait_for_selector("[data-check=recovery]")
                card = page.locator("[data-check=recovery]")
                assert card.get_attribute("data-status") == "warning"
                text = card.inner_text()
                assert "cơ sở dữ liệu bị hỏng" in text and f"{count} mục trung tâm chưa nhận bị mất" in text, text
                table = page.locator("#recovery-lost + .card").inner_text()
                for number in lost:
                    assert f"vé {number}" in table
                page.locator("#recovery-lost").scroll_into_view_if_needed()
                SCREENSHOTS.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"console-damaged-card-{hub_kind}-{name}.png"), full_page=True)
                assert_accessible(page)
                page.close()
        finally:
            browser.close()


def test_damaged_card_while_the_hub_is_out_of_reach_is_rebuilt_when_it_answers(hub, tmp_path):
    """No hub at start: the damaged file is still kept aside, the console names a problem, and
    the worker loads the commune (and completes the report) as soon as the hub answers."""
    box, acked, acked_seq, lost = box_with_history(hub, tmp_path / "box")
    damage(box.dir / "edge.db", ("ticket",))
    hub.stop()
    whole = WholeBox(box.dir, ["--commune-code", "05518", "--hub-url", hub.url, "--printer", "preview"])
    try:
        whole.start()
        assert BANNER in whole.tail(20000)
        (report_path,) = (box.dir / "recovery").glob("*.json")
        assert json.loads(report_path.read_text("utf-8"))["status"] == "pending"
        assert len(list(box.dir.glob("edge.db.damaged-*"))) >= 1
        hub.start()
        wait_for(lambda: json.loads(report_path.read_text("utf-8"))["status"] == "restored", 60, step=0.3,
                 what="the worker to restore the box once the hub answers")
        report = json.loads(report_path.read_text("utf-8"))
        assert report["hub_acked_seq"] == acked_seq
        assert [i["what"] for i in report["lost"] if i["kind"] == "Vé"] == [f"vé {n}" for n in lost]
        held = {n for (n,) in read(box.dir / "edge.db", "SELECT number FROM ticket")}
        assert set(acked) <= held
        session = _client(whole.url)
        issued = session.post(whole.url + "/api/v1/tickets", json={"service": "ho-tich"}, timeout=30)
        assert issued.status_code == 201 and issued.json()["number"] not in set(lost) | set(acked)
    finally:
        whole.stop()


def test_entries_still_in_the_write_ahead_log_are_read_and_the_file_kept_as_found(tmp_path):
    """A power cut leaves the last transactions in ``-wal``: they are read (from a scratch copy),
    and neither the damaged file nor its log is changed by reading them."""
    import shutil

    from office.db import bind, database, open_database
    from office.models import MODELS
    from provisioning.recover import read_damaged, set_aside
    from sync.capture import this_node

    live = tmp_path / "live.db"
    db = bind(open_database(str(live)), MODELS)
    from office.communes import find_commune
    from office.seed import seed_office
    from provisioning.identity import ensure_identity

    ensure_identity(tmp_path, "05518")
    seed_office(find_commune("05518"))
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    numbers = [issue_ticket(QueuePolicy(), "ho-tich").number for _ in range(3)]  # only in the WAL
    last_seq = this_node().last_seq
    cut = tmp_path / "cut"
    cut.mkdir()
    shutil.copyfile(live, cut / "edge.db")  # the card as the power left it
    shutil.copyfile(f"{live}-wal", cut / "edge.db-wal")
    db.close()
    database.initialize(None)
    assert (cut / "edge.db-wal").stat().st_size > 0
    aside = set_aside(cut / "edge.db", "20261205T000000Z")
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in cut.iterdir()}
    salvage = read_damaged(aside)
    assert salvage.node["last_seq"] == last_seq
    assert [e["data"]["number"] for e in salvage.entries if e["table"] == "ticket"] == numbers
    assert [e["seq"] for e in salvage.entries] == list(range(1, last_seq + 1))
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in cut.iterdir()} == digests
    assert not (cut / "edge.db").exists()
