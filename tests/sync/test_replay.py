"""A wire-tapper's copy of a signed box request is worth nothing: sent again, or after the
window, it is refused and returns nothing; a box whose clock is off learns the hub's time
from the refusal and gets through on the next try."""
import time

import pytest
import requests

from office import queue
from office.communes import all_communes
from sync import capture
from sync.box import _unsent, client_for, restore
from sync.capture import this_node
from sync.keys import sign
from sync.protocol import HUB_TIME, NONCE, ORIGIN, SIGNATURE, TIME, encode_batch, new_nonce, request_message

WINDOW_MS = 300_000  # the hub's default request_window_seconds
COMMUNES = iter(sorted(all_communes())[200:])


@pytest.fixture
def hub(module_hub):
    return module_hub


@pytest.fixture
def box(make_box):
    box = make_box(commune=next(COMMUNES))  # the module's tests share one hub: one commune each
    assert box.sync()["ok"]
    return box


def now_ms():
    return int(time.time() * 1000)


def signed_get(box, action, query="", at_ms=None):
    """The exact request a box sends (what a wire-tapper captures): (url path, headers)."""
    nonce, at_ms = new_nonce(), at_ms if at_ms is not None else now_ms()
    signature = sign(box.key, request_message(action, box.node_id, query, nonce, at_ms))
    path = f"/sync/v1/{action}" + (f"?{query}" if query else "")
    return path, {ORIGIN: box.node_id, SIGNATURE: signature, NONCE: nonce, TIME: str(at_ms)}


def send(hub, request):
    path, headers = request
    return requests.get(hub.url + path, headers=headers, timeout=20)


def push(hub, box, body, signature):
    return requests.post(hub.url + "/sync/v1/push", data=body, timeout=20,
                         headers={ORIGIN: box.node_id, SIGNATURE: signature})


def refused_with_nothing(response, reason):
    """Refused for ``reason``, and the answer holds no data and no signature, only the error."""
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    answer = response.json()
    assert answer["ok"] is False and answer["error"]
    assert (answer.get("reason") or answer["detail"]["reason"]) == reason, answer
    assert SIGNATURE not in response.headers and "acked_seq" not in answer and "entries" not in response.text
    return answer


def refusals(hub, origin, reason):
    rows = hub.query(f"select count from refusal_count where origin = '{origin}' and reason = '{reason}'")
    return rows[0][0] if rows else 0


def issue(box, n=2):
    with box:
        for _ in range(n):
            queue.issue_ticket(queue.QueuePolicy(), "ho-tich")


def test_replayed_snapshot_is_refused(hub, box):
    issue(box)
    assert box.sync()["ok"]  # the hub holds this commune's citizens' rows now
    captured = signed_get(box, "snapshot")
    first = send(hub, captured)
    assert first.status_code == 200 and first.headers[SIGNATURE] and len(first.content) > 100
    again = send(hub, captured)
    assert again.status_code == 409
    refused_with_nothing(again, "replay")
    hub.stop()
    hub.start()  # the nonces live in the database: a restart (or another worker) refuses it too
    refused_with_nothing(send(hub, captured), "replay")
    late = send(hub, signed_get(box, "snapshot", at_ms=now_ms() - WINDOW_MS - 1_000))  # captured 5 min ago
    assert late.status_code == 401 and abs(int(late.headers[HUB_TIME]) - now_ms()) < 60_000
    refused_with_nothing(late, "clock")
    assert refusals(hub, box.node_id, "replay") == 2 and refusals(hub, box.node_id, "clock") == 1


def test_replayed_pull_is_refused(hub, box):
    captured = signed_get(box, "pull", "cursor=0&limit=100")
    assert send(hub, captured).status_code == 200
    refused_with_nothing(send(hub, captured), "replay")
    refused_with_nothing(send(hub, signed_get(box, "pull", "cursor=0&limit=100", at_ms=now_ms() - WINDOW_MS - 1_000)),
                         "clock")
    refused_with_nothing(send(hub, signed_get(box, "pull", "cursor=0&limit=100", at_ms=now_ms() + WINDOW_MS + 1_000)),
                         "clock")


def test_replayed_push_is_refused(hub, box):
    issue(box)
    with box:
        rows = _unsent(this_node(), 10_000)
    body, signature = encode_batch(box.node_id, rows, box.key, 1)
    first = push(hub, box, body, signature)
    assert first.status_code == 200 and first.json()["applied"] == len(rows)
    tickets = hub.query(f"select count(*) from ticket where commune = '{box.commune}'")
    again = push(hub, box, body, signature)
    assert again.status_code == 409
    refused_with_nothing(again, "replay")
    issue(box)
    with box:
        rows = _unsent(this_node(), 10_000)[len(rows):]
    late = push(hub, box, *encode_batch(box.node_id, rows, box.key, 1, at_ms=now_ms() - WINDOW_MS - 1_000))
    assert late.status_code == 401
    refused_with_nothing(late, "clock")
    assert hub.query(f"select count(*) from ticket where commune = '{box.commune}'") == tickets


def test_replayed_refused_push_is_refused_as_a_replay(hub, box):
    """The nonce of a push is kept in the transaction that applies it; a push refused after it
    (rolled back) still has its nonce kept, so its copy is a replay, not a second try."""
    issue(box)
    with box:
        rows = _unsent(this_node(), 10_000)[1:]  # the first entry left out: a gap
    body, signature = encode_batch(box.node_id, rows, box.key, 1)
    first = push(hub, box, body, signature)
    assert first.status_code == 409 and first.json()["reason"] == "gap"
    refused_with_nothing(push(hub, box, body, signature), "replay")
    assert box.sync()["ok"] and box.status()["pending"] == 0


def test_replayed_enrol_request_is_refused(hub, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from provisioning.bundle import read_bundle
    from provisioning.enrol import enrol_request
    from tests.provisioning.conftest import make_bundle

    commune = next(COMMUNES)
    make_bundle(hub, tmp_path / "b.motcua", commune)
    bundle = read_bundle(tmp_path / "b.motcua")
    token, key = bundle.box["enrol_token"], Ed25519PrivateKey.generate()

    def post(body, signature):
        return requests.post(hub.url + "/sync/v1/enrol", data=body, timeout=20,
                             headers={SIGNATURE: signature, "Content-Type": "application/json"})

    late = post(*enrol_request(key, token, bundle.bundle_id, commune, True, at_ms=now_ms() - WINDOW_MS - 1_000))
    assert late.status_code == 401
    refused_with_nothing(late, "clock")
    captured = enrol_request(key, token, bundle.bundle_id, commune, True)
    assert post(*captured).json()["ok"]
    again = post(*captured)
    assert again.status_code == 409 and "node_id" not in again.json()
    refused_with_nothing(again, "replay")


def test_box_clock_at_1970_learns_hub_time_from_the_refusal(hub, make_box, monkeypatch):
    monkeypatch.setattr(capture, "now_ms", lambda: 5_000)  # no RTC: the Pi thinks it is 1 January 1970
    box = make_box(commune=next(COMMUNES))
    issue(box)
    result = box.sync()
    assert result["ok"] and result["pending"] == 0, result
    assert refusals(hub, box.node_id, "clock") == 1  # refused once, then restamped with the hub's time
    assert hub.query(f"select count(*) from ticket where commune = '{box.commune}'") == [(2,)]
    # a replacement box, booted in 1970 too, restores the commune from a snapshot
    new = make_box(commune=box.commune, register=False, seed=False, name="replacement-1970")
    hub.register(new, replaces=box.node_id)
    with new:
        counts = restore(client_for(new.settings, new.key))
    assert counts["ticket"] == 2
    assert refusals(hub, new.node_id, "clock") == 1


def test_box_of_the_previous_release(hub, box):
    """Its pushes (dated by the signed sent_ms, keyed by the body's hash) are taken once; its
    pulls and snapshots sign no time: refused, with what to do."""
    import gzip

    from sync.encoding import canonical
    from sync.protocol import PROTOCOL, SCHEMA

    issue(box)
    with box:
        rows = _unsent(this_node(), 10_000)
    doc = {"protocol": PROTOCOL, "schema": SCHEMA, "origin": box.node_id, "sent_hlc": 1, "entries": rows,
           "extra": {"pending": 0, "sent_ms": now_ms()}}
    body = gzip.compress(canonical(doc), compresslevel=1)
    assert push(hub, box, body, sign(box.key, body)).json()["applied"] == len(rows)
    refused_with_nothing(push(hub, box, body, sign(box.key, body)), "replay")
    nonce = new_nonce()
    old_get = requests.get(hub.url + "/sync/v1/snapshot", timeout=20, headers={
        ORIGIN: box.node_id, NONCE: nonce, SIGNATURE: sign(box.key, f"snapshot\n{box.node_id}\n\n{nonce}".encode())})
    assert old_get.status_code == 426
    assert "cập nhật phần mềm" in refused_with_nothing(old_get, "unstamped")["error"]


def test_box_at_1970_enrols_after_learning_hub_time(hub, tmp_path, monkeypatch):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from provisioning.bundle import read_bundle
    from provisioning.enrol import enrol_with
    from sync.keys import node_id
    from tests.provisioning.conftest import make_bundle

    commune = next(COMMUNES)
    make_bundle(hub, tmp_path / "b.motcua", commune)
    bundle = read_bundle(tmp_path / "b.motcua")
    key = Ed25519PrivateKey.generate()
    monkeypatch.setattr(capture, "now_ms", lambda: 5_000)  # a new Pi, first boot, no RTC
    url, answer = enrol_with([hub.url], key, bundle.box["enrol_token"], bundle.bundle_id, commune, True)
    assert url == hub.url and answer["ok"] and answer["node_id"] == node_id(key)
    assert refusals(hub, node_id(key), "clock") == 1
