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
    hub.start().stop()  # one process makes the database first (four racing to make it is another matter)
    hub.args += ["--web-workers", "4", "--web-threads", "2"]
    hub.start()
    try:
        codes = [requests.get(f"{hub.url}/api/v1/tracking/x", timeout=10).status_code for _ in range(55)]
    except requests.RequestException as exc:
        raise AssertionError(f"{exc}\n{(hub.dir / 'hub.log').read_text()[-3000:]}") from exc
    finally:
        hub.close()
        if schema:
            drop_schema(schema)
    assert codes.count(404) == 30 and codes.count(429) == 25


def test_a_dossier_from_an_older_box_has_no_secret_and_tells_only_found(hub):
    from sync.apply import apply_entries

    fields = {"code": "000.19.05518-260303-0002", "procedure_code": "1.001193", "procedure_name": "Đăng ký khai sinh",
              "applicant_name": "Lê Văn Cường", "applicant_id_number": "", "applicant_phone": "",
              "applicant_address": "", "way": "truc_tiep", "components": "[]", "ticket": None, "status": 4,
              "stage": "Thẩm định hồ sơ", "handler": "", "agency": "000.19.05518",
              "received_at": "2026-03-03 08:00:00", "due_at": "2099-03-06 17:00:00", "paused_since": None,
              "paused_days": 0, "finished_at": None, "returned_at": None, "timeliness": ""}
    entry = {"origin": "box-older", "seq": 1, "hlc": 1 << 20, "table": "dossier", "pk": "D-old", "op": "insert",
             "scope": "05518", "data": fields, "base": None, "prev": "", "hash": ""}  # schema 4: no tracking_secret
    with hub.app_context(), database.atomic():
        apply_entries([entry])
    assert Dossier.get_by_id("D-old").tracking_secret is None
    answer = hub.test_client().get("/api/v1/tracking/000.19.05518-260303-0002?secret=None")
    assert answer.get_json() == {"code": "000.19.05518-260303-0002", "found": True, "verified": False}


def test_tracking_limit_is_kept_in_redis_when_the_hub_has_it(hub):
    import hashlib

    import redis

    hub.extensions["hub"].settings["redis_url"] = "redis://127.0.0.1:6379/0"
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    address = "198.51.100.23"
    key = f"motcua:limit:tracking:{hashlib.sha256(address.encode()).hexdigest()}"
    client.delete(key)
    try:
        codes = [hub.test_client().get("/api/v1/tracking/x", environ_base={"REMOTE_ADDR": address}).status_code
                 for _ in range(33)]
        assert codes.count(404) == 30 and codes.count(429) == 3
        assert client.zcard(key) == 30  # counted in Redis, refused requests not counted
        from office.limits import Hit
        with hub.app_context():
            assert Hit.select().where(Hit.bucket == "tracking").count() == 0
    finally:
        client.delete(key)


def test_an_existing_hub_database_gains_the_secret_column():
    """A hub on PostgreSQL made by an older version: its migration adds the column when it starts."""
    from central.app import HUB_MODELS
    from office.db import bind, open_database
    from tests.sync.conftest import drop_schema, postgres_schema

    schema, url = postgres_schema()
    try:
        made = bind(open_database(url), HUB_MODELS)  # then made older: no secret column, no migrations recorded
        made.execute_sql("ALTER TABLE dossier DROP COLUMN tracking_secret")
        made.execute_sql("DROP TABLE schema_migrations")
        database.close()
        handle = bind(open_database(url), HUB_MODELS)
        columns = [row[0] for row in handle.execute_sql("SELECT * FROM dossier LIMIT 0").description]
        assert "tracking_secret" in columns
        handle.close()
    finally:
        database.close()
        drop_schema(schema)


def test_citizens_behind_the_hubs_tls_proxy_do_not_share_one_limit(hub):
    hub.extensions["hub"].settings["trusted_proxies"] = 1
    client = hub.test_client()

    def status(forwarded):
        return client.get("/api/v1/tracking/x", headers={"X-Forwarded-For": forwarded},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code  # the proxy on the hub's machine

    assert [status("203.0.113.7") for _ in range(31)].count(429) == 1
    assert [status(f"203.0.113.{n}") for n in range(100, 110)].count(404) == 10
    assert status("198.51.100.1, 203.0.113.7") == 429  # an entry the client wrote itself changes nothing


def test_limit_windows_keep_time_to_the_second_on_postgresql(hub):
    """Hit times were stored as PostgreSQL REAL (about 7 digits: 128 s steps at today's epoch), so a
    limit let requests through or held them at random there."""
    from office.limits import Hit, Window

    window, t0 = Window("precision", 1, 10), 1_765_000_000.25
    assert window.hit("k", t0) == 0
    assert window.hit("k", t0 + 5) == 5  # still inside the window: wait for the rest of it
    assert window.hit("k", t0 + 10.5) == 0  # the window has passed
    assert [h.at for h in Hit.select(Hit.at).where(Hit.bucket == "precision").order_by(Hit.at)] == [t0 + 10.5]
