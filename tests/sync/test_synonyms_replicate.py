"""The search's synonyms are authored at the hub and reach every box with the catalog: the
defaults seeded at the hub's start, one imported with the hub's CLI, one withdrawn on the hub's
page; the box's kiosk search follows each after its pull (SQLite and PostgreSQL hubs)."""
import json

import requests

from office.catalog_realistic import realistic
from office.synonyms import DEFAULTS, SearchSynonym

from .conftest import motcua
from .test_dossier_convergence import hub_import_catalog


def kiosk(client, q):
    answer = client.get("/api/v1/procedures", query_string={"q": q})
    assert answer.status_code == 200
    return [p["code"] for p in answer.get_json()["procedures"]]


def test_synonyms_replicate_from_hub_to_box_and_steer_its_search(hub, make_box, tmp_path):
    from edge.app import create_app

    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(realistic(120), ensure_ascii=False), encoding="utf-8")
    hub_import_catalog(hub.dir, hub.database_url, catalog)
    extra = tmp_path / "tu-dong-nghia.csv"
    extra.write_text("phrase,means\nlàm căn cước,cấp thẻ căn cước\n", encoding="utf-8")
    args = ["--data-dir", hub.dir] + (["--database", hub.database_url] if hub.database_url else [])
    assert "1 từ đồng nghĩa mới" in motcua("hub", "import-synonyms", extra, *args).stdout
    box = make_box()
    assert box.sync()["ok"]
    with box:
        assert {(s.phrase, s.means, s.active, s.commune) for s in SearchSynonym.select()} == \
            {(p, m, True, "*") for _, p, m in DEFAULTS} | {("làm căn cước", "cấp thẻ căn cước", True, "*")}
        client = create_app(box.settings).test_client()
        assert kiosk(client, "so hong")[0] == "1.004227"  # sổ hồng → giấy chứng nhận quyền sử dụng đất
        assert kiosk(client, "lam can cuoc")[0] == "1.001639"
        assert kiosk(client, "bao tu")[0] == "1.000656"
    withdrawn = [pk for pk, phrase, _ in DEFAULTS if phrase == "sổ hồng"][0]
    answer = requests.post(f"{hub.url}/catalog/synonyms/{withdrawn}/active", data={"active": "0"},
                           headers=hub.bearer(), allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    assert box.sync()["received"] == 1
    with box:
        assert SearchSynonym.get_by_id(withdrawn).active is False
        assert "1.004227" not in kiosk(client, "so hong")[:3]  # the box's index was rebuilt after the pull
        assert kiosk(client, "so do")[0] == "1.004227"  # the others still steer
