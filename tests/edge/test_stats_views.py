"""The box's statistics: for officers signed in, and only its own commune's rows."""
import io

from openpyxl import load_workbook

from tests.conftest import sign_in
from tests.stats_data import A, NOW, load


def test_officers_must_sign_in(app, client):
    app.extensions["dossier_clock"] = lambda: NOW
    response = client.get("/stats")
    assert response.status_code == 302 and response.headers["Location"].endswith("/counter")
    api = client.get("/api/v1/stats/summary")
    assert api.status_code == 401 and "đăng nhập" in api.get_json()["error"]
    assert client.get("/stats/summary.xlsx").status_code == 302
    assert client.get("/stats/report.xlsx").status_code == 302


def test_only_the_box_commune_is_counted(app, client):
    app.extensions["dossier_clock"] = lambda: NOW
    load(seeded=True)  # rows of another commune too, as if misplaced: the box never counts them
    sign_in(client)
    data = client.get("/api/v1/stats/summary?month=2026-03&commune=05521").get_json()  # asking for another commune
    assert data["total"]["received"] == 6 and data["columns"][0]["label"] == "Lĩnh vực"
    assert client.get("/api/v1/stats/index766?month=2026-03").get_json()["rows"][0]["key"] == A
    assert client.get("/api/v1/stats/summary?month=2026-03&group=commune").status_code == 400
    overdue = client.get("/api/v1/stats/overdue?month=2026-03").get_json()
    assert [r["code"] for r in overdue["rows"]] == ["X-d2", "X-d4"]
    page = client.get("/stats?table=summary&month=2026-03")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "UBND Xã Tân Quang" not in html
    assert 'name="commune"' not in html  # no commune to choose on a box
    assert client.get("/stats?table=summary&group=commune").status_code == 400  # no grouping by commune here
    response = client.get("/stats/report.xlsx?month=2026-03")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()))
    response.close()
    communes = [r[0] for r in book["Theo xã, phường"].iter_rows(min_row=5, values_only=True) if r[0]]
    assert "UBND Xã Tân Quang" not in communes and communes[0] == "UBND Phường Sông Công"


def test_each_section_renders_on_the_box(app, client):
    app.extensions["dossier_clock"] = lambda: NOW
    load(seeded=True)
    sign_in(client)
    for section in ("summary", "overdue", "lateness", "satisfaction", "index766", "queue"):
        response = client.get(f"/stats?table={section}&quarter=2026-Q1")
        assert response.status_code == 200 and "<svg" in response.get_data(as_text=True), section
