"""Dossiers across a cut link: the box keeps receiving and acting while the hub is unreachable,
an agency acts at the hub meanwhile on the dossiers it already has, and once the link is back
both hold the same dossiers and the same events (state_digest), on SQLite and PostgreSQL."""
import json
import subprocess
import sys
from datetime import datetime

import requests

from office import dossiers
from office.calendar import WorkCalendar
from office.db import database, open_database
from office.models import Agency, Dossier, DossierEvent, Procedure
from sync.apply import state_digest

from .conftest import motcua

COMMUNE = "05518"
OFFICE_CODE = "000.19.05518"
STP = "000.00.19.STP"
TABLES = ["dossier", "dossier_event"]
CATALOG = [
    {"code": "1.001193", "name": "Đăng ký khai sinh", "field": "Hộ tịch", "agency": "UBND cấp xã",
     "ways": [{"way": "truc_tiep", "days": 3, "fee": "Miễn lệ phí"}],
     "components": [{"name": "Tờ khai đăng ký khai sinh", "copies": 1}, {"name": "Giấy chứng sinh", "copies": 1}],
     "result": "Giấy khai sinh"},
    {"code": "1.000894", "name": "Đăng ký kết hôn", "field": "Hộ tịch", "agency": "UBND cấp xã",
     "ways": [{"way": "truc_tiep", "days": 5}],
     "components": [{"name": "Tờ khai đăng ký kết hôn", "copies": 1}], "result": "Giấy chứng nhận kết hôn"},
]

_IMPORT = """
import sys
from central.app import open_hub_database
from motcua.settings import load_settings
from office.catalog import import_file
from provisioning.identity import ensure_hub_identity

data_dir, database, path = sys.argv[1:4]
settings = load_settings("hub", environ={}, overrides={"data_dir": data_dir, "database": database or None})
open_hub_database(settings)
ensure_hub_identity(settings["data_dir"])
with open(path, "rb") as f:
    print(import_file(path, f.read()).as_dict())
"""


def hub_import_catalog(data_dir, database_url, path):
    """Import a catalog file at a hub: ``motcua hub import-catalog`` where it exists, else the same
    domain call (``office.catalog.import_file``) in a process of its own next to the running hub."""
    args = ["--data-dir", str(data_dir)] + (["--database", database_url] if database_url else [])
    commands = subprocess.run([sys.executable, "-m", "motcua", "hub", "--help"], capture_output=True, text=True).stdout
    if "import-catalog" in commands:
        return motcua("hub", "import-catalog", path, *args).stdout
    return subprocess.run([sys.executable, "-c", _IMPORT, str(data_dir), database_url or "", str(path)], check=True,
                          capture_output=True, text=True).stdout


def write_catalog(tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(CATALOG, ensure_ascii=False), encoding="utf-8")
    return path


def hub_digests(hub):
    db = open_database(hub.database_url or str(hub.dir / "hub.db"))
    previous = database.obj
    database.initialize(db)
    try:
        return {t: state_digest(COMMUNE, [t]) for t in TABLES}
    finally:
        database.initialize(previous)
        db.close()


def box_digests(box):
    with box:
        return {t: state_digest(COMMUNE, [t]) for t in TABLES}


def hub_act(hub, code, action, **form):
    officer = hub.bearer("stp", "agency", agency=STP)
    response = requests.post(f"{hub.url}/agency/dossiers/{code}/{action}", data=form, headers=officer, timeout=10,
                             allow_redirects=False)
    assert response.status_code == 303, response.text[:1000]


def receive(box, name, when, procedure="1.001193"):
    with box:
        return dossiers.receive(WorkCalendar(), Procedure.get(Procedure.code == procedure), {"name": name},
                                OFFICE_CODE, officer="Nguyễn Thị Lan", components=[{"name": "Tờ khai", "copies": 1}],
                                now=when)


def test_dossiers_converge_after_the_link_returns(hub, make_box, tmp_path):
    hub_import_catalog(hub.dir, hub.database_url, write_catalog(tmp_path))
    hub.api("POST", "/api/v1/agencies", json={"commune": COMMUNE, "code": STP, "name": "Sở Tư pháp tỉnh Thái Nguyên"})
    box = make_box()
    first = box.sync()
    assert first["ok"] and first["received"] >= 3, first  # two procedures, one agency
    with box:
        assert Procedure.select().count() == 2 and Agency.get().code == STP

    # online: two dossiers sent to the agency, which the hub then holds
    sent = [receive(box, "Nguyễn Văn An", datetime(2026, 3, 2, 8, 30)),
            receive(box, "Trần Thị Bình", datetime(2026, 3, 2, 9, 0))]
    with box:
        for d in sent:
            dossiers.transfer(Dossier.get_by_id(d.id), "Chuyển liên thông", agency=STP, actor="Nguyễn Thị Lan",
                              now=datetime(2026, 3, 2, 10))
    assert box.sync()["ok"]
    assert hub.query(f"select count(*) from dossier where commune = '{COMMUNE}' and agency = '{STP}'") == [(2,)]

    # the link is cut: the box keeps receiving and acting
    hub.stop()
    offline = [receive(box, f"Công dân {n}", datetime(2026, 3, 3, 8 + n)) for n in range(4)]
    with box:
        d = {i: Dossier.get_by_id(x.id) for i, x in enumerate(offline)}
        dossiers.transfer(d[0], "Chuyển liên thông", agency=STP, now=datetime(2026, 3, 3, 14))
        dossiers.request_supplement(d[1], "Thiếu giấy chứng sinh", now=datetime(2026, 3, 3, 14, 5))
        dossiers.finish(d[2], now=datetime(2026, 3, 3, 15))
        dossiers.return_result(d[2], now=datetime(2026, 3, 3, 15, 30))
        dossiers.refuse(d[3], "Không thuộc thẩm quyền", now=datetime(2026, 3, 3, 15, 40))
        # and calls one of the agency's dossiers back, while the agency works on it (a conflict)
        dossiers.transfer(Dossier.get_by_id(sent[1].id), "Thu hồi về xã", agency=OFFICE_CODE,
                          now=datetime(2026, 3, 3, 16))
    down = box.sync()
    assert not down["ok"] and down["pending"] > 0

    # meanwhile the agency works at the hub on the dossiers it has (the box has not synced since)
    hub.start()
    hub_act(hub, sent[0].code, "transfer", stage="Thẩm định hồ sơ", handler="Phòng Hộ tịch")
    hub_act(hub, sent[0].code, "finish", note="Đã cấp bản sao trích lục")
    hub_act(hub, sent[1].code, "transfer", stage="Thẩm định hồ sơ")
    assert box.status()["pending"] > 0

    # the link returns: push, pull, and once more to be sure nothing is left in flight
    back = box.sync()
    assert back["ok"] and back["pending"] == 0 and back["received"] > 0, back
    again = box.sync()
    assert again["ok"] and again["sent"] == 0 and again["received"] == 0, again
    at_box, at_hub = box_digests(box), hub_digests(hub)
    assert at_box == at_hub

    with box:
        finished = Dossier.get_by_id(sent[0].id)
        assert (finished.status, finished.stage, finished.agency) == (9, "Trả kết quả", STP)
        assert [e.action for e in dossiers.history(finished)] == ["receive", "transfer", "transfer", "finish"]
        assert Dossier.select().count() == 6 and DossierEvent.select().count() == 17  # 6 receipts, 11 actions
        contested = Dossier.get_by_id(sent[1].id)
    # both edits of the contested dossier are in its history; its fields are the same on both sides
    stages = hub.query(f"select stage from dossier_event where dossier = '{sent[1].id}'")
    assert sorted(r[0] for r in stages) == sorted(["Tiếp nhận", "Chuyển liên thông", "Thu hồi về xã",
                                                   "Thẩm định hồ sơ"])
    assert hub.query(f"select stage, agency, status from dossier where id = '{sent[1].id}'") == [
        (contested.stage, contested.agency, contested.status)]
    assert hub.query(f"select count(*) from dossier where commune = '{COMMUNE}'") == [(6,)]
    kept = {c["field"] for c in hub.api("GET", "/api/v1/conflicts")
            if c["table"] == "dossier" and c["pk"] == sent[1].id}
    assert "stage" in kept  # the value overwritten by the concurrent edit is kept for a person to see
