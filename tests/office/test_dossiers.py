"""A dossier's life at the office: codes, due dates, pauses, refusals, results, privacy."""
from datetime import datetime

import pytest

from office import dossiers
from office.calendar import WorkCalendar
from office.errors import Conflict, MotcuaError
from office.models import Procedure
from sync.capture import applying_remote

CAL = WorkCalendar()
AGENCY = "000.19.05518"
MON = datetime(2026, 3, 2, 9, 0)  # Monday, office-local time


@pytest.fixture
def procedure(office):
    with applying_remote():  # the catalog comes down from the hub
        Procedure.insert(id="p-khai-sinh", commune="*", code="1.001193", name="Đăng ký khai sinh",
                         days=3).execute()
    return Procedure.get_by_id("p-khai-sinh")


def receive(procedure, now=MON, **applicant):
    person = {"name": "Nguyễn Văn An", "id_number": "001099012345", "phone": "0912345678",
              "address": "Tổ 5, phường Sông Công", **applicant}
    return dossiers.receive(CAL, procedure, person, AGENCY, officer="canbo1", now=now)


def test_codes_are_per_agency_and_day(procedure):
    first, second = receive(procedure), receive(procedure)
    next_day = receive(procedure, now=datetime(2026, 3, 3, 8))
    assert [first.code, second.code, next_day.code] == [
        "000.19.05518-260302-0001", "000.19.05518-260302-0002", "000.19.05518-260303-0001"]
    assert first.status == 2 and first.status_label == "Được tiếp nhận"
    assert first.due_at == datetime(2026, 3, 5, 17)


def test_bad_applicant_data_is_refused(procedure):
    with pytest.raises(MotcuaError, match="họ tên"):
        receive(procedure, name=" ")
    with pytest.raises(MotcuaError, match="12 chữ số"):
        receive(procedure, id_number="12345")


def test_supplement_pauses_and_moves_the_due_date(procedure):
    dossier = receive(procedure)
    dossiers.request_supplement(dossier, "Thiếu bản sao giấy chứng sinh", now=datetime(2026, 3, 3, 10))
    assert dossier.status == 5
    with pytest.raises(Conflict):
        dossiers.transfer(dossier, "Thẩm định")
    dossiers.resume(CAL, dossier, procedure, now=datetime(2026, 3, 6, 9))  # Wed, Thu, Fri waited
    assert (dossier.status, dossier.paused_days) == (4, 3)
    assert dossier.due_at == datetime(2026, 3, 10, 17)


def test_transfer_finish_return_and_history(procedure):
    dossier = receive(procedure)
    dossiers.transfer(dossier, "Thẩm định", handler="canbo2", agency="H56.PTNMT", now=datetime(2026, 3, 2, 10))
    assert (dossier.status, dossier.stage, dossier.agency) == (4, "Thẩm định", "H56.PTNMT")
    with pytest.raises(Conflict):
        dossiers.return_result(dossier)
    dossiers.finish(dossier, now=datetime(2026, 3, 4, 15))
    assert (dossier.status, dossier.timeliness) == (9, "early")
    dossiers.return_result(dossier, now=datetime(2026, 3, 5, 8))
    assert dossier.status_label == "Đã trả kết quả"
    assert [e.action for e in dossiers.history(dossier)] == ["receive", "transfer", "finish", "return"]


def test_late_dossier_gets_an_apology_with_a_new_date(procedure):
    dossier = receive(procedure)
    with pytest.raises(MotcuaError):
        dossiers.apologize(dossier, datetime(2026, 3, 4, 17), "Chờ xác minh")
    dossiers.apologize(dossier, datetime(2026, 3, 9, 17), "Chờ xác minh", now=datetime(2026, 3, 5, 16))
    dossiers.finish(dossier, now=datetime(2026, 3, 9, 10))
    assert dossier.timeliness == "on_time"  # judged against the new date
    assert "hẹn lại 17:00 09/03/2026" in dossiers.history(dossier)[1].note


def test_refusal(procedure):
    dossier = receive(procedure)
    dossiers.refuse(dossier, "Không thuộc thẩm quyền")
    assert dossier.status == 3
    with pytest.raises(Conflict):
        dossiers.finish(dossier)


def test_tracking_shows_no_id_number_phone_or_address(procedure):
    dossier = receive(procedure)
    view = dossiers.tracking_view(dossier, now=MON)
    text = repr(view)
    assert view["applicant"] == "N***** V** An"
    for secret in ("001099012345", "0912345678", "Tổ 5", "Nguyễn"):
        assert secret not in text
    assert view["status_label"] == "Được tiếp nhận" and view["due_at"] == "17:00 05/03/2026"


def test_a_restored_box_goes_on_numbering(procedure):
    from office.dossiers import DossierSequence
    from office.queue import rebuild_sequences

    receive(procedure)
    receive(procedure)
    DossierSequence.delete().execute()  # a box restored from the hub has the dossiers, not the counters
    rebuild_sequences()
    assert receive(procedure).code.endswith("-260302-0003")


def test_each_dossier_gets_a_short_unambiguous_tracking_secret(procedure):
    secrets = {receive(procedure).tracking_secret for _ in range(20)}
    assert len(secrets) == 20
    assert all(len(s) == 6 and set(s) <= set(dossiers.SECRET_ALPHABET) for s in secrets)
    assert not set("01OIL") & set(dossiers.SECRET_ALPHABET)


def test_tracking_needs_the_secret(procedure):
    dossier = receive(procedure)
    assert dossiers.track(dossier.code, "") == {"code": dossier.code, "found": True, "verified": False}
    assert dossiers.track(dossier.code, "ABCDEF")["verified"] is False
    typed = f" {dossier.tracking_secret[:3].lower()}-{dossier.tracking_secret[3:]} "
    view = dossiers.track(dossier.code, typed)
    assert view["verified"] is True and view["applicant"] == "N***** V** An"


def test_a_dossier_from_before_secrets_says_only_found_until_its_slip_is_reprinted(procedure):
    dossier = receive(procedure)
    dossier.save_changes({"tracking_secret": None})  # as received on an older box
    for secret in ("", "None", "null"):
        assert dossiers.track(dossier.code, secret)["verified"] is False
    secret = dossiers.ensure_secret(dossier)
    assert len(secret) == 6 and dossiers.ensure_secret(dossier) == secret  # made once
    assert dossiers.track(dossier.code, secret)["verified"] is True


def test_an_existing_database_gains_the_secret_column(tmp_path):
    import sqlite3

    from office.db import bind, database, open_database
    from office.models import MODELS

    path = tmp_path / "old.db"
    bind(open_database(str(path)), MODELS).close()
    with sqlite3.connect(path) as conn:  # the dossier table as an older version made it, no migration recorded
        conn.execute("ALTER TABLE dossier DROP COLUMN tracking_secret")
        conn.execute("DROP TABLE schema_migrations")
    handle = bind(open_database(str(path)), MODELS)
    try:
        columns = [row[1] for row in handle.execute_sql("PRAGMA table_info(dossier)").fetchall()]
        assert "tracking_secret" in columns
    finally:
        handle.close()
        database.initialize(None)
