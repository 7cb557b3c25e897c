"""Replacing a commune's box with a bundle, and provisioning while the hub is out of reach."""
import json

from office import queue
from office.models import Holiday, Service, Ticket
from provisioning.enrol import enrol_pending
from sync.apply import state_digest, table_order
from sync.capture import this_node
from tests.sync.test_replace import serve_one

from .conftest import make_bundle, provision, run, tree


def test_a_new_box_from_a_bundle_takes_over_the_commune_and_the_old_key_is_revoked(hub, make_box, tmp_path, opened):
    hub.api("POST", "/api/v1/holidays", json={"day": "2026-09-02", "name": "Quốc khánh"})
    old = make_box()  # commune 05518, registered by hand, with tickets, ratings, events
    serve_one(old)
    serve_one(old)
    assert old.sync()["ok"]
    bundle = tmp_path / "usb" / "thay.motcua"
    password = tmp_path / "technician-password"
    password.write_text("mat-khau-ky-thuat\n")
    made = make_bundle(hub, bundle, old.commune, "--technician-password-file", password)
    assert "hộp mới sẽ tải về và thay hộp đang dùng" in made and "Mật khẩu kỹ thuật" not in made

    before = tree(tmp_path, skip=[tmp_path / "new", tmp_path / "box-1"])
    code, out = provision(tmp_path / "new", bundle)
    assert code == 0, out
    assert f"Thay hộp cũ:   {old.node_id}" in out and "đã tải từ trung tâm" in out
    assert tree(tmp_path, skip=[tmp_path / "new", tmp_path / "box-1"]) == before

    new = opened(tmp_path / "new")
    tables = table_order()
    with old:
        expected = state_digest(old.commune, tables)
    with new:
        assert state_digest(old.commune, tables) == expected
        assert this_node().node_id != old.node_id
        assert Holiday.get().name == "Quốc khánh"
        third = queue.issue_ticket(queue.QueuePolicy(), "ho-tich")
    assert third.number == "A-003"  # the numbering goes on where the old box stopped
    assert new.sync()["ok"]
    serve_one(old)  # the old box, still plugged in somewhere
    refused = old.sync()
    assert not refused["ok"] and "thu hồi" in refused["error"]
    assert hub.query(f"select status from box_node where node_id = '{old.node_id}'") == [("revoked",)]
    assert hub.query("select count(*) from ticket where commune = '05518'") == [(3,)]
    listing = run("hub", "enrolments", *hub.args).stdout
    assert f"thay {old.node_id}" in listing


def test_a_box_provisioned_offline_serves_and_enrols_when_the_hub_is_back(hub, tmp_path, opened):
    bundle = tmp_path / "usb" / "moi.motcua"
    make_bundle(hub, bundle, "00091")
    hub.stop()
    code, out = provision(tmp_path / "box", bundle)
    assert code == 0, out
    assert "chưa kết nối được trung tâm" in out and "dịch vụ và quầy chuẩn" in out
    box = opened(tmp_path / "box")
    state = json.loads((box.dir / "provision.json").read_text())
    assert state["status"] == "enrol" and state["token"]
    assert (box.dir / "provision.json").stat().st_mode & 0o777 == 0o600
    with box:
        ticket = queue.issue_ticket(queue.QueuePolicy(), "ho-tich")  # the kiosk works meanwhile
        assert enrol_pending(box.settings)["pending"]
    hub.start()
    with box:
        result = enrol_pending(box.settings)
        assert result["ok"], result
        assert enrol_pending(box.settings) is None  # nothing left to do
    state = json.loads((box.dir / "provision.json").read_text())
    assert state["status"] == "done" and state["token"] == ""
    assert box.sync()["ok"]
    assert hub.query(f"select number from ticket where id = '{ticket.id}'") == [("A-001",)]


def test_a_replacement_box_provisioned_offline_loads_the_commune_when_the_hub_is_back(hub, make_box, tmp_path,
                                                                                      opened):
    hub.api("POST", "/api/v1/holidays", json={"day": "2026-04-30", "name": "Giải phóng miền Nam"})
    old = make_box()
    serve_one(old)
    assert old.sync()["ok"]
    bundle = tmp_path / "usb" / "thay.motcua"
    make_bundle(hub, bundle, old.commune)
    hub.stop()
    code, out = provision(tmp_path / "new", bundle)
    assert code == 0, out
    assert "sẽ tải dữ liệu của xã từ trung tâm" in out and "17 dòng dữ liệu của trung tâm" in out  # a holiday, 9 synonyms, 7 report categories
    new = opened(tmp_path / "new")
    with new:
        assert Service.select().count() == 0 and Holiday.select().count() == 1  # no fork of the commune's rows
    hub.start()
    code, out = provision(new.dir, "--retry")
    assert code == 0 and "đã tải" in out, out
    with old:
        expected = state_digest(old.commune, table_order())
    with new:
        assert state_digest(old.commune, table_order()) == expected
        assert Ticket.select().count() == 1 and Holiday.select().count() == 1
    assert new.sync()["ok"]
    assert not old.sync()["ok"]
