"""The hub's catalog pages: import with a row-level report, list and search, edit, publish, agencies."""
import csv
import io
import json

import pytest
from openpyxl import Workbook

from motcua.settings import load_settings
from office.catalog import Procedure
from office.catalog_sample import sample
from office.db import database
from office.dossiers import Agency
from sync.models import ChangeEntry
from tests.central.hub_accounts import token_client



@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path):
    """The hub's app, on SQLite or on PostgreSQL (127.0.0.1:5432/test, a fresh schema)."""
    from central.app import create_app
    from tests.sync.conftest import drop_schema, postgres_schema

    overrides = {"data_dir": str(tmp_path), "operator_password": "first-operator"}
    schema = None
    if request.param == "postgresql":
        schema, overrides["database"] = postgres_schema()
    app = create_app(load_settings("hub", environ={}, overrides=overrides))
    app.config["TESTING"] = True
    yield token_client(app)
    database.close()
    if schema:
        drop_schema(schema)


def upload(client, name, data, path="/catalog/import"):
    return client.post(path, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def as_json(rows):
    return json.dumps(rows, ensure_ascii=False).encode()


def entries(table):
    return [e for e in ChangeEntry.select().order_by(ChangeEntry.seq) if e.table == table]


BAD_ROWS = [
    {"code": "1.00119", "name": "Mã thiếu số"},
    {"code": "1.777777", "name": ""},
    {"code": "1.888888", "name": "Cách thức lạ", "ways": [{"way": "fax", "days": 1}]},
    {"code": "1.999999", "name": "Thời hạn chữ", "ways": "truc_tiep|ba ngày||"},
]


def test_upload_reports_every_refused_row_and_keeps_the_good_ones(hub):
    good = sample(6)
    rows = good[:3] + BAD_ROWS[:2] + good[3:] + BAD_ROWS[2:] + [dict(good[0], name="Trùng mã")]
    response = upload(hub, "danh-muc.json", as_json(rows))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert Procedure.select().count() == 6
    report = {r[0]: r for r in _rejected_rows(html)}
    assert sorted(report) == [4, 5, 9, 10, 11]  # JSON: the item's place in the list, from 1
    assert "không đúng dạng 1.001193" in report[4][2] and report[4][1] == "1.00119"
    assert "thiếu tên thủ tục" in report[5][2]
    assert "cách thức “fax”" in report[9][2]
    assert "thời hạn “ba ngày” không rõ" in report[10][2]
    assert "trùng với một dòng trước" in report[11][2] and report[11][1] == good[0]["code"]
    for label, count in (("created", 6), ("updated", 0), ("unchanged", 0), ("rejected-count", 5)):
        assert f'id="{label}"><b>{count}</b>' in html, label
    # the procedures replicate: each is an entry of the hub's log, for every box
    logged = entries("procedure")
    assert len(logged) == 6 and {e.scope for e in logged} == {"*"}
    # the same file again: nothing new; one changed row: one update
    good[1]["name"] = "Đăng ký khai tử (sửa)"
    again = upload(hub, "danh-muc.json", as_json(good)).get_data(as_text=True)
    assert 'id="updated"><b>1</b>' in again and 'id="unchanged"><b>5</b>' in again and 'id="created"><b>0</b>' in again
    assert len(entries("procedure")) == 7


def _rejected_rows(html):
    """(row, code, reasons text) of the report's table of refused rows."""
    import re

    body = html.split('id="rejected"', 1)[1]
    out = []
    for row in re.findall(r"<tr><td>(\d+)</td><td><code>([^<]*)</code></td><td>(.*?)</td></tr>", body, re.S):
        out.append((int(row[0]), row[1], re.sub(r"<[^>]+>", " ", row[2])))
    return out


def test_csv_and_xlsx_rows_are_numbered_as_in_the_sheet(hub):
    columns = ["code", "name", "field", "ways", "components", "steps", "online_level"]
    rows = [["1.000101", "Đăng ký khai sinh", "Hộ tịch", "truc_tiep|0|0|Miễn lệ phí|\ntruc_tuyen|0|0||",
             "Tờ khai\nGiấy chứng sinh", "Bước 1\nBước 2", "toan_trinh"],
            ["1.000102", "Đăng ký khai tử", "Hộ tịch", "", "", "", "mot_phan"],
            ["bad", "Sai mã", "", "", "", "", "ba_phan"]]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(columns)
    writer.writerows(rows)
    html = upload(hub, "catalog.csv", text.getvalue().encode("utf-8-sig")).get_data(as_text=True)
    refused = _rejected_rows(html)
    assert [r[0] for r in refused] == [4] and "mức độ trực tuyến “ba_phan”" in refused[0][2]
    p = Procedure.get(Procedure.code == "1.000101").as_dict()
    assert [(c["name"], c["copies"]) for c in p["components"]] == [("Tờ khai", 1), ("Giấy chứng sinh", 1)]
    assert [w["way"] for w in p["ways"]] == ["truc_tiep", "truc_tuyen"] and p["steps"] == ["Bước 1", "Bước 2"]

    book = Workbook()
    sheet = book.active
    sheet.append(columns)
    sheet.append(["1.000103", "Đăng ký kết hôn", "Hộ tịch", "truc_tiep|0|0|Miễn||", "", "", ""])
    sheet.append(["1.000104", "", "", "", "", "", ""])
    out = io.BytesIO()
    book.save(out)
    html = upload(hub, "catalog.xlsx", out.getvalue()).get_data(as_text=True)
    assert [r[0] for r in _rejected_rows(html)] == [3] and Procedure.get_or_none(Procedure.code == "1.000103")


def test_unreadable_files_are_refused_in_vietnamese(hub):
    for name, data, message in (("x.json", b"{not json", "Không đọc được tệp “x.json”"),
                                ("x.json", b'{"code": 1}', "phải là một danh sách"),
                                ("x.xlsx", b"PK not a workbook", "tệp hỏng hoặc không đúng định dạng"),
                                ("x.pdf", b"%PDF", "chỉ nhận tệp .json, .csv hoặc .xlsx")):
        response = upload(hub, name, data)
        assert response.status_code == 400 and message in response.get_data(as_text=True), name
    assert "Hãy chọn một tệp" in hub.post("/catalog/import", data={}).get_data(as_text=True)
    api = upload(hub, "x.json", b"[", path="/api/v1/catalog/import")
    assert api.status_code == 400 and api.get_json()["error"].startswith("Không đọc được tệp")
    assert Procedure.select().count() == 0


def test_json_api_import(hub):
    response = upload(hub, "c.json", as_json(sample(3) + BAD_ROWS[:1]), path="/api/v1/catalog/import")
    body = response.get_json()
    assert (body["created"], body["updated"], body["unchanged"]) == (3, 0, 0)
    assert body["rejected"] == [{"row": 4, "code": "1.00119", "reasons": ["mã thủ tục “1.00119” không đúng dạng 1.001193"]}]


def test_operator_only(hub):
    anonymous = hub.application.test_client()
    for method, path in (("get", "/catalog"), ("get", "/agencies"), ("post", "/catalog/import"), ("get", "/catalog/new")):
        assert getattr(anonymous, method)(path).headers["Location"].startswith("/signin"), path
    assert anonymous.post("/api/v1/catalog/import").get_json()["error"].startswith("Cần đăng nhập")
    leader = token_client(hub.application, "leader", communes="05518")
    assert leader.get("/catalog").status_code == 403 and leader.get("/agencies").status_code == 403


def test_list_search_and_filters(hub):
    upload(hub, "c.json", as_json(sample(40)))
    html = hub.get("/catalog?q=dang+ky+khai+sinh").get_data(as_text=True)
    first = html.split('<tbody>', 1)[1].split("</tr>", 1)[0]
    assert "Đăng ký khai sinh<" in first
    code = Procedure.get(Procedure.name == "Đăng ký kết hôn").code
    assert "Đăng ký kết hôn<" in hub.get(f"/catalog?q={code}").get_data(as_text=True).split("</tr>", 2)[1]
    land = hub.get("/catalog?field=Đất đai").get_data(as_text=True)
    assert "Hòa giải tranh chấp đất đai" in land and "Đăng ký khai sinh" not in land
    assert "Không có thủ tục nào phù hợp" in hub.get("/catalog?state=inactive").get_data(as_text=True)


def form_of(p, **changes):
    """The edit form as the page fills it for ``p`` (import-shape values as text), with ``changes``."""
    from office.catalog import record
    from office.catalog_shape import limit_label

    r = record(p)
    form = {k: r[k] for k in ("code", "name", "field", "agency", "requirements", "result", "online_level")}
    form.update(steps="\r\n".join(r["steps"]), legal_basis="\n".join(r["legal_basis"]), levels=r["levels"])
    for n, w in enumerate(r["ways"]):
        form.update({f"way-{n}-way": w["way"], f"way-{n}-limit": limit_label(w["amount"], w["unit"]),
                     f"way-{n}-fee": w["fee"], f"way-{n}-description": w["description"]})
    for n, c in enumerate(r["documents"]):
        form.update({f"document-{n}-{k}": "" if c.get(k) is None else str(c.get(k, ""))
                     for k in ("group", "case", "name", "originals", "copies", "form", "form_url", "form_sha256",
                               "form_size", "template")})
    form.update(changes)
    return form


def test_edit_keeps_input_on_error_and_saves_changed_fields(hub):
    upload(hub, "c.json", as_json(sample(3)))
    p = Procedure.get(Procedure.name == "Đăng ký khai sinh")
    page = hub.get(f"/catalog/{p.id}").get_data(as_text=True)
    assert 'value="Đăng ký khai sinh"' in page and "Bước 2: Công chức tiếp nhận" in page and "Giấy chứng sinh" in page
    before = len(entries("procedure"))
    bad = hub.post(f"/catalog/{p.id}", data=form_of(
        p, code="1.2", name="Đăng ký khai sinh <mới>", **{"way-0-limit": "ba", "way-1-way": "truc_tiep",
                                                         "document-0-copies": "-1"}))
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    for reason in ("mã thủ tục “1.2” không đúng dạng", "thời hạn “ba” không rõ", "khai hai lần",
                   "không được âm"):
        assert reason in html, reason
    assert 'value="Đăng ký khai sinh &lt;mới&gt;"' in html and 'value="1.2"' in html and 'value="ba"' in html
    other = Procedure.get(Procedure.name == "Đăng ký kết hôn")
    taken = hub.post(f"/catalog/{p.id}", data=form_of(p, code=other.code)).get_data(as_text=True)
    assert f"mã {other.code} đã là của thủ tục “Đăng ký kết hôn”" in taken
    assert len(entries("procedure")) == before  # nothing saved

    form = form_of(p, **{"way-1-limit": "5 ngày làm việc", "way-2-way": "buu_chinh", "way-2-limit": "7 ngày",
                         "way-2-fee": "20.000 đồng",
                         "document-0-template": "<h2>TỜ KHAI</h2>\r\n<p>Họ tên: ....</p><script>x()</script>",
                         "document-2-group": "xuat_trinh", "document-2-name": "Giấy tờ tùy thân",
                         "document-2-originals": "1", "document-2-copies": "0"})
    saved = hub.post(f"/catalog/{p.id}", data=form)
    assert saved.status_code == 302
    d = Procedure.get_by_id(p.id).as_dict()
    assert [(w["way"], w["amount"], w["unit"]) for w in d["ways"]] == [
        ("truc_tiep", None, "trong_ngay"), ("truc_tuyen", 5, "ngay_lam_viec"), ("buu_chinh", 7, "ngay")]
    assert d["components"][0]["template"] == "<h2>TỜ KHAI</h2>\n<p>Họ tên: ....</p><script>x()</script>"
    third = d["components"][2]
    assert (third["name"], third["group"], third["originals"], third["copies"]) == ("Giấy tờ tùy thân", "xuat_trinh", 1, 0)
    entry = entries("procedure")[-1]
    assert set(json.loads(entry.data)) == {"ways", "components"}  # only what changed is sent down
    page = hub.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Đã lưu thủ tục" in page and "srcdoc=\"&lt;h2&gt;TỜ KHAI" in page and "sandbox" in page
    assert "&lt;script&gt;x()" in page.split("srcdoc=", 1)[0] and "script" not in page.split("srcdoc=", 1)[1].split('"></iframe>')[0]
    # saving again unchanged writes nothing
    hub.post(f"/catalog/{p.id}", data=form_of(Procedure.get_by_id(p.id)))
    assert len(entries("procedure")) == before + 1


def test_new_procedure_and_publishing(hub):
    new = hub.get("/catalog/new")
    assert new.status_code == 200 and "Thêm thủ tục" in new.get_data(as_text=True)
    form = {"code": "1.000555", "name": "Cấp bản sao trích lục hộ tịch", "levels": "xa", "online_level": "toan_trinh",
            "field": "Hộ tịch", "steps": "Nộp\nNhận", "way-0-way": "truc_tiep", "way-0-limit": "4 giờ",
            "way-0-fee": "8.000 đồng", "document-0-name": "Tờ khai", "document-0-originals": "0",
            "document-0-copies": "1", "document-1-name": "", "document-1-copies": "1"}
    created = hub.post("/catalog/new", data=form)
    assert created.status_code == 302
    p = Procedure.get(Procedure.code == "1.000555")
    assert (p.commune, p.hours, p.days, p.active) == ("*", 4, 0, True)
    assert [(c["name"], c["copies"]) for c in p.as_dict()["components"]] == [("Tờ khai", 1)]
    dup = hub.post("/catalog/new", data=form)
    assert dup.status_code == 400 and "đã là của thủ tục" in dup.get_data(as_text=True)
    # unpublish: the boxes receive active = false and stop showing it
    off = hub.post(f"/catalog/{p.id}/active", data={"active": "0", "next": "/catalog?q=ban+sao"})
    assert off.status_code == 302 and off.headers["Location"].endswith("/catalog?q=ban+sao")
    assert not Procedure.get_by_id(p.id).active and json.loads(entries("procedure")[-1].data) == {"active": False}
    assert "Đã gỡ" in hub.get("/catalog?state=inactive").get_data(as_text=True)
    back = hub.post(f"/catalog/{p.id}/active", data={"active": "1", "next": "https://evil.example/"})
    assert back.headers["Location"].endswith(f"/catalog/{p.id}") and Procedure.get_by_id(p.id).active
    assert hub.get("/catalog/khong-co").status_code == 404
    foreign = hub.post(f"/catalog/{p.id}/active", headers={"Origin": "http://evil.example"}, data={"active": "0"})
    assert foreign.status_code == 403 and Procedure.get_by_id(p.id).active


def test_agencies(hub):
    assert "Chưa có cơ quan nào" in hub.get("/agencies").get_data(as_text=True)
    assert hub.post("/agencies", data={"code": "000.00.19.STP", "name": "Sở Tư pháp"}).status_code == 302
    agency = Agency.get(Agency.code == "000.00.19.STP")
    assert agency.commune == "*" and len(entries("agency")) == 1
    for form, reason in (({"code": "000.00.19.STP", "name": "Khác"}, "đã có"),
                         ({"code": "<x>", "name": "Y"}, "Mã cơ quan"), ({"code": "000.00.20.VP", "name": ""}, "Cần mã định danh và tên")):
        response = hub.post("/agencies", data=form)
        assert response.status_code in (400, 409) and reason in response.get_data(as_text=True), form
    assert hub.post(f"/agencies/{agency.id}", data={"name": "Sở Tư pháp tỉnh Thái Nguyên"}).status_code == 302
    assert Agency.get_by_id(agency.id).name == "Sở Tư pháp tỉnh Thái Nguyên"
    page = hub.get("/agencies").get_data(as_text=True)
    assert "000.00.19.STP" in page and "Sở Tư pháp tỉnh Thái Nguyên" in page
