"""Phi địa giới (Decree 118/2025): a citizen hands in a dossier at any commune office of the province.
The receiving box records it (its own code and slip, offline too); it travels through the hub to the
commune that decides it, whose desk works on it; the result travels back. Each commune's statistics
count it once: received by one, resolved by the other. Other boxes still cannot touch it."""
from contextlib import contextmanager
from datetime import date, datetime

import pytest

from office import dossiers, stats
from office.calendar import WorkCalendar
from office.catalog import Procedure
from office.db import database, open_database
from office.errors import MotcuaError
from office.models import Dossier, DossierEvent
from office.stats_period import Filters, Period
from sync.capture import applying_remote

A, B, C = "05518", "01843", "01840"  # Phường Sông Công, Bắc Kạn, Đức Xuân: all of Thái Nguyên
OTHER_PROVINCE = "00004"
MON = datetime(2026, 3, 2, 9, 15)


def add_procedure(box):
    with box, applying_remote():
        Procedure.insert(id="p-ks", commune="*", code="1.001193", name="Đăng ký khai sinh", days=3,
                         components="[]").execute()


def receive_for(box, decider, collect_at=""):
    with box:
        procedure = Procedure.get(Procedure.code == "1.001193")
        office = box_office(box)
        return dossiers.receive(WorkCalendar(), procedure, {"name": "Nguyễn Thị Hạnh", "phone": "0912345678"},
                                office.agency_code, officer="Cán bộ A", now=MON, decided_by=decider,
                                collect_at=collect_at).id


@contextmanager
def hub_database(hub):
    """The models pointed at the hub's own database (SQLite file or PostgreSQL schema)."""
    db = open_database(hub.database_url or str(hub.dir / "hub.db"))
    previous = database.obj
    database.initialize(db)
    try:
        yield
    finally:
        db.close()
        if previous is not None:
            database.initialize(previous)


def box_office(box):
    from office.models import Office
    return Office.get()


def summary(box_or_hub, commune=None):
    period = Period.between(date(2026, 3, 1), date(2026, 3, 31))
    rows = stats.summary(period, Filters(commune=commune) if commune else Filters(), by="commune",
                         now=datetime(2026, 3, 20)).rows
    return {r["key"]: (r["received"], r["resolved"]) for r in rows}


def test_a_dossier_received_at_one_commune_is_decided_by_another(hub, make_box):
    a, b, c = make_box(A, name="a"), make_box(B, name="b"), make_box(C, name="c")
    for box in (a, b, c):
        add_procedure(box)
    pk = receive_for(a, B)  # A is offline: nothing synced yet
    with a:
        dossier = Dossier.get_by_id(pk)
        assert (dossier.commune, dossier.decided_by, dossier.collect_at) == (A, B, A)
        assert dossier.code.startswith(box_office(a).agency_code)  # A's own code and slip
        assert "chuyển Phường Bắc Kạn giải quyết" in dossiers.history(dossier)[0].note or \
            "Bắc Kạn" in dossiers.history(dossier)[0].note
    assert a.sync()["ok"] and b.sync()["ok"] and c.sync()["ok"]
    with c:
        assert Dossier.get_or_none(Dossier.id == pk) is None  # only the deciding commune receives it
    with b:  # B's desk works on it like its own
        incoming = Dossier.get_by_id(pk)
        assert incoming.commune == A and incoming.decided_by == B
        dossiers.transfer(incoming, "Thẩm định hồ sơ", "Cán bộ B", actor="Cán bộ B", now=datetime(2026, 3, 3, 9))
        dossiers.finish(incoming, actor="Cán bộ B", note="Đã ký", now=datetime(2026, 3, 4, 10))
        assert DossierEvent.get(DossierEvent.dossier == pk, DossierEvent.action == "finish").commune == A
    result = b.sync()
    assert result["ok"], result
    assert a.sync()["ok"]
    with a:  # the result came back: A returns it to the citizen (collected where received)
        back = Dossier.get_by_id(pk)
        assert back.status == 9 and back.finished_at == datetime(2026, 3, 4, 10)
        dossiers.return_result(back, actor="Cán bộ A", now=datetime(2026, 3, 5, 8, 30))
        assert summary(a, A) == {A: (1, 0)}  # A received it, B resolved it
    assert a.sync()["ok"] and b.sync()["ok"]
    with b:
        assert Dossier.get_by_id(pk).status == 10
        assert summary(b, B) == {B: (0, 1)}
    with hub_database(hub):
        counts = summary(hub)
        assert counts[A] == (1, 0) and counts[B] == (0, 1)
        assert sum(r for r, _ in counts.values()) == 1  # never twice


def test_routing_is_checked_and_other_boxes_cannot_write_the_dossier(hub, make_box):
    a, b, c = make_box(A, name="a"), make_box(B, name="b"), make_box(C, name="c")
    for box in (a, b):
        add_procedure(box)
    with pytest.raises(MotcuaError, match="cùng tỉnh"):
        receive_for(a, OTHER_PROVINCE)
    with pytest.raises(MotcuaError, match="Không có xã/phường"):
        receive_for(a, "99999")
    pk = receive_for(a, B, collect_at="deciding")
    with a:
        assert Dossier.get_by_id(pk).collect_at == B
    assert a.sync()["ok"] and b.sync()["ok"]
    with b:  # an honest box refuses it itself
        with pytest.raises(Exception, match="row of commune"):
            Dossier.get_by_id(pk).save_changes({"decided_by": C})
    # A box whose software is altered to write the dossier anyway: the hub refuses the batch
    # (C: not routed to it; B: routed, but it may not move the dossier to someone else).
    def altered_box_writes(box, changes, monkeypatch):
        with monkeypatch.context() as patch, box:
            patch.setattr(Dossier, "routed_to", lambda self, scope: True)
            if Dossier.get_or_none(Dossier.id == pk) is None:
                with applying_remote():
                    Dossier.insert(id=pk, commune=A, code="x", procedure_code="1.001193", procedure_name="x",
                                   applicant_name="x", received_at=MON, due_at=MON, decided_by=B).execute()
            Dossier.get_by_id(pk).save_changes(changes)
        return box.sync()

    import pytest as _pytest
    patch = _pytest.MonkeyPatch()
    try:
        refused = altered_box_writes(c, {"status": 10}, patch)
        assert not refused["ok"] and "không được ghi dữ liệu" in refused["error"]
        refused = altered_box_writes(b, {"decided_by": C}, patch)
        assert not refused["ok"] and "không được ghi dữ liệu" in refused["error"]
    finally:
        patch.undo()
    with hub_database(hub):
        stored = Dossier.get_by_id(pk)
        assert (stored.decided_by, stored.status) == (B, 2)
