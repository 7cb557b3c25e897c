"""A box of the previous release (schema N-1) keeps pulling from an updated hub: the hub leaves out
the columns and tables that box does not know, instead of stopping its pulls with "unknown columns"."""
import json

from sync.protocol import SCHEMA, decode_batch, RELAYED
from sync.keys import load_public_text
from sync.schemas import ALL, hidden_from, strip_entry, strip_table

from .test_dossier_convergence import hub_import_catalog

BEFORE_DETAILS = 5  # the schema of the releases before procedure details (they did not say their schema)
RECORD = [{
    "code": "1.001193", "name": "Thủ tục đăng ký khai sinh", "levels": "Cấp Tỉnh, Cấp Xã",
    "decision": "1872/QĐ-BTP", "result_code": "KQ.G15.000031",
    "ways": ["Trực tiếp | 03 Ngày làm việc | Miễn lệ phí", "Trực tuyến | 15 Ngày | Miễn lệ phí"],
    "documents": ["nop | | Tờ khai đăng ký khai sinh | 1 | 0", "xuat_trinh | | Căn cước | 1 | 0"],
}]


def test_the_previous_schema_does_not_see_procedure_details():
    hidden = hidden_from(BEFORE_DETAILS)
    assert hidden["procedure"] == {"details"} and hidden["search_synonym"] is ALL
    assert hidden_from(SCHEMA - 1)["attachment"] is ALL and "procedure" not in hidden_from(SCHEMA - 1)
    assert hidden_from(SCHEMA) == {}
    row = ["hub", 1, 1, "procedure", "p1", "insert", "*", {"code": "1.001193", "details": "{}"}, {}, "", "h"]
    assert strip_entry(row, hidden)[7] == {"code": "1.001193"}
    only_details = ["hub", 2, 2, "procedure", "p1", "update", "*", {"details": "{}"}, {"details": ""}, "", "h"]
    assert strip_entry(only_details, hidden) is None
    table = {"columns": ["id", "code", "details"], "rows": [["p1", "1.001193", "{}"]]}
    assert strip_table("procedure", table, hidden) == {"columns": ["id", "code"], "rows": [["p1", "1.001193"]]}
    assert strip_table("other", table, {"other": ALL}) is None


def _pull(box, schema):
    from sync.box import client_for
    from sync.capture import this_node

    params = {"cursor": 0, "limit": 1000}
    if schema is not None:
        params["schema"] = schema
    with box:  # the box's own identity, from its own database
        response = client_for(box.settings, box.key)._signed_get("pull", "/sync/v1/pull", params)
        hub_key = load_public_text(this_node().hub_key)
    return decode_batch(response.content, response.headers["X-Motcua-Signature"], hub_key, fields=RELAYED)


def test_previous_release_box_pulls_procedures_without_the_new_column(hub, make_box, tmp_path):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(RECORD, ensure_ascii=False), encoding="utf-8")
    hub_import_catalog(hub.dir, hub.database_url, str(catalog))
    box = make_box()
    assert box.sync()["ok"]
    for schema in (BEFORE_DETAILS, None):  # said, or not said at all (a release that did not say)
        entries = [e for e in _pull(box, schema).entries if e["table"] == "procedure"]
        assert entries and all("details" not in e["data"] for e in entries)
    entries = [e for e in _pull(box, SCHEMA).entries if e["table"] == "procedure"]
    assert json.loads(entries[0]["data"]["details"])["levels"] == ["tinh", "xa"]
    with box:  # today's box got the whole record
        from office.models import Procedure
        assert Procedure.get(Procedure.code == "1.001193").detail_fields()["result_code"] == "KQ.G15.000031"
