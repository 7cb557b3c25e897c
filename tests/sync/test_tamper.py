"""Tampered, replayed, spliced, truncated, foreign and unauthorised batches: each refused with a
recorded reason, and nothing applied."""
import copy

import pytest
import requests

from office import queue
from office.communes import all_communes
from office.models import Holiday, Office
from sync.box import _unsent
from sync.capture import CaptureError, entry_hash, this_node
from sync.protocol import FIELDS, ORIGIN, SIGNATURE, encode_batch


def issue(box, n=3):
    with box:
        for _ in range(n):
            queue.issue_ticket(queue.QueuePolicy(), "ho-tich")


def rows_of(box):
    with box:
        return _unsent(this_node(), 10_000)


def post(hub, origin, body, signature):
    return requests.post(hub.url + "/sync/v1/push", data=body, timeout=10,
                         headers={ORIGIN: origin, SIGNATURE: signature})


def hub_state(hub):
    return (hub.query("select count(*) from change_entry")[0][0], hub.query("select count(*) from ticket")[0][0])


def last_rejection(hub):
    return tuple(hub.query("select origin, reason from rejection order by id desc limit 1")[0])


def refusals(hub, origin, reason):
    """How many requests of ``origin`` were refused for ``reason`` without proving who sent them."""
    rows = hub.query(f"select count from refusal_count where origin = '{origin}' and reason = '{reason}'")
    return rows[0][0] if rows else 0


def rechain(rows, node_id, seq0, prev0):
    """Re-number and re-hash entry arrays as a box would have (what an insider could forge)."""
    prev = prev0
    out = []
    for i, row in enumerate(rows):
        entry = dict(zip(FIELDS, row), origin=node_id)
        entry["seq"], entry["prev"] = seq0 + i, prev
        entry["hash"] = entry_hash(entry)
        prev = entry["hash"]
        out.append([entry[f] for f in FIELDS])
    return out


@pytest.fixture
def hub(module_hub):
    return module_hub


COMMUNES = iter(sorted(all_communes()))


@pytest.fixture
def synced_box(hub, make_box):
    box = make_box(commune=next(COMMUNES))  # the module's tests share one hub: one commune each
    assert box.sync()["ok"]
    issue(box)
    return box


def test_bit_flips_anywhere_in_the_body_break_the_signature(hub, synced_box):
    rows = rows_of(synced_box)
    body, signature = encode_batch(synced_box.node_id, rows, synced_box.key, 1)
    before, counted = hub_state(hub), refusals(hub, synced_box.node_id, "bad_signature")
    positions = range(0, len(body), max(len(body) // 12, 1))
    for position in positions:
        flipped = bytearray(body)
        flipped[position] ^= 0x01
        response = post(hub, synced_box.node_id, bytes(flipped), signature)
        assert response.status_code == 401 and response.json()["reason"] == "bad_signature"
    assert hub_state(hub) == before
    assert refusals(hub, synced_box.node_id, "bad_signature") == counted + len(positions)


@pytest.mark.parametrize("field", FIELDS)
def test_a_changed_field_is_caught_even_when_re_signed(hub, synced_box, field):
    """An insider with the box's key changes one field of one entry and signs again."""
    rows = copy.deepcopy(rows_of(synced_box))
    row = rows[1]
    index = FIELDS.index(field)
    value = row[index]
    if isinstance(value, dict):
        row[index] = {**value, "forged": 1} if value else {"x": 1}
    elif isinstance(value, int):
        row[index] = value + 1
    else:
        row[index] = (value or "") + "x"
    before = hub_state(hub)
    body, signature = encode_batch(synced_box.node_id, rows, synced_box.key, 1)
    response = post(hub, synced_box.node_id, body, signature)
    assert response.status_code in (400, 403, 409), response.text
    assert response.json()["ok"] is False and response.json()["error"]
    assert hub_state(hub) == before
    assert last_rejection(hub)[1] in {"bad_hash", "bad_chain", "gap", "invalid", "scope", "unknown_table", "not_owner"}


def test_replayed_old_batch_applies_nothing_and_is_noted(hub, synced_box):
    """The same rows signed again in a new request (a box whose answer was lost) are acknowledged,
    applied once; the same request bytes again are a replay: refused, and nothing learnt."""
    rows = rows_of(synced_box)
    body, signature = encode_batch(synced_box.node_id, rows, synced_box.key, 1)
    assert post(hub, synced_box.node_id, body, signature).json()["applied"] == len(rows)
    before = hub_state(hub)
    resent = post(hub, synced_box.node_id, *encode_batch(synced_box.node_id, rows, synced_box.key, 1))
    assert resent.status_code == 200 and resent.json()["applied"] == 0 and resent.json()["duplicates"] == len(rows)
    # a routine resend is acknowledged, not listed among the rejected batches
    assert hub.query(f"select count(*) from rejection where origin = '{synced_box.node_id}' "
                     "and reason = 'replay'") == [(0,)]
    again = post(hub, synced_box.node_id, body, signature)
    assert again.status_code == 409 and again.json()["reason"] == "replay" and "acked_seq" not in again.json()
    assert hub_state(hub) == before
    assert refusals(hub, synced_box.node_id, "replay") == 1


def test_spliced_batches(hub, synced_box):
    first = rows_of(synced_box)
    issue(synced_box)
    everything = rows_of(synced_box)
    later = everything[len(first):]
    spliced = first[:2] + later[2:]  # drop the tail of one batch and the head of the next
    before = hub_state(hub)
    body, signature = encode_batch(synced_box.node_id, spliced, synced_box.key, 1)
    response = post(hub, synced_box.node_id, body, signature)
    assert response.status_code == 409 and response.json()["reason"] in ("gap", "bad_chain")
    # and two separately signed bodies glued together do not verify
    body_a, sig_a = encode_batch(synced_box.node_id, first, synced_box.key, 1)
    body_b, _ = encode_batch(synced_box.node_id, later, synced_box.key, 1)
    glued = post(hub, synced_box.node_id, body_a[: len(body_a) // 2] + body_b[len(body_b) // 2:], sig_a)
    assert glued.json()["reason"] == "bad_signature"
    assert hub_state(hub) == before


def test_truncated_batch(hub, synced_box):
    body, signature = encode_batch(synced_box.node_id, rows_of(synced_box), synced_box.key, 1)
    before = hub_state(hub)
    response = post(hub, synced_box.node_id, body[:-20], signature)
    assert response.json()["reason"] == "bad_signature"
    assert hub_state(hub) == before


def test_another_boxs_key(hub, synced_box, make_box):
    other = make_box(commune=next(COMMUNES))
    body, signature = encode_batch(synced_box.node_id, rows_of(synced_box), other.key, 1)
    before = hub_state(hub)
    assert post(hub, synced_box.node_id, body, signature).json()["reason"] == "bad_signature"
    assert hub_state(hub) == before


def test_rows_of_another_commune(hub, synced_box):
    rows = copy.deepcopy(rows_of(synced_box))
    rows[0][FIELDS.index("scope")] = "99999"
    with synced_box:
        node = this_node()
        rows = rechain(rows, node.node_id, node.acked_seq + 1, _acked_hash(hub, node))
    before = hub_state(hub)
    body, signature = encode_batch(synced_box.node_id, rows, synced_box.key, 1)
    response = post(hub, synced_box.node_id, body, signature)
    assert response.status_code == 403 and response.json()["reason"] == "scope"
    assert "99999" in response.json()["error"]
    assert hub_state(hub) == before


def test_hub_owned_table_written_by_a_box(hub, synced_box):
    rows = copy.deepcopy(rows_of(synced_box))
    forged = list(rows[0])
    forged[FIELDS.index("table")] = "holiday"
    forged[FIELDS.index("data")] = {"day": "2026-12-24", "name": "Nghỉ tự đặt", "kind": "off"}
    with synced_box:
        node = this_node()
        rows = rechain([forged] + rows[1:], node.node_id, node.acked_seq + 1, _acked_hash(hub, node))
    before = hub_state(hub)
    body, signature = encode_batch(synced_box.node_id, rows, synced_box.key, 1)
    response = post(hub, synced_box.node_id, body, signature)
    assert response.status_code == 403 and response.json()["reason"] == "not_owner"
    assert hub_state(hub) == before
    assert hub.query("select count(*) from holiday") == [(0,)]
    with synced_box:
        with pytest.raises(CaptureError, match="trung tâm quản lý"):
            Holiday.create(day="2026-12-24", name="x")  # and capture refuses it on the box itself


def test_revoked_key(hub, synced_box, make_box):
    from tests.sync.conftest import motcua

    motcua("hub", "revoke-box", synced_box.node_id, *hub.args)
    before = hub_state(hub)
    result = synced_box.sync()
    assert not result["ok"] and "thu hồi" in result["error"]
    assert hub_state(hub) == before
    assert refusals(hub, synced_box.node_id, "revoked") >= 1  # counted: the origin header proves nothing
    assert synced_box.status()["pending"] > 0  # the box keeps everything meanwhile


def test_fork_quarantines_the_box(hub, synced_box):
    """A cloned SD card: the same seq with other content."""
    rows = rows_of(synced_box)
    assert synced_box.sync()["ok"]
    forged = copy.deepcopy(rows)
    forged[0][FIELDS.index("data")] = {**forged[0][FIELDS.index("data")], "phone": "0900000000"}
    with synced_box:
        node = this_node()
        forged = rechain(forged, node.node_id, rows[0][0], _hash_before(hub, node.node_id, rows[0][0]))
    body, signature = encode_batch(synced_box.node_id, forged, synced_box.key, 1)
    response = post(hub, synced_box.node_id, body, signature)
    assert response.status_code == 409 and response.json()["reason"] == "fork"
    boxes = {b["node_id"]: b for b in hub.api("GET", "/api/v1/boxes")}
    assert boxes[synced_box.node_id]["quarantined"] is True
    assert hub.query(f"select kind from alert where kind = 'fork' and origin = '{synced_box.node_id}'") == [("fork",)]
    issue(synced_box, 1)
    assert "cách ly" in synced_box.sync()["error"]


def _acked_hash(hub, node):
    return _hash_before(hub, node.node_id, node.acked_seq + 1)


def _hash_before(hub, origin, seq):
    rows = hub.query(f"select hash from change_entry where origin = '{origin}' and seq = {seq - 1}")
    return rows[0][0] if rows else ""


def test_insert_reusing_another_communes_row_id(hub, synced_box, make_box):
    victim = make_box(commune=next(COMMUNES))
    assert victim.sync()["ok"]
    with victim:
        office_id = Office.get().id
    rows = copy.deepcopy(rows_of(synced_box))
    rows[0][FIELDS.index("table")] = "office"
    rows[0][FIELDS.index("pk")] = office_id
    rows[0][FIELDS.index("op")] = "insert"
    rows[0][FIELDS.index("data")] = {"name": "Chiếm quyền", "province_name": ""}
    with synced_box:
        node = this_node()
        rows = rechain(rows[:1], node.node_id, node.acked_seq + 1, _acked_hash(hub, node))
    body, signature = encode_batch(synced_box.node_id, rows, synced_box.key, 1)
    response = post(hub, synced_box.node_id, body, signature)
    assert response.status_code == 403 and response.json()["reason"] == "scope"
    assert hub.query(f"select commune from office where id = '{office_id}'") == [(victim.commune,)]
