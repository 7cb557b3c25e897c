"""Tracking at the hub (web, API, SMS): the code tells only that a dossier exists, the code and
the slip's secret tell its progress; lookups are limited per client across every hub worker."""
from datetime import datetime

import pytest
import requests

from central.sms_query import parse_code, reply_for
from motcua.settings import load_settings
from office.db import database
from office.dossiers import Dossier
from sync.capture import applying_remote

CODE, OLD_CODE, SECRET = "000.19.05518-260302-0001", "000.19.05518-260301-0007", "K7PX3M"


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path):
    """The hub's app on SQLite or PostgreSQL, with a dossier from a current box and one from an
    older box (no secret), as the boxes' batches bring them."""
    from central.app import create_app
    from tests.sync.conftest import drop_schema, postgres_schema

    overrides = {"data_dir": str(tmp_path), "operator_password": "operator-pw"}
    schema = None
    if request.param == "postgresql":
        schema, overrides["database"] = postgres_schema()
    app = create_app(load_settings("hub", environ={}, overrides=overrides))
    app.config["TESTING"] = True
    common = dict(commune="05518", procedure_code="1.001193", procedure_name="Đăng ký khai sinh",
                  applicant_name="Nguyễn Văn An", status=4, stage="Thẩm định hồ sơ",
                  received_at=datetime(2026, 3, 2, 8, 30), due_at=datetime(2099, 3, 5, 17, 0))
    with applying_remote():
        Dossier.insert(id="D1", code=CODE, tracking_secret=SECRET, **common).execute()
        Dossier.insert(id="D0", code=OLD_CODE, **common).execute()  # from a box older than secrets
    yield app
    database.close()
    if schema:
        drop_schema(schema)


def test_hub_tracking_without_the_secret_tells_only_found(hub):
    client = hub.test_client()
    for code, query in ((CODE, ""), (CODE, "?secret=AAAAAA"), (OLD_CODE, ""), (OLD_CODE, f"?secret={SECRET}")):
        answer = client.get(f"/api/v1/tracking/{code}{query}")
        assert answer.get_json() == {"code": code, "found": True, "verified": False}
        page = client.get(f"/tracking?code={code}&{query.lstrip('?')}").get_data(as_text=True)
        assert "Có hồ sơ mã" in page and "Thẩm định" not in page and "N***** V** An" not in page
    view = client.get(f"/api/v1/tracking/{CODE}?secret={SECRET.lower()}").get_json()
    assert view["verified"] is True and view["stage"] == "Thẩm định hồ sơ" and view["applicant"] == "N***** V** An"
    assert "Thẩm định hồ sơ" in client.get(f"/tracking?code={CODE}&secret={SECRET}").get_data(as_text=True)


def test_sms_answer_needs_the_secret(hub):
    with hub.app_context():
        assert reply_for(parse_code(f"TRACUU {CODE} {SECRET}")).startswith(f"Ho so {CODE} (Dang ky khai sinh): Dang xu ly")
        for typed in (f"TRACUU {CODE}", f"TRACUU {CODE} AAAAAA", f"TRACUU {OLD_CODE} {SECRET}"):
            reply = reply_for(parse_code(typed))
            assert "da duoc tiep nhan" in reply and "Dang xu ly" not in reply and "khai sinh" not in reply


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_tracking_limit_holds_across_hub_workers(kind, tmp_path):
    from tests.sync.conftest import HubProcess, drop_schema, postgres_schema

    schema, url = postgres_schema() if kind == "postgresql" else (None, "")
    hub = HubProcess(tmp_path / "hub", url)
    hub.args += ["--web-workers", "4", "--web-threads", "2"]
    hub.start()
    try:
        codes = [requests.get(f"{hub.url}/api/v1/tracking/x", timeout=10).status_code for _ in range(55)]
    finally:
        hub.close()
        if schema:
            drop_schema(schema)
    assert codes.count(404) == 30 and codes.count(429) == 25
