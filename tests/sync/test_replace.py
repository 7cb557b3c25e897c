"""A new box takes over a commune from the hub's copy; old keys and foreign versions are refused."""
import pytest
import requests

from office import queue
from office.models import Officer, Ticket
from office.ratings import rate
from sync.apply import state_digest, table_order
from sync.box import _unsent, client_for, restore
from sync.capture import this_node
from sync.protocol import ORIGIN, PROTOCOL, SCHEMA, SIGNATURE, encode_batch


def serve_one(box):
    with box:
        policy = queue.QueuePolicy()
        ticket = queue.issue_ticket(policy, "ho-tich")
        counter = queue.sign_in(1, Officer.get(username="canbo1"))
        queue.call_next(policy, counter.id)
        queue.start_serving(counter.id)
        queue.finish(counter.id)
        rate(ticket.id, 3)
        return ticket


def test_replacement_box_restores_the_commune_and_the_old_key_is_revoked(hub, make_box):
    old = make_box()
    serve_one(old)
    serve_one(old)
    assert old.sync()["ok"]
    new = make_box(register=False, seed=False, name="replacement")
    hub.register(new, replaces=old.node_id)
    with new:
        counts = restore(client_for(new.settings, new.key))
        queue.rebuild_sequences()
    assert counts["ticket"] == 2 and counts["rating"] == 2 and counts["service"] == 5
    tables = table_order()
    with old:
        before = state_digest("05518", tables)
    with new:
        assert state_digest("05518", tables) == before
        assert this_node().node_id != old.node_id  # a new identity, not a copy
        third = queue.issue_ticket(queue.QueuePolicy(), "ho-tich")
    assert third.number == "A-003"  # numbering continues where the old box stopped
    assert new.sync()["ok"] and new.status()["pending"] == 0
    serve_one(old)
    refused = old.sync()
    assert not refused["ok"] and "thu hồi" in refused["error"]
    assert hub.query("select count(*) from ticket where commune = '05518'") == [(3,)]


def test_restore_refuses_a_box_that_has_data(hub, make_box):
    box = make_box()
    box.sync()
    with box, pytest.raises(Exception, match="đã có dữ liệu"):
        restore(client_for(box.settings, box.key))


@pytest.mark.parametrize("protocol, schema, accepted", [
    (PROTOCOL, SCHEMA, True), (PROTOCOL, SCHEMA - 1, True), (PROTOCOL - 1, SCHEMA, True),
    (PROTOCOL + 1, SCHEMA, False), (PROTOCOL, SCHEMA + 1, False), (PROTOCOL, SCHEMA - 2, False),
])
def test_versions_n_and_n_minus_1_are_accepted(hub, make_box, protocol, schema, accepted):
    box = make_box()
    with box:
        rows = _unsent(this_node(), 100)
    body, signature = encode_batch(box.node_id, rows, box.key, 1, protocol=protocol, schema=schema)
    response = requests.post(hub.url + "/sync/v1/push", data=body, timeout=10,
                             headers={ORIGIN: box.node_id, SIGNATURE: signature})
    if accepted:
        assert response.status_code == 200 and response.json()["applied"] == len(rows)
    else:
        answer = response.json()
        assert response.status_code == 409 and answer["reason"] == "version"
        assert "Hãy cập nhật phần mềm của hộp" in answer["error"]
        with box:  # the box keeps working and accumulating meanwhile
            queue.issue_ticket(queue.QueuePolicy(), "ho-tich")
            assert Ticket.select().count() == 1
