"""The catalog and local information on the box: kiosk API, pages, printable forms, places management."""
import json

import pytest

from edge.catalog_views import catalog_index, clean_html
from office.catalog import validate
from office.catalog_sample import sample
from office.models import Place, Procedure
from sync.apply import catalog_changed
from sync.capture import applying_remote
from sync.models import ChangeEntry
from tests.conftest import sign_in

FORM = ('<h2 class="center">TỜ KHAI ĐĂNG KÝ KHAI SINH</h2><p onclick="alert(1)" style="color:red">Họ, chữ, đệm, tên: '
        '........</p><script>alert("x")</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">xem</a>'
        '<table><tr><td colspan="2" style="background:url(http://evil/x)">Nơi sinh</td></tr></table>')
EVIL = "<script>alert('tthc')</script> Thủ tục thử"


def pulled(rows):
    """Procedures as the box receives them: written by the merge (no entry of its own), cursor moved."""
    with applying_remote():
        for number, row in enumerate(rows):
            clean, reasons = validate(row)
            assert not reasons, reasons
            Procedure.insert(id=f"p-{number:04d}", commune="*", **clean).execute()
        catalog_changed()


@pytest.fixture
def catalog(app):
    rows = sample(60)
    rows[0]["components"][0]["template"] = FORM  # Đăng ký khai sinh: a form to print
    rows.append({"code": "2.999999", "name": EVIL, "field": "Thử nghiệm", "ways": "truc_tiep|1|0|<b>Miễn</b>|"})
    pulled(rows)
    return {p.name: p for p in Procedure.select()}


def names(response):
    assert response.status_code == 200, response.get_json()
    return [p["name"] for p in response.get_json()["procedures"]]


@pytest.mark.parametrize("q", ["dang ky khai sinh", "khai sinh", "dăng ký khai sinh", "ĐĂNG KÝ KHAI SINH", "dang ky khai snh"])
def test_search_forgives_diacritics_and_slips(client, catalog, q):
    found = names(client.get("/api/v1/procedures", query_string={"q": q}))
    assert found[0] == "Đăng ký khai sinh"
    if q != "dang ky khai snh":
        assert set(found[:5]) >= {"Đăng ký khai sinh", "Đăng ký lại khai sinh"}


def test_codes_and_exact_phrases_rank_first(client, catalog):
    code = catalog["Đăng ký kết hôn"].code
    assert names(client.get("/api/v1/procedures", query_string={"q": code}))[0] == "Đăng ký kết hôn"
    by_prefix = client.get("/api/v1/procedures", query_string={"q": code[:5]}).get_json()["procedures"]
    assert by_prefix and all(p["code"].startswith(code[:5]) for p in by_prefix)
    # the phrase as typed beats names holding the same words apart
    assert names(client.get("/api/v1/procedures", query_string={"q": "khai tu"}))[0] == "Đăng ký khai tử"


def test_browse_and_filter_by_field(client, catalog):
    data = client.get("/api/v1/procedures", query_string={"field": "Hộ tịch"}).get_json()
    assert data["total"] == len(data["procedures"]) == sum(1 for p in catalog.values() if p.field == "Hộ tịch")
    assert {p["field"] for p in data["procedures"]} == {"Hộ tịch"}
    fields = {f["name"]: f["count"] for f in data["fields"]}
    assert fields["Hộ tịch"] == data["total"] and "Chứng thực" in fields
    both = client.get("/api/v1/procedures", query_string={"q": "chung thuc", "field": "Chứng thực"}).get_json()
    assert both["procedures"] and {p["field"] for p in both["procedures"]} == {"Chứng thực"}
    assert client.get("/api/v1/procedures", query_string={"q": "khai sinh", "field": "Đất đai"}).get_json()["total"] == 0
    first = data["procedures"][0]
    assert first["url"] == f"/procedures/{first['id']}" and first["time_limit"].endswith("làm việc")
    assert client.get("/api/v1/procedures", query_string={"limit": "x"}).status_code == 400
    everything = client.get("/api/v1/procedures", query_string={"limit": 200}).get_json()  # by field, then name
    assert everything["total"] == len(catalog) and everything["procedures"][0]["field"] == "Chứng thực"


def test_the_index_is_rebuilt_only_when_the_catalog_changes(client, app, catalog):
    client.get("/api/v1/procedures?q=khai+sinh")
    with app.app_context():
        first = catalog_index()
        assert catalog_index() is first  # nothing changed: the same index
        with applying_remote():  # the hub renames a procedure; the pull moves the catalog version
            Procedure.update(name="Đăng ký khai sinh lưu động").where(Procedure.code == catalog["Đăng ký khai sinh"].code).execute()
            catalog_changed()
        assert catalog_index() is not first
    assert "Đăng ký khai sinh lưu động" in names(client.get("/api/v1/procedures?q=luu+dong"))
    with applying_remote():  # a procedure withdrawn by the hub is gone from the kiosk
        Procedure.update(active=False).where(Procedure.code == catalog["Đăng ký kết hôn"].code).execute()
        catalog_changed()
    assert "Đăng ký kết hôn" not in names(client.get("/api/v1/procedures?q=ket+hon"))
    assert client.get(f"/procedures/{catalog['Đăng ký kết hôn'].id}").status_code == 404


def test_detail_api_and_page(client, catalog):
    p = catalog["Đăng ký lại khai sinh"]
    data = client.get(f"/api/v1/procedures/{p.id}").get_json()
    assert data["code"] == p.code and data["steps"][0].startswith("Bước 1")
    assert [w["label"] for w in data["ways"]] == ["Trực tiếp", "Trực tuyến"]
    assert data["ways"][0]["time_limit"] == "5 ngày làm việc" and data["legal_basis"][0].startswith("Luật Hộ tịch")
    assert client.get(f"/api/v1/procedures/{p.code}").get_json()["id"] == p.id  # by code too
    page = client.get(f"/procedures/{p.id}?kiosk=1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
    for text in ("Đăng ký lại khai sinh", "Các bước thực hiện", "Giấy tờ cần mang theo", "5 ngày làm việc",
                 "Căn cứ pháp lý", "Luật Hộ tịch số 60/2014/QH13", "Kết quả nhận được", "Trực tuyến",
                 "In danh sách giấy tờ cần mang", 'data-reset="60"', "/kiosk?go=procedures"):
        assert text in html, text
    assert "data-reset" not in client.get(f"/procedures/{p.id}").get_data(as_text=True)  # a phone: no idle return


def test_unknown_ids_are_404_in_vietnamese(client, catalog):
    api = client.get("/api/v1/procedures/khong-co")
    assert api.status_code == 404 and api.get_json()["error"].startswith("Không tìm thấy thủ tục")
    page = client.get("/procedures/khong-co")
    assert page.status_code == 404 and "Không tìm thấy thủ tục" in page.get_data(as_text=True)
    form = client.get(f"/procedures/{catalog['Đăng ký khai sinh'].id}/forms/9")
    assert form.status_code == 404 and "không có mẫu số 9" in form.get_data(as_text=True)
    assert client.get("/procedures/khong-co/forms/1").status_code == 404


def test_printable_form_is_cleaned_and_checklist_otherwise(client, catalog):
    p = catalog["Đăng ký khai sinh"]
    page = client.get(f"/procedures/{p.id}/forms/1?kiosk=1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "TỜ KHAI ĐĂNG KÝ KHAI SINH" in html and 'colspan="2"' in html
    for bad in ("<script>alert", "onerror", "onclick", "javascript:", "url(http", "<img"):
        assert bad not in html, bad
    assert 'style="color:red"' in html and "In trang này" in html
    checklist = client.get(f"/procedures/{p.id}/forms/2").get_data(as_text=True)  # Giấy chứng sinh: no form
    assert "Danh sách giấy tờ cần chuẩn bị" in checklist and "Tờ khai đăng ký khai sinh" in checklist
    assert "không có mẫu in sẵn" in checklist
    zero = client.get(f"/procedures/{p.id}/forms/0").get_data(as_text=True)
    assert "Giấy chứng sinh" in zero and "không có mẫu in sẵn" not in zero
    detail = client.get(f"/procedures/{p.id}").get_data(as_text=True)
    assert detail.count("In mẫu đơn") == 1 and f"/procedures/{p.id}/forms/1" in detail


def test_user_text_is_escaped(client, catalog):
    p = catalog[EVIL]
    for path in (f"/procedures/{p.id}", f"/procedures/{p.id}/forms/0", "/procedures?q=thu+nghiem"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert('tthc')" not in html and "&lt;script&gt;" in html, path
        assert "<b>Miễn</b>" not in html
    q = '"><img src=x onerror=alert(1)>'
    html = client.get("/procedures", query_string={"q": q}).get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x" in html
    answer = client.get("/api/v1/procedures", query_string={"q": q}).get_json()
    # only "alert" is a word of the catalog (in the hostile name): the closest match, escaped where shown
    assert answer["q"] == q and answer["closest"] and [r["name"] for r in answer["procedures"]] == [EVIL]


def test_catalog_page_for_phones(client, catalog):
    html = client.get("/procedures?q=khai+sinh").get_data(as_text=True)
    assert "Đăng ký khai sinh" in html and "procedures/p-0000" in html
    browse = client.get("/procedures?field=Đất đai").get_data(as_text=True)
    assert "Hòa giải tranh chấp đất đai" in browse and "Đăng ký khai sinh" not in browse
    assert "Chọn một lĩnh vực" in client.get("/procedures").get_data(as_text=True)


def test_clean_html():
    assert clean_html("<p>a<b>b</p>c") == "<p>a<b>b</b></p>c"
    assert clean_html("<style>p{}</style><p>x</p><iframe src=y>z</iframe>") == "<p>x</p>"
    assert clean_html('<td style="x: expression(1)" width="5">&lt;a&gt;</td>') == '<td width="5">&lt;a&gt;</td>'
    assert clean_html("<br/><hr><svg><script>1</script></svg>ok") == "<br><hr>ok"


# ---- places ---------------------------------------------------------------------------------------

@pytest.fixture
def places(app):
    rows = [("Trạm y tế phường Sông Công", "y-te", "Tổ 3, phường Sông Công", "0208 3862 111", "Khám chữa bệnh ban đầu"),
            ("Trường Tiểu học Sông Công", "truong-hoc", "Tổ 7", "", ""),
            ("Chợ Sông Công", "cho", "Đường Thống Nhất", "", "Họp hằng ngày"),
            ("Đình làng Cải Đan", "dia-chi-do", "Tổ 12", "", "Di tích lịch sử cấp tỉnh"),
            ("Nhà văn hóa cũ", "van-hoa", "", "", "")]
    made = [Place.create(name=n, category=c, address=a, phone=ph, description=d) for n, c, a, ph, d in rows]
    made[-1].active = False
    made[-1].save()
    return made


def test_places_api_browses_and_searches(client, places):
    data = client.get("/api/v1/places").get_json()
    assert [p["name"] for p in data["places"]][:2] == ["Trường Tiểu học Sông Công", "Trạm y tế phường Sông Công"]
    assert "Nhà văn hóa cũ" not in {p["name"] for p in data["places"]}  # hidden
    assert {c["code"]: c["count"] for c in data["categories"]} == {"truong-hoc": 1, "y-te": 1, "cho": 1, "dia-chi-do": 1}
    assert data["categories"][0]["label"] == "Trường học"
    for q in ("tram y te", "trạm y tế", "Y TE"):
        assert client.get("/api/v1/places", query_string={"q": q}).get_json()["places"][0]["name"] == places[0].name
    red = client.get("/api/v1/places?category=dia-chi-do").get_json()
    assert [p["name"] for p in red["places"]] == ["Đình làng Cải Đan"] and red["places"][0]["category_label"].startswith("Địa chỉ đỏ")
    assert client.get("/api/v1/places", query_string={"q": "di tich"}).get_json()["places"][0]["name"] == "Đình làng Cải Đan"


def test_places_writes_are_for_signed_in_officers(client, places):
    entries = ChangeEntry.select().count()
    page = client.get("/places")
    assert page.status_code == 401 and "Đăng nhập tại quầy" in page.get_data(as_text=True)
    assert client.get(f"/places/{places[0].id}").status_code == 401
    for path, form in (("/places", {"name": "X", "category": "cho"}), (f"/places/{places[0].id}", {"name": "Y"}),
                       (f"/places/{places[0].id}/active", {"active": "0"})):
        response = client.post(path, data=form)
        assert response.status_code == 401 and "đăng nhập" in response.get_data(as_text=True), path
    assert ChangeEntry.select().count() == entries
    assert Place.get_by_id(places[0].id).name == "Trạm y tế phường Sông Công"


def test_officer_creates_edits_and_hides_a_place(client, places):
    sign_in(client)
    listing = client.get("/places").get_data(as_text=True)
    assert "Trạm y tế phường Sông Công" in listing and "Nhà văn hóa cũ" in listing and "đang ẩn" in listing
    # refused: the form comes back with what was typed and the reasons
    bad = client.post("/places", data={"name": "", "category": "", "phone": "abc", "address": "<b>Tổ 9</b>"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Cần nhập tên địa điểm." in html and "Hãy chọn một nhóm" in html
    assert "Số điện thoại chỉ gồm" in html and 'value="&lt;b&gt;Tổ 9&lt;/b&gt;"' in html
    made = client.post("/places", data={"name": "Mô hình vườn mẫu <NTM>", "category": "nong-thon-moi",
                                        "address": "Xóm Bãi Hát", "phone": "0912 345 678",
                                        "opening_hours": "7:00–17:00", "description": "Vườn mẫu\r\nđạt chuẩn 2024"})
    assert made.status_code == 302
    place = Place.get(Place.name == "Mô hình vườn mẫu <NTM>")
    assert place.description == "Vườn mẫu\nđạt chuẩn 2024" and place.commune == "05518"
    assert "Mô hình vườn mẫu &lt;NTM&gt;" in client.get(made.headers["Location"]).get_data(as_text=True)
    assert client.get("/api/v1/places?q=vuon+mau").get_json()["places"][0]["id"] == place.id
    # an edit stamps the changed fields only (each merges with the hub's edits on its own)
    form = {k: getattr(place, k) for k in ("name", "category", "address", "phone", "opening_hours", "description")}
    before = ChangeEntry.select().count()
    assert client.post(f"/places/{place.id}", data={**form, "phone": "0912 000 111"}).status_code == 302
    entry = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).get()
    assert (entry.table, entry.pk, json.loads(entry.data)) == ("place", place.id, {"phone": "0912 000 111"})
    assert client.post(f"/places/{place.id}", data={**form, "phone": "0912 000 111"}).status_code == 302
    assert ChangeEntry.select().count() == before + 1  # nothing changed: nothing written
    edit = client.get(f"/places/{place.id}").get_data(as_text=True)
    assert "0912 000 111" in edit and "Sửa địa điểm" in edit
    # hide from the kiosk, show again
    assert client.post(f"/places/{place.id}/active", data={"active": "0"}).status_code == 302
    assert client.get("/api/v1/places?q=vuon+mau").get_json()["places"] == []
    client.post(f"/places/{place.id}/active", data={"active": "1"})
    assert Place.get_by_id(place.id).active
    # a form posted from another site is refused
    foreign = client.post(f"/places/{place.id}", data={**form, "name": "X"}, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and Place.get_by_id(place.id).name == form["name"]
    assert client.get("/places/khong-co").status_code == 404
    assert "Mô hình vườn mẫu" in client.get("/places?q=vuon mau").get_data(as_text=True)
