"""A box and a hub in separate processes, over real HTTP."""
from office import queue
from office.models import Holiday, Place, Ticket


def test_push_confirms_every_entry_once(hub, make_box):
    box = make_box()
    with box:
        for _ in range(5):
            queue.issue_ticket(queue.QueuePolicy(), "ho-tich")
    first = box.sync()
    assert first["ok"] and first["pending"] == 0 and first["sent"] > 10
    again = box.sync()
    assert again == {"ok": True, "sent": 0, "received": 0, "pending": 0}
    assert hub.query("select count(*) from ticket where commune = '05518'") == [(5,)]
    assert hub.query("select count(*), count(distinct origin || seq) from change_entry where origin = "
                         f"'{box.node_id}'")[0][0] == box.status()["last_seq"]
    boxes = hub.api("GET", "/api/v1/boxes")
    assert boxes[0]["acked_seq"] == box.status()["last_seq"] and boxes[0]["commune"] == "05518"


def test_hub_authored_rows_come_down_and_shared_edits_meet(hub, make_box):
    box = make_box()
    box.sync()
    hub.api("POST", "/api/v1/holidays", json={"day": "2026-09-02", "name": "Quốc khánh"})
    created = hub.api("POST", "/api/v1/places", json={"commune": "05518", "name": "Trạm y tế", "category": "health"})
    other = hub.api("POST", "/api/v1/places", json={"commune": "00454", "name": "Chợ Đông Anh"})
    result = box.sync()
    assert result["ok"] and result["received"] == 2
    with box:
        assert Holiday.get().name == "Quốc khánh"
        place = Place.get_by_id(created["id"])
        assert place.name == "Trạm y tế"
        assert Place.get_or_none(Place.id == other["id"]) is None  # another commune's row stays away
        place.phone = "0208 3862 000"
        place.save()
    box.sync()
    assert hub.query(f"select phone from place where id = '{created['id']}'") == [("0208 3862 000",)]


def test_unregistered_box_is_refused_and_keeps_its_data(hub, make_box):
    box = make_box(register=False)
    with box:
        queue.issue_ticket(queue.QueuePolicy(), "ho-tich")
    result = box.sync()
    assert not result["ok"] and "chưa được đăng ký" in result["error"]
    assert box.status()["pending"] > 0 and box.status()["failures"] == 1
    with box:
        assert Ticket.select().count() == 1
