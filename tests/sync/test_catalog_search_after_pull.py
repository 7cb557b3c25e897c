"""Issue 15: the kiosk keeps its catalog index between requests and checks cheaply whether the
catalog changed. A pull that brings a new procedure, or a new name for one the index holds (same
id, same row count), must reach the very next search of an app that already built its index."""
import json

from office.catalog_realistic import realistic

from .test_dossier_convergence import hub_import_catalog


def kiosk(client, q):
    answer = client.get("/api/v1/procedures", query_string={"q": q})
    assert answer.status_code == 200
    return [(p["code"], p["name"]) for p in answer.get_json()["procedures"]]


def test_search_sees_procedures_applied_by_a_pull_at_once(hub, make_box, tmp_path):
    from edge.app import create_app

    rows = realistic(120)
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    hub_import_catalog(hub.dir, hub.database_url, catalog)
    box = make_box()
    assert box.sync()["ok"]
    with box:
        client = create_app(box.settings).test_client()
        assert "9.999001" not in dict(kiosk(client, "nuoi chim yen"))
        assert kiosk(client, "dang ky khai sinh")[0] == ("1.001193", "Thủ tục đăng ký khai sinh")
        built = client.application.extensions["catalog_index"]
        assert kiosk(client, "khai sinh") and client.application.extensions["catalog_index"] is built  # cached

    renamed = [dict(r) for r in rows]
    birth = next(r for r in renamed if r["code"] == "1.001193")
    birth["name"] = "Thủ tục đăng ký khai sinh cho trẻ em sinh ra tại nhà"
    catalog.write_text(json.dumps(renamed, ensure_ascii=False), encoding="utf-8")
    hub_import_catalog(hub.dir, hub.database_url, catalog)
    assert box.sync()["received"] == 1
    with box:  # the same app, its index built before the pull; the same ids and as many rows
        assert kiosk(client, "khai sinh tai nha")[0] == ("1.001193", birth["name"])
        assert kiosk(client, "1001193") == [("1.001193", birth["name"])]

    renamed.append({**birth, "code": "9.999001", "name": "Thủ tục cấp phép nuôi chim yến trong khu dân cư"})
    catalog.write_text(json.dumps(renamed, ensure_ascii=False), encoding="utf-8")
    hub_import_catalog(hub.dir, hub.database_url, catalog)
    assert box.sync()["received"] == 1
    with box:
        assert kiosk(client, "nuoi chim yen")[0] == ("9.999001", "Thủ tục cấp phép nuôi chim yến trong khu dân cư")


def test_a_pull_without_catalog_rows_keeps_the_kiosk_index(hub, make_box, tmp_path):
    """The hub moves a box's pull cursor past other communes' entries at nearly every pull: the
    kiosk rebuilt its whole index (150 ms here, far more on a Pi) after each one, on the next search."""
    from edge.app import create_app

    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(realistic(60), ensure_ascii=False), encoding="utf-8")
    hub_import_catalog(hub.dir, hub.database_url, catalog)
    box = make_box()
    assert box.sync()["ok"]
    with box:
        client = create_app(box.settings).test_client()
        assert kiosk(client, "khai sinh")[0][0] == "1.001193"
        built = client.application.extensions["catalog_index"]
        cursor = box_cursor()
    other = make_box(commune="00004")  # another commune pushes its office: entries the first box skips
    assert other.sync()["ok"]
    assert box.sync()["received"] == 0
    with box:
        assert box_cursor() > cursor  # the pull moved the cursor ...
        assert kiosk(client, "khai sinh")[0][0] == "1.001193"
        assert client.application.extensions["catalog_index"] is built  # ... and the index was kept


def box_cursor():
    from sync.models import SyncNode

    return SyncNode.get().pull_cursor
