"""The shared database proxy answers what every statement asks for without a failed lookup: peewee's
proxy reached the database in ``__getattr__``, after Python had built and dropped an AttributeError,
39 times a ticket (4 % of its instructions, issue 15)."""
import peewee
import pytest

from office.db import database


def test_a_ticket_asks_the_proxy_nothing_through_a_failed_lookup(app, monkeypatch):
    missed, original = [], peewee.Proxy.__getattr__

    def counted(self, name):
        missed.append(name)
        return original(self, name)

    client = app.test_client()
    assert client.post("/api/v1/tickets", json={"service": "ho-tich"}).status_code == 201  # warm
    monkeypatch.setattr(peewee.Proxy, "__getattr__", counted)
    assert client.post("/api/v1/tickets", json={"service": "chung-thuc"}).status_code == 201
    assert len(missed) <= 2, missed  # 39 before


def test_the_proxy_passes_every_name_to_the_database_it_is_bound_to(app):
    bound = database.obj
    assert database.param == bound.param
    assert database.execute_sql("SELECT 41 + 1").fetchone() == (42,)
    assert database.connection() is bound.connection()
    with database.atomic():
        assert database.in_transaction() and database.transaction_depth() == 1
        assert database.top_transaction() is not None
    assert not database.in_transaction()
    assert database.quote == bound.quote  # a name not on the proxy: through __getattr__ as before


def test_an_unbound_proxy_still_refuses(app):
    bound = database.obj
    database.initialize(None)
    try:
        with pytest.raises(AttributeError):
            database.execute_sql("SELECT 1")
        with pytest.raises(AttributeError):
            database.param
    finally:
        database.initialize(bound)
