"""The hub's statistics pages over HTTP: sign-in, periods, every section with its chart, JSON
and Excel downloads whose numbers are the page's."""
import io
import re
from datetime import datetime
from html import unescape
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from central.app import create_app
from motcua.settings import load_settings
from office.db import database
from tests.stats_data import A, B, NOW, load
from tests.central.hub_accounts import token_client

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SECTIONS = ("summary", "overdue", "lateness", "satisfaction", "index766", "queue")


@pytest.fixture
def hub(tmp_path):
    settings = load_settings("hub", environ={}, overrides={"data_dir": str(tmp_path / "hub"),
                                                         "operator_password": "first-operator"})
    app = create_app(settings)
    app.config["TESTING"] = True
    app.extensions["dossier_clock"] = lambda: NOW
    load()
    yield app
    database.close()


@pytest.fixture
def client(hub):
    return token_client(hub, "operator")


def text(response):
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_sign_in_is_needed(hub):
    anonymous = hub.test_client()
    for path in ("/stats", "/stats/summary.xlsx", "/stats/report.xlsx?month=2026-03"):
        assert anonymous.get(path).headers["Location"].startswith("/signin"), path
    assert anonymous.get("/api/v1/stats/summary").status_code == 401


def test_the_hub_home_links_to_statistics(client):
    assert 'href="/stats"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("section", SECTIONS)
def test_each_section_renders_with_its_chart(client, section):
    response = client.get(f"/stats?table={section}&month=2026-03")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<svg" in html and 'role="img"' in html and "<title" in html
    assert "Tháng 03/2026" in text(response)
    assert f"/stats/{section}.xlsx?" in html and "/stats/report.xlsx?month=2026-03" in html
    assert "/stats/report.xlsx?quarter=2026-Q1" in html


def test_the_page_shows_the_numbers_of_the_json(client):
    html = client.get("/stats?table=summary&month=2026-03&group=commune").get_data(as_text=True)
    page = unescape(re.sub(r"<[^>]+>", " ", html))
    data = client.get("/api/v1/stats/summary?month=2026-03&group=commune").get_json()
    total = data["total"]
    assert (total["received"], total["resolved"], total["late"], total["on_time_pct"]) == (7, 4, 2, 50.0)
    footer = re.search(r"<tfoot>(.*?)</tfoot>", html, re.S).group(1)
    row = unescape(re.sub(r"<[^>]+>", " ", footer)).split()[2:]  # after "Tổng cộng"
    assert row[:9] == ["7", "4", "1", "1", "2", "2", "1", "1", "50,0"]
    table = re.search(r"<table.*?</table>", html, re.S).group(0)
    assert "UBND Xã Tân Quang" in page and "Phản ánh" not in table  # field reports have a tab of their own


def test_bad_dates_answer_a_vietnamese_400_keeping_the_input(client):
    response = client.get("/stats?table=overdue&from=2026-02-30&to=2026-03-05&commune=05518")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "“2026-02-30” không hợp lệ" in unescape(html)
    assert 'value="2026-02-30"' in html and 'value="2026-03-05"' in html
    assert '<option value="05518" selected>' in html
    api = client.get("/api/v1/stats/summary?from=2026-03-05&to=2026-03-01")
    assert api.status_code == 400 and "phải trước" in api.get_json()["error"]
    refused = client.get("/stats/summary.xlsx?month=2026-13")
    assert refused.status_code == 400 and "Tháng “2026-13” không hợp lệ" in unescape(refused.get_data(as_text=True))
    assert client.get("/api/v1/stats/nothing?month=2026-03").status_code == 404
    assert client.get("/api/v1/stats/summary?month=2026-03&group=colour").status_code == 400


def test_commune_filter(client):
    data = client.get(f"/api/v1/stats/summary?month=2026-03&commune={B}").get_json()
    assert [r["key"] for r in data["rows"]] == [B] and data["total"]["received"] == 1
    overdue = client.get(f"/api/v1/stats/overdue?month=2026-03&commune={A}").get_json()
    assert [r["code"] for r in overdue["rows"]] == ["X-d2", "X-d4"]


def workbook(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == XLSX
    data = response.get_data()
    response.close()  # send_file's temporary file
    return load_workbook(io.BytesIO(data))


@pytest.mark.parametrize("section", SECTIONS)
def test_each_download_matches_the_json(client, section):
    query = "month=2026-03"
    data = client.get(f"/api/v1/stats/{section}?{query}").get_json()
    response = client.get(f"/stats/{section}.xlsx?{query}")
    disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" + quote(f"{data['title']} – 2026-03.xlsx".replace("/", "-")) in disposition
    book = workbook(response)
    assert book.sheetnames[0] == "Tổng hợp"
    sheet = book.worksheets[1]
    rows = list(sheet.iter_rows(values_only=True))
    header = [c["label"] for c in data["columns"]]
    at = rows.index(tuple(header))
    assert rows[0][0] == "Trung tâm điều hành một cửa – các xã, phường" and "Tháng 03/2026" in rows[at - 1][0]
    body = rows[at + 1:at + 1 + len(data["rows"])]
    for got, want in zip(body, data["rows"]):
        for column, value in zip(data["columns"], got):
            expected = want[column["key"]]
            if column["kind"] == "datetime":
                assert value == (datetime.fromisoformat(expected) if expected else None)
            else:
                assert value == expected, column
    assert sheet.freeze_panes == f"A{at + 2}"
    assert sheet.cell(row=at + 1, column=1).font.b


def test_cells_are_real_dates_and_numbers(client):
    sheet = workbook(client.get("/stats/overdue.xlsx?month=2026-03")).worksheets[1]
    rows = list(sheet.iter_rows(min_row=5))
    due = rows[0][6]
    assert isinstance(due.value, datetime) and due.value == datetime(2026, 4, 3, 17) and due.number_format == \
        "dd/mm/yyyy hh:mm"
    assert isinstance(rows[0][9].value, int) and rows[0][9].value == 5


def test_the_periodic_report(client):
    response = client.get("/stats/report.xlsx?quarter=2026-Q1")
    book = workbook(response)
    assert "filename*=UTF-8''" + quote("Báo cáo định kỳ – 2026-Q1.xlsx") in response.headers["Content-Disposition"]
    assert book.sheetnames == ["Tổng hợp", "Theo xã, phường", "Theo lĩnh vực", "Chỉ số 766", "Hồ sơ trễ hạn",
                               "Hài lòng", "Xếp hàng"]
    summary = {r[0]: r[1] for r in book["Tổng hợp"].iter_rows(values_only=True) if r and len(r) > 1}
    first = book["Tổng hợp"]
    assert first["A2"].value == "Báo cáo tình hình giải quyết thủ tục hành chính – Quý I năm 2026"
    assert first["A2"].font.b and first["A3"].value == "Kỳ báo cáo: Quý I năm 2026"
    assert summary["Tiếp nhận"] == 8 and summary["Chỉ số hài lòng (%)"] == data_index(client)
    assert summary["Số lượt lấy số thứ tự"] == 12
    overdue = [r for r in book["Hồ sơ trễ hạn"].iter_rows(min_row=5, values_only=True) if r[0] and r[0].startswith("X-")]
    assert [r[0] for r in overdue] == ["X-d6", "X-d2", "X-d4", "X-d8"]  # 28/02 is due 04/03


def data_index(client):
    return client.get("/api/v1/stats/index766?quarter=2026-Q1").get_json()["total"]["satisfaction_index"]


def test_a_download_tells_the_waiting_page_it_has_come(client):
    """stats.js shows "being made" until the cookie with its token arrives with the file."""
    response = client.get("/stats/summary.xlsx?month=2026-03&download_token=k3x9q2m7")
    response.close()
    assert response.status_code == 200 and "motcua_download=k3x9q2m7" in response.headers["Set-Cookie"]
    html = client.get("/stats?month=2026-03").get_data(as_text=True)
    assert 'id="export-status"' in html and "/assets/stats.js" in html and html.count("data-export") == 3
    bad = client.get("/stats/report.xlsx?month=2026-03&download_token=%22%3B%20x%3D1")  # not a token: no cookie
    bad.close()
    assert bad.status_code == 200 and "Set-Cookie" not in bad.headers
