"""Officer sign-in at a counter: sessions that really end, lockout, no telling which names exist."""
import statistics
import time

from office import officers
from office.models import Counter
from tests.conftest import sign_in


def attempt(client, username="canbo1", password="sai-mat-khau", address="10.0.0.5", counter=1):
    return client.post("/api/v1/session", json={"username": username, "password": password, "counter": counter},
                       environ_base={"REMOTE_ADDR": address})


def test_kept_cookie_opens_nothing_after_sign_out(client):
    sign_in(client)
    kept = client.get_cookie("session").value
    assert client.get("/api/v1/print-jobs").status_code == 200
    assert client.get("/stats", headers={"Accept": "application/json"}).status_code == 200
    assert client.delete("/api/v1/session").status_code == 200
    client.set_cookie("session", kept)  # the cookie as it was before signing out
    assert client.get("/api/v1/print-jobs").status_code == 401
    assert client.post("/api/v1/counters/1/next").status_code == 401
    dossiers = client.get("/dossiers")
    assert dossiers.status_code == 302 and dossiers.location.endswith("/counter")
    assert client.get("/stats").status_code == 302


def test_disabled_officer_cannot_call_tickets(client):
    sign_in(client)
    client.post("/api/v1/tickets", json={"service": "ho-tich"})
    officers.deactivate("canbo1")
    answer = client.post("/api/v1/counters/1/next")
    assert answer.status_code == 401 and answer.get_json()["error"] == "Bạn cần đăng nhập tại quầy."
    assert client.get("/api/v1/print-jobs").status_code == 401
    assert client.get("/dossiers").status_code == 302
    assert Counter.get(Counter.number == 1).officer_id is None  # the counter is free again
    assert attempt(client, password="motcua123").status_code == 401


def test_a_new_password_ends_the_officers_sessions(client):
    sign_in(client)
    officers.set_password("canbo1", "mat-khau-moi-2026")
    assert client.get("/api/v1/print-jobs").status_code == 401


def test_officer_sign_in_locks_after_five_wrong_passwords(client):
    for _ in range(4):
        assert attempt(client).status_code == 401
    locked = attempt(client)
    assert locked.status_code == 429
    assert "Nhập sai mật khẩu quá 5 lần" in locked.get_json()["error"]
    assert attempt(client, password="motcua123").status_code == 429  # even the right password waits
    assert attempt(client, "canbo2", "motcua123", counter=2).status_code == 429  # the address is locked
    assert attempt(client, "canbo1", "motcua123", address="10.0.0.6").status_code == 200  # not the officer


def test_guessing_one_officers_password_from_many_addresses_stops_too(client):
    for n in range(20):
        assert attempt(client, address=f"10.0.1.{n}").status_code in (401, 429)
    assert attempt(client, password="motcua123", address="10.0.2.1").status_code == 429
    assert attempt(client, "canbo2", "motcua123", address="10.0.2.2", counter=2).status_code == 200


def test_unknown_usernames_take_the_work_of_a_wrong_password(client, monkeypatch):
    checked = []
    real_check = officers.check_password_hash
    monkeypatch.setattr(officers, "check_password_hash", lambda h, p: checked.append(h) or real_check(h, p))
    assert attempt(client, "khong-ton-tai", address="10.0.1.1").status_code == 401
    assert len(checked) == 1  # a password was checked against a hash all the same

    def took(username, address):
        start = time.perf_counter()
        assert attempt(client, username, address=address).status_code == 401
        return time.perf_counter() - start

    took("khong-ton-tai-0", "10.0.2.0")  # the dummy hash is made once
    known = statistics.median(took("canbo1" if i < 4 else "canbo3", f"10.0.3.{i}") for i in range(7))
    unknown = statistics.median(took(f"khong-ton-tai-{i}", f"10.0.4.{i}") for i in range(7))
    assert unknown > known * 0.5, (known, unknown)
