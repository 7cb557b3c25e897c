"""Text that one database on the way cannot store never stalls replication: the box refuses
it before writing anything, and the hub holds an entry it cannot apply (with a reason and an
alert naming the box, the table and the row) and applies the rest of the box's stream."""
import json
import time

import pytest
from peewee import CharField, ForeignKeyField, TextField

from office import queue, ratings
from office.communes import all_communes
from office.errors import MotcuaError
from office.models import REPLICATED, Officer, Rating, Ticket
from sync import capture
from sync.models import ChangeEntry
from motcua.web import BAD_TEXT
from sync.text import column_limit, text_problem
from tests.conftest import pair_rating_screen, sign_in

POISON = {"nul": "Tốt\x00lắm", "bell": "chuông\x07", "escape": "\x1b[31mđỏ", "lone_surrogate": "hỏng\ud800"}
COMMUNES = iter(sorted(all_communes())[400:])


def serve(client):
    ticket = client.post("/api/v1/tickets", json={"service": "ho-tich"}).get_json()
    sign_in(client, counter=1)
    client.post("/api/v1/counters/1/next")
    client.post("/api/v1/counters/1/start")
    client.post("/api/v1/counters/1/finish")
    return ticket["id"]


@pytest.mark.parametrize("reason", POISON.values(), ids=POISON.keys())
def test_rating_reason_with_nul_is_refused_before_anything_is_written(app, client, reason):
    pair_rating_screen(app, client, counter=1, username="canbo1")
    ticket = serve(client)
    logged = ChangeEntry.select().count()
    body = json.dumps({"counter": 1, "ticket": ticket, "score": 1, "reason": reason})  # \u escapes, as a browser may send
    rated = client.post("/api/v1/ratings", data=body, content_type="application/json")
    answer = rated.get_json()
    assert rated.status_code == 400 and answer["ok"] is False
    # NUL and lone surrogates stop at the web boundary, other controls at the capture layer
    assert answer["error"].startswith("Nội dung không hợp lệ ở trường “reason”") or answer["error"] == BAD_TEXT
    assert Rating.select().count() == 0 and ChangeEntry.select().count() == logged
    fine = client.post("/api/v1/ratings", json={"counter": 1, "ticket": ticket, "score": 1, "reason": "Chờ lâu\r\nquá\tlâu"})
    assert fine.status_code == 201  # tab and line breaks (a text area sends CR LF) are text


def _text_field(model):
    """A text column of ``model``: a plain one if it has one, else a key to a text id."""
    text = [f for f in model._meta.sorted_fields if not f.primary_key and f.name != "commune"
            and (isinstance(f, (CharField, TextField)) or isinstance(getattr(f, "rel_field", None), CharField))]
    return sorted(text, key=lambda f: isinstance(f, ForeignKeyField))[0]


@pytest.mark.parametrize("model", REPLICATED, ids=lambda m: m._meta.table_name)
def test_every_replicated_table_refuses_poisoned_text(office, model):
    field = _text_field(model)
    logged = ChangeEntry.select().count()
    for value in list(POISON.values()) + ["x" * (column_limit(field) + 1)]:
        row = model()
        setattr(row, field.name, value)
        with pytest.raises(MotcuaError) as refused:
            row.save()
        assert refused.value.status == 400 and field.column_name in refused.value.message
    assert ChangeEntry.select().count() == logged


def test_an_edit_with_poisoned_text_is_refused_and_the_row_kept(office):
    officer = Officer.get(username="canbo1")
    with pytest.raises(MotcuaError, match="full_name"):
        officer.save_changes({"full_name": "Nguyễn\x00Văn"})
    assert Officer.get(username="canbo1").full_name != "Nguyễn\x00Văn"


def test_text_rules():
    assert text_problem("Ý kiến: tốt\r\n\tlắm 😀") is None and text_problem(3) is None
    assert "NUL" in text_problem("a\x00")
    assert "0x1f" in text_problem("a\x1f") and text_problem("a\x7f") is None
    assert "quá giới hạn 3" in text_problem("abcd", 3)


# ---- at the hub ----------------------------------------------------------------------------

@pytest.fixture
def hub(module_hub):
    return module_hub


def serve_and_rate(box, reason):
    with box:
        policy = queue.QueuePolicy()
        ticket = queue.issue_ticket(policy, "ho-tich")
        counter = queue.sign_in(1, Officer.get(username="canbo1"))
        queue.call_next(policy, counter.id)
        queue.start_serving(counter.id)
        queue.finish(counter.id)
        return ratings.rate(ticket.id, 1, reason)


def test_nul_in_a_rating_reason_is_held_at_the_hub_and_the_stream_goes_on(hub, make_box, monkeypatch):
    """A box of the previous release took a rating reason with NUL; on PostgreSQL every later
    sync of the commune failed. Now the hub holds that entry and applies the rest."""
    box = make_box(commune=next(COMMUNES))
    assert box.sync()["ok"]
    with monkeypatch.context() as old_box:
        old_box.setattr(capture, "check_row", lambda model, values: None)
        rating = serve_and_rate(box, "Tốt\x00lắm")
    serve_and_rate(box, "Chờ hơi lâu")
    result = box.sync()
    assert result["ok"] and result["pending"] == 0, result
    with box:
        seq = ChangeEntry.get(ChangeEntry.table == "rating", ChangeEntry.pk == rating.id).seq
    held = hub.query(f"select seq, reason from held_entry where origin = '{box.node_id}'")
    assert [s for s, _ in held] == [seq] and "NUL" in held[0][1]
    alerts = hub.query(f"select message from alert where kind = 'held' and origin = '{box.node_id}'")
    assert len(alerts) == 1 and box.node_id in alerts[0][0] and "rating" in alerts[0][0] and rating.id in alerts[0][0]
    assert hub.query(f"select count(*) from ticket where commune = '{box.commune}'") == [(2,)]
    assert hub.query(f"select reason from rating where commune = '{box.commune}'") == [("Chờ hơi lâu",)]
    fleet = {b["node_id"]: b for b in hub.api("GET", "/api/v1/boxes")}
    assert fleet[box.node_id]["held_entries"] == 1  # the fleet shows it, not only the logs
    serve_and_rate(box, "Nhanh")
    assert box.sync()["ok"] and box.status()["pending"] == 0  # nothing stays pending for ever
    assert hub.query(f"select count(*) from rating where commune = '{box.commune}'") == [(2,)]


def test_entry_the_hub_database_refuses_is_held_with_an_alert_and_the_rest_applied(hub, make_box):
    """Any refusal of the hub's database (here a unique key the box could not see) holds that
    entry, names it, and the box's later entries still apply."""
    first, second = make_box(commune=next(COMMUNES)), make_box(commune=next(COMMUNES))
    with first:
        taken = queue.issue_ticket(queue.QueuePolicy(), "ho-tich").tracking_code
    assert first.sync()["ok"]
    with second:
        ticket = queue.issue_ticket(queue.QueuePolicy(), "ho-tich")
    assert second.sync()["ok"]
    with second:
        Ticket.get_by_id(ticket.id).save_changes({"tracking_code": taken})  # unique across communes
        queue.issue_ticket(queue.QueuePolicy(), "ho-tich")
    result = second.sync()
    assert result["ok"] and result["pending"] == 0, result
    held = hub.query(f"select reason from held_entry where origin = '{second.node_id}'")
    assert len(held) == 1 and "Cơ sở dữ liệu từ chối" in held[0][0]
    alerts = hub.query(f"select message from alert where kind = 'held' and origin = '{second.node_id}'")
    assert len(alerts) == 1 and "ticket" in alerts[0][0] and ticket.id in alerts[0][0]
    assert hub.query(f"select count(*) from ticket where commune = '{second.commune}'") == [(2,)]


def test_lone_surrogate_in_a_pushed_batch_is_refused_not_a_crash(hub, make_box):
    """No box writes one (its capture refuses it); a forged batch with one gets a 400, not a 500."""
    import gzip

    import requests

    from sync.box import _unsent
    from sync.capture import this_node
    from sync.keys import sign
    from sync.protocol import ORIGIN, SCHEMA, SIGNATURE, PROTOCOL

    box = make_box(commune=next(COMMUNES))
    serve_and_rate(box, "Tốt")
    with box:
        rows = _unsent(this_node(), 10_000)
    rows[-1][6] = {**rows[-1][6], "reason": "hỏng\ud800"}
    doc = {"protocol": PROTOCOL, "schema": SCHEMA, "origin": box.node_id, "sent_hlc": 1, "entries": rows,
           "extra": {"at_ms": int(time.time() * 1000), "nonce": "n" * 32}}
    body = gzip.compress(json.dumps(doc).encode())  # \u escapes: valid JSON, not valid UTF-8 text
    response = requests.post(hub.url + "/sync/v1/push", data=body, timeout=20,
                             headers={ORIGIN: box.node_id, SIGNATURE: sign(box.key, body)})
    assert response.status_code == 400 and response.json()["reason"] == "malformed"
    assert hub.query(f"select count(*) from ticket where commune = '{box.commune}'") == [(0,)]
