"""A box whose storage fills up: it refuses to issue plainly, loses no number, and recovers.

The data directory lives on a 4 MB tmpfs made by the test (root only; skipped otherwise). A
filler file leaves a little room, tickets are issued until SQLite says "database or disk is
full", then the filler is deleted and issuing goes on with the next number. The worker runs
too (printer ``preview``: its previews land on the same small disk).
"""
import os
import re
import shutil
import subprocess

import pytest
import requests
from werkzeug.security import generate_password_hash

from tests.e2e.conftest import Box

PASSWORD = "kỹ thuật đĩa đầy"
ROOM = 96 * 1024  # bytes left free before issuing


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a size-limited tmpfs needs root and mount(8)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(directory, leave):
    """A filler file taking all the free space of ``directory``'s filesystem but ``leave`` bytes."""
    filler = directory / "filler"
    size = shutil.disk_usage(directory).free - leave
    with filler.open("wb") as handle:
        chunk = b"\0" * 65536
        while size > 0:
            handle.write(chunk[:min(size, len(chunk))])
            size -= len(chunk)
    return filler


def _client(box):
    session = requests.Session()
    html = session.get(box.url + "/kiosk", timeout=10).text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)[1]
    session.headers.update({"Origin": box.url, "X-CSRFToken": token})
    return session


def _sign_in_console(session, box):
    html = session.get(box.url + "/console/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    answer = session.post(box.url + "/console/login", data={"csrf_token": token, "password": PASSWORD},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text


def _issue(session, box):
    service = session.get(box.url + "/api/v1/services", timeout=10).json()[0]["code"]
    return session.post(box.url + "/api/v1/tickets", json={"service": service}, timeout=30)


def _kiosk_error_on_issuing(box):
    """What the kiosk's screen says when a citizen asks for a number (real Chromium)."""
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            kiosk = browser.new_page()
            kiosk.goto(box.url + "/kiosk")
            kiosk.get_by_role("button", name="Lấy số thứ tự").click()
            kiosk.locator("#services [data-service]").first.click()
            kiosk.get_by_role("button", name="Không ưu tiên", exact=True).click()
            kiosk.get_by_role("button", name="Không cần tin nhắn, lấy số").click()  # the phone is optional
            error = kiosk.locator("#kiosk-error")
            expect(error).to_be_visible()
            assert kiosk.locator("[data-step=ticket]").is_hidden()  # no ticket shown
            return error.inner_text()
        finally:
            browser.close()


def test_full_disk_refuses_tickets_plainly_and_recovers(small_disk, tmp_path):
    box = Box(small_disk / "data", tmp_path / "box.log", worker=True,
              extra=("--technician-password-hash", generate_password_hash(PASSWORD),
                     "--disk-problem-mb", "1", "--disk-warn-mb", "2")).start()
    try:
        kiosk, console = _client(box), _client(box)
        _sign_in_console(console, box)
        first = _issue(kiosk, box)
        assert first.status_code == 201, first.text
        numbers = [first.json()["number"]]
        filler = _fill(small_disk, ROOM)

        refused = None
        for _ in range(400):
            answer = _issue(kiosk, box)
            if answer.status_code != 201:
                refused = answer
                break
            numbers.append(answer.json()["number"])
        assert refused is not None, f"{len(numbers)} tickets fitted in {ROOM} bytes"
        # The kiosk is told plainly, in Vietnamese, in the documented JSON shape; no traceback.
        assert refused.status_code == 507, refused.text
        body = refused.json()
        assert body["ok"] is False and body["detail"] == {"reason": "disk_full"}
        assert "Bộ nhớ của hệ thống đã đầy" in body["error"] and "không cấp được số thứ tự" in body["error"]
        assert "Traceback" not in refused.text and "OperationalError" not in refused.text
        # Asked again, still refused the same way (no half-written ticket slipped in between).
        assert _issue(kiosk, box).status_code == 507

        if os.access("/usr/bin/chromium", os.X_OK):
            shown = _kiosk_error_on_issuing(box)
            assert "Bộ nhớ của hệ thống đã đầy" in shown and "báo cán bộ" in shown

        # The technician console names the cause and the remedy.
        health = console.get(box.url + "/console/health.json", timeout=30)
        assert health.status_code == 200, health.text
        disk = {r["key"]: r for r in health.json()["results"]}["disk"]
        assert disk["status"] == "problem"
        assert "đầy" in disk["remedy"] and "prints" in disk["remedy"]

        filler.unlink()
        again = _issue(kiosk, box)
        assert again.status_code == 201, again.text
        numbers.append(again.json()["number"])
        more = _issue(kiosk, box)
        assert more.status_code == 201, more.text
        numbers.append(more.json()["number"])
        assert [p.poll() for p in box.procs] == [None, None], "the web server and the worker outlive a full disk"
    finally:
        box.stop()

    # Gapless: every number the kiosk was given follows the previous one, none was skipped by
    # the refused attempts, and the database holds exactly the tickets that were handed out.
    seqs = [int(re.sub(r"\D", "", n)) for n in numbers]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), numbers
    import sqlite3

    conn = sqlite3.connect(box.db_path)
    try:
        stored = [row[0] for row in conn.execute("SELECT number FROM ticket ORDER BY seq")]
    finally:
        conn.close()
    assert stored == numbers
