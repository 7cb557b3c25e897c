"""The hub's synonyms for the kiosk's search: seeded once, edited under the catalog with audit,
imported from a file (page and CLI); every change is one entry of the hub's log for the boxes."""
import io
import json

from central.audit import entries as audit_entries
from office.synonyms import DEFAULTS, SearchSynonym, ensure_default_synonyms
from sync.models import ChangeEntry
from tests.central.test_catalog_admin import hub  # noqa: F401 (the hub app on SQLite and PostgreSQL)


def logged():
    return [json.loads(e.data) | {"op": e.op, "pk": e.pk}
            for e in ChangeEntry.select().order_by(ChangeEntry.seq) if e.table == "search_synonym"]


def test_defaults_are_seeded_once_and_a_withdrawn_one_stays_withdrawn(hub):
    assert {s.phrase for s in SearchSynonym.select()} == {p for _, p, _ in DEFAULTS}
    assert all(s.commune == "*" for s in SearchSynonym.select()) and len(logged()) == len(DEFAULTS)
    so_do = SearchSynonym.get(SearchSynonym.phrase == "sổ đỏ")
    assert hub.post(f"/catalog/synonyms/{so_do.id}/active", data={"active": "0"}).status_code == 302
    assert ensure_default_synonyms() == 0  # the next start seeds nothing
    assert SearchSynonym.get_by_id(so_do.id).active is False
    assert logged()[-1] == {"active": False, "op": "update", "pk": so_do.id}
    assert audit_entries(action="catalog.synonym")[0].target == "sổ đỏ"


def test_operator_adds_edits_and_is_told_why_a_synonym_is_refused(hub):
    page = hub.get("/catalog/synonyms").get_data(as_text=True)
    assert "Từ đồng nghĩa khi tìm thủ tục" in page and "sổ đỏ" in page and "giấy chứng nhận quyền sử dụng đất" in page
    assert "Từ đồng nghĩa khi tìm" in hub.get("/catalog").get_data(as_text=True)  # reached from the catalog
    added = hub.post("/catalog/synonyms", data={"phrase": "làm căn cước", "means": "cấp thẻ căn cước"})
    assert added.status_code == 302
    row = SearchSynonym.get(SearchSynonym.phrase == "làm căn cước")
    assert logged()[-1]["op"] == "insert" and logged()[-1]["means"] == "cấp thẻ căn cước"
    refused = hub.post("/catalog/synonyms", data={"phrase": "SO DO", "means": "đất"})  # the same words, folded
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "“sổ đỏ” đã có" in html and 'value="SO DO"' in html  # input kept
    empty = hub.post("/catalog/synonyms", data={"phrase": "  ", "means": "x"}).get_data(as_text=True)
    assert "thiếu từ người dân gõ" in empty
    before = len(logged())
    assert hub.post(f"/catalog/synonyms/{row.id}", data={"phrase": "làm căn cước", "means": "cấp thẻ căn cước"}
                    ).status_code == 302
    assert len(logged()) == before  # nothing changed: nothing sent
    hub.post(f"/catalog/synonyms/{row.id}", data={"phrase": "làm căn cước", "means": "cấp đổi thẻ căn cước"})
    assert logged()[-1] == {"means": "cấp đổi thẻ căn cước", "op": "update", "pk": row.id}
    actions = [e.action for e in audit_entries(action="catalog.synonym")]
    assert actions[:2] == ["catalog.synonym.change", "catalog.synonym.add"]
    assert hub.post("/catalog/synonyms/khong-co/active", data={"active": "0"}).status_code == 404


def test_synonyms_import_from_a_file_reports_refused_rows(hub):
    data = ("phrase,means\nhộ khẩu,đăng ký thường trú\nsổ đỏ,giấy chứng nhận quyền sử dụng đất đai\n,trống\n"
            ).encode()
    answer = hub.post("/catalog/synonyms/import", data={"file": (io.BytesIO(data), "tu.csv")},
                      content_type="multipart/form-data")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "1 mới, 1 cập nhật, 0 không đổi, 1 dòng bị từ chối" in html
    assert "Dòng 4 (trống): thiếu từ người dân gõ" in html
    assert SearchSynonym.get(SearchSynonym.phrase == "sổ đỏ").means == "giấy chứng nhận quyền sử dụng đất đai"
    bad = hub.post("/catalog/synonyms/import", data={"file": (io.BytesIO(b"x"), "tu.txt")},
                   content_type="multipart/form-data")
    assert bad.status_code == 400 and "chỉ nhận tệp .json hoặc .csv" in bad.get_data(as_text=True)
