"""Queries citizens typed at the kiosk that found nothing, each answered now, through the box's API.

The catalog is real-looking (office.catalog_realistic: names with their "Thủ tục" prefix,
results, fields) and arrives as the pull writes it; the synonyms are the hub's defaults.
"""
import pytest

from office.catalog import Procedure, validate
from office.catalog_realistic import realistic
from office.synonyms import DEFAULTS, SearchSynonym
from sync.apply import catalog_changed
from sync.capture import applying_remote


def pulled(rows, synonyms=DEFAULTS):
    """Procedures and synonyms as the box receives them: written by the merge, cursor moved."""
    with applying_remote():
        for number, row in enumerate(rows):
            clean, reasons = validate(row)
            assert not reasons, reasons
            Procedure.insert(id=f"p-{number:04d}", commune="*", **clean).execute()
        for pk, phrase, means in synonyms:
            SearchSynonym.insert(id=pk, commune="*", phrase=phrase, means=means).execute()
        catalog_changed()


@pytest.fixture
def catalog(app):
    pulled(realistic(400))


def found(client, q):
    response = client.get("/api/v1/procedures", query_string={"q": q})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def codes(answer):
    return [p["code"] for p in answer["procedures"]]


def test_dang_ki_khai_sinh_folds_ki_and_ky(client, catalog):
    answer = found(client, "dang ki khai sinh")
    assert codes(answer)[0] == "1.001193" and not answer["closest"]  # every word held: ki is ký
    assert codes(found(client, "đăng kí khai sinh"))[0] == "1.001193"


def test_lam_giay_khai_sinh_cho_con_ignores_filler_and_finds_birth_registration(client, catalog):
    answer = codes(found(client, "lam giay khai sinh cho con"))
    assert "1.001193" in answer[:3] and "1.001022" in answer[:3]  # khai sinh, and khai sinh with nhận cha mẹ con


def test_ket_hon_voi_nguoi_nuoc_ngoai_finds_marriage_with_a_foreigner(client, catalog):
    answer = found(client, "ket hon voi nguoi nuoc ngoai")
    assert codes(answer)[0] == "2.000528"  # "người" is in no name: the closest, by the rarest words
    assert answer["closest"] and answer["total"] >= 1


def test_giay_xac_nhan_doc_than_finds_marital_status_by_synonym(client, catalog):
    assert codes(found(client, "giay xac nhan doc than"))[0] == "1.004873"
    assert codes(found(client, "xin xác nhận độc thân"))[0] == "1.004873"


def test_bare_code_1004873_is_read_as_1_004873(client, catalog):
    assert codes(found(client, "1004873")) == ["1.004873"]
    assert codes(found(client, " 1004873 ")) == ["1.004873"]


def test_thay_doi_ho_ten_finds_changing_civil_status(client, catalog):
    answer = found(client, "thay doi ho ten")
    assert codes(answer)[0] == "1.004859" and answer["closest"]


def test_so_do_and_so_hong_find_land_certificates(client, catalog):
    for q in ("so do", "cấp sổ hồng", "làm sổ đỏ lần đầu"):
        answer = found(client, q)["procedures"]
        assert {p["field"] for p in answer[:3]} == {"Đất đai"}, q
    assert codes(found(client, "làm sổ đỏ lần đầu"))[0] == "1.003003"


@pytest.mark.parametrize("q, code", [("bao tu", "1.000656"),
                                     ("nhap khau", "1.004194"), ("cong chung hop dong", "2.001035")])
def test_synonyms_citizens_use_find_the_catalog_words(client, catalog, q, code):
    assert code in codes(found(client, q))[:3], q


def test_leading_thu_tuc_is_not_ranked(client, catalog):
    assert codes(found(client, "thu tuc dang ky khai sinh"))[0] == "1.001193"
    assert codes(found(client, "dang ky ket hon"))[0] == "1.000894"  # the exact name, "Thủ tục" left out


def test_result_name_is_searched(client, catalog):
    assert "1.001776" in codes(found(client, "quyet dinh tro cap xa hoi hang thang"))[:3]
    assert "1.000748" in codes(found(client, "phieu ly lich tu phap"))[:1]


def test_nonsense_still_answers_nothing(client, catalog):
    answer = found(client, "xyz qwerty")
    assert answer["total"] == 0 and answer["procedures"] == [] and not answer["closest"]


def test_catalog_change_check_reads_no_row_of_the_catalog(app, catalog):
    """The "has the catalog changed?" check ran on every search and read every procedure's text:
    now it is one statement whose plan only searches indexes (no scan of a catalog table)."""
    from edge.catalog_views import _catalog_key
    from office.db import database

    statements = []
    connection = database.connection()
    connection.set_trace_callback(statements.append)
    try:
        with app.app_context():
            _catalog_key()
    finally:
        connection.set_trace_callback(None)
    assert len(statements) == 1, statements
    plans = [row[-1] for s in statements for row in database.execute_sql("EXPLAIN QUERY PLAN " + s).fetchall()]
    assert plans and [p for p in plans if p.startswith("SCAN")] == ["SCAN sync_node"], plans  # the one-row table
