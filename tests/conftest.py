import pytest

from office.communes import find_commune
from office.db import bind, database, open_database
from office.models import MODELS
from office.queue import QueuePolicy
from office.seed import seed_office

DEMO_COMMUNE = "05518"  # Phường Sông Công, Thái Nguyên


@pytest.fixture
def db(tmp_path):
    """A real SQLite file in WAL mode with the box's tables."""
    handle = bind(open_database(str(tmp_path / "edge.db")), MODELS)
    yield handle
    handle.close()


@pytest.fixture
def office(db):
    """The demo office: services A–E, counters 1–3, officers canbo1–3."""
    seed_office(find_commune(DEMO_COMMUNE))
    return db


@pytest.fixture
def policy():
    return QueuePolicy()
