"""A hub app (SQLite or PostgreSQL) with a commune whose box sent its services, and the fake SMS
gateway on 127.0.0.1 the hub's outbox sends to: what the citizen pages' tests start from."""
import re

import pytest

from motcua.settings import load_settings
from office.db import database
from office.models import Office, Service
from sync.capture import applying_remote

from .fakes import FakeSms

COMMUNE, OTHER = "05518", "00454"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_hub(kind, tmp_path, gateway, **extra):
    from central.app import create_app
    from tests.sync.conftest import postgres_schema

    overrides = {"data_dir": str(tmp_path), "operator_password": "operator-pw", "sms_url": gateway.url,
                 "sms_api_key": "AK", "sms_secret_key": "SK", "sms_brandname": "UBND", "notify_timeout": 3.0,
                 **extra}
    schema = None
    if kind == "postgresql":
        schema, overrides["database"] = postgres_schema()
    app = create_app(load_settings("hub", environ={}, overrides=overrides))
    app.config["TESTING"] = True
    with applying_remote():
        for commune in (COMMUNE, OTHER):
            Office.insert(id=f"office-{commune}", commune=commune, name=f"UBND {commune}").execute()
            Service.insert(id=f"svc-{commune}-tp", commune=commune, code="tu-phap", name="Tư pháp – Hộ tịch",
                           prefix="A").execute()
    app.schema = schema
    return app


@pytest.fixture
def sms():
    gateway = FakeSms().start()
    yield gateway
    gateway.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path, sms):
    from tests.sync.conftest import drop_schema

    app = make_hub(request.param, tmp_path, sms)
    app.kind = request.param
    yield app
    database.close()
    if app.schema:
        drop_schema(app.schema)


def token(client, path):
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def sent_codes(gateway):
    """The one-time codes the fake gateway delivered, oldest first: (phone 84..., code)."""
    found = []
    for body in gateway.bodies():
        match = re.search(r"Ma xac thuc cong dan cua quy khach: (\d{6})", body.get("Content", ""))
        if match:
            found.append((body["Phone"], match.group(1)))
    return found
