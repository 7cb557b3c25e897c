"""Defects of the hub's statistics (issue 12, item 10): a commune that received nothing is listed
with zeros (page, JSON and Excel), communes by name, numbers written one way (“3,1”), and the
hub's navigation bar on the statistics page like on every other hub page."""
import io
import re
from html import unescape

import pytest
from openpyxl import load_workbook

from office.models import Office
from sync.capture import applying_remote
from tests.central.hub_accounts import session_client, token_client
from tests.central.test_stats_views import hub  # noqa: F401

QUIET = "01849"  # Xã Phong Quang: a box that has sent no dossier


@pytest.fixture
def quiet_commune(hub):  # noqa: F811
    with applying_remote():
        Office.insert(id="office-q", commune=QUIET, name="UBND Xã Phong Quang", agency_code="000.06.01849").execute()


def text(response):
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_communes_with_zero_dossiers_are_listed_in_statistics_and_excel(hub, quiet_commune):  # noqa: F811
    client = token_client(hub, "operator")
    data = client.get("/api/v1/stats/summary?month=2026-03&group=commune").get_json()
    rows = {r["key"]: r for r in data["rows"]}
    assert rows[QUIET]["label"] == "UBND Xã Phong Quang" and rows[QUIET]["received"] == 0
    assert rows[QUIET]["on_time_pct"] is None
    assert [r["label"] for r in data["rows"]] == sorted(r["label"] for r in data["rows"])  # by name
    assert "UBND Xã Phong Quang" in text(client.get("/stats?table=summary&month=2026-03"))
    for section in ("satisfaction", "queue"):
        got = client.get(f"/api/v1/stats/{section}?month=2026-03&group=commune").get_json()
        assert QUIET in {r["key"] for r in got["rows"]}, section
    response = client.get("/stats/report.xlsx?month=2026-03")
    book = load_workbook(io.BytesIO(response.get_data()))
    response.close()
    by_commune = [r for r in book["Theo xã, phường"].iter_rows(values_only=True) if r and r[0] == "UBND Xã Phong Quang"]
    assert by_commune and by_commune[0][1] == 0
    for row in book["Theo xã, phường"].iter_rows(values_only=True):
        assert not (row and isinstance(row[0], str) and re.fullmatch(r"\d{5}", row[0])), row  # names, not codes


def test_numbers_are_written_one_way():
    from motcua.numbers import vn_number

    assert [vn_number(v) for v in (3.14, 1234, 1234567.25, 0, None, 50.0)] == \
        ["3,1", "1.234", "1.234.567,2", "0", "—", "50,0"]


def test_the_statistics_chart_writes_decimals_with_a_comma(hub):  # noqa: F811
    client = token_client(hub, "operator")
    html = client.get("/stats?table=queue&month=2026-03").get_data(as_text=True)
    chart = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    figures = re.findall(r">(\d[\d.,]*)</text>", chart)
    assert figures and all("." not in f for f in figures), figures


def test_the_hub_statistics_page_has_the_hub_navigation_bar(hub):  # noqa: F811
    client = session_client(hub, "operator")
    pages = ("/", "/stats", "/agency", "/catalog", "/agencies", "/reminders", "/dat-lich", "/notifications", "/accounts", "/audit")
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        nav = html.split('class="hubnav"', 1)
        assert len(nav) == 2, path
        links = re.findall(r'<a href="([^"]+)"', nav[1].split("</nav>", 1)[0])
        assert links[:11] == ["/", "/stats", "/agency", "/catalog", "/agencies", "/reminders", "/dat-lich",
                              "/notifications", "/open311-clients", "/accounts", "/audit"], (path, links)
