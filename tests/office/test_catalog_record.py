"""The national procedure record in the catalog: it round-trips through JSON, CSV and XLSX; time
limits keep their unit (and "not stated" stays not stated); other levels are kept; documents keep
their group, case, originals and copies; due dates follow the unit of the way used."""
import json
from datetime import datetime
from pathlib import Path

import pytest

from office import dossiers
from office.calendar import WorkCalendar
from office.catalog import Procedure, export_file, import_file, record, time_limit
from office.catalog_shape import limit_label

from sync.capture import init_node
from sync.models import SyncNode

def as_hub(db):
    SyncNode.delete().execute()  # this database is the hub's: the catalog is its to write
    init_node("hub", "*")


FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "national_catalog.json"


def load():
    return import_file("national.json", FIXTURE.read_bytes())


def exported(kind="json"):
    procedures = Procedure.select().order_by(Procedure.code)
    return export_file(procedures, kind)[0]


def records():
    return [record(p) for p in Procedure.select().order_by(Procedure.code)]


def test_every_record_of_the_fixture_is_kept(db):
    as_hub(db)
    report = load()
    assert (report.created, report.rejected) == (6, [])
    assert Procedure.get(Procedure.code == "1.001612").levels() == ["bo"]  # kept, not an error
    assert Procedure.get(Procedure.code == "1.003596").levels() == ["tinh", "xa"]


@pytest.mark.parametrize("kind", ["json", "csv", "xlsx"])
def test_catalog_round_trips(db, kind):
    as_hub(db)
    load()
    before = records()
    report = import_file(f"again.{kind}", exported(kind))
    assert (report.unchanged, report.updated, report.rejected) == (6, 0, []), report.as_dict()
    assert records() == before


def test_round_trip_keeps_every_field_of_a_rich_record(db):
    as_hub(db)
    load()
    ks = record(Procedure.get(Procedure.code == "1.001193"))
    assert ks["decision"] == "1872/QĐ-BTP" and ks["result_code"] == "KQ.G15.000031"
    assert ks["related"] == ["1.000894", "2.000815"] and ks["levels"] == ["xa"]
    assert ks["receiving_place"] == "Trung tâm Phục vụ hành chính công cấp xã"
    cases = {d["case"] for d in ks["documents"]}
    assert cases == {"", "Trường hợp trẻ em bị bỏ rơi", "Trường hợp người đi đăng ký là người được ủy quyền"}
    form = ks["documents"][0]
    assert (form["form"], form["originals"], form["copies"]) == ("To-khai-dang-ky-khai-sinh.docx", 1, 0)
    assert [d["group"] for d in ks["documents"]].count("xuat_trinh") == 1


def test_a_zero_copy_row_is_a_note_not_a_paper_to_bring(db):
    as_hub(db)
    load()
    notes = [d for d in record(Procedure.get(Procedure.code == "1.001193"))["documents"] if d["group"] == "ghi_chu"]
    assert [n["name"][:30] for n in notes] == ["Không có Giấy chứng sinh thì n"]


def test_calendar_days_are_not_shown_as_working_days(db):
    as_hub(db)
    load()
    kh = Procedure.get(Procedure.code == "1.000894")
    assert time_limit(kh, "truc_tiep") == (15, "ngay")
    assert limit_label(*time_limit(kh, "truc_tiep")) == "15 ngày"


def test_a_time_limit_not_stated_stays_not_stated(db):
    as_hub(db)
    load()
    ct = Procedure.get(Procedure.code == "1.012345")
    assert time_limit(ct) == (None, "")
    assert limit_label(*time_limit(ct)) == "Không quy định thời hạn"
    assert "Trong ngày" not in limit_label(*time_limit(ct))


def test_each_way_has_its_own_fee_and_limit(db):
    as_hub(db)
    load()
    ways = {w["way"]: w for w in record(Procedure.get(Procedure.code == "1.000894"))["ways"]}
    assert ways["truc_tiep"]["fee"] == "1.500.000 đồng" and ways["truc_tuyen"]["fee"] == "750.000 đồng"
    ks = Procedure.get(Procedure.code == "1.001193")
    assert time_limit(ks, "buu_chinh") == (3, "ngay_lam_viec") and time_limit(ks, "truc_tiep") == (None, "trong_ngay")


MON = datetime(2026, 3, 2, 9, 15)  # a Monday, office-local


def test_due_dates_follow_the_unit_and_the_way(db):
    as_hub(db)
    load()
    calendar = WorkCalendar()
    kh = Procedure.get(Procedure.code == "1.000894")
    assert dossiers._due(calendar, kh, MON, ()) == datetime(2026, 3, 17, 17, 0)  # 15 calendar days: a Tuesday
    land = Procedure.get(Procedure.code == "1.003596")
    assert dossiers._due(calendar, land, MON, ()) == datetime(2026, 4, 2, 17, 0)  # one month
    ks = Procedure.get(Procedure.code == "1.001193")
    assert dossiers._due(calendar, ks, MON, (), way="buu_chinh") == datetime(2026, 3, 5, 17, 0)  # the post's 3 working days
    assert dossiers._due(calendar, ks, MON, ()) == datetime(2026, 3, 2, 17, 0)  # in person: within the day


def test_a_procedure_without_a_limit_needs_the_officers_date(db):
    as_hub(db)
    load()
    ct = Procedure.get(Procedure.code == "1.012345")
    with pytest.raises(dossiers.MotcuaError) as refused:
        dossiers.receive(WorkCalendar(), ct, {"name": "Võ Thị Lan"}, "000.19.05518", now=MON)
    assert "không quy định thời hạn" in refused.value.message
    given = datetime(2026, 3, 6, 16, 0)
    assert dossiers._due(WorkCalendar(), ct, MON, (), given=given) == given


def test_legacy_rows_still_import_and_read(db):
    as_hub(db)
    legacy = [{"code": "1.000001", "name": "Thủ tục cũ", "level": "xa",
               "ways": [{"way": "truc_tiep", "days": 3, "hours": 0, "fee": "", "note": ""}],
               "components": [{"name": "Tờ khai", "copies": 2}]}]
    import_file("old.json", json.dumps(legacy, ensure_ascii=False).encode())
    p = Procedure.get(Procedure.code == "1.000001")
    assert (p.days, time_limit(p)) == (3, (3, "ngay_lam_viec"))
    assert record(p)["documents"][0]["copies"] == 2
