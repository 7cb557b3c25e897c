"""The hub's worker: SQLite queue by default, Redis (127.0.0.1:6379) when it scales out."""
from datetime import datetime, timedelta

import pytest
from huey import RedisHuey, SqliteHuey

from central.app import HUB_MODELS
from central.fleet import register_box
from central.models import Alert
from central.tasks import create_hub_huey, silent_boxes
from motcua.settings import load_settings
from office.db import bind, open_database
from sync.keys import generate_key, public_text


@pytest.fixture
def hub_db(tmp_path):
    db = bind(open_database(str(tmp_path / "hub.db")), HUB_MODELS)
    yield db
    db.close()


def box_key(tmp_path, name):
    return public_text(generate_key(tmp_path / f"{name}.key"))


def test_silent_box_raises_one_alert(hub_db, tmp_path):
    t0 = datetime(2026, 11, 23, 1, 0)
    register_box("05518", box_key(tmp_path, "a"), now=t0)
    assert silent_boxes(60, now=t0 + timedelta(minutes=30)) == []
    assert len(silent_boxes(60, now=t0 + timedelta(minutes=61))) == 1
    assert silent_boxes(60, now=t0 + timedelta(minutes=90)) == []  # told once
    assert "05518" in Alert.get().message


@pytest.mark.parametrize("redis_url, kind", [("", SqliteHuey), ("redis://127.0.0.1:6379/15", RedisHuey)])
def test_worker_queue_runs_tasks(hub_db, tmp_path, redis_url, kind):
    settings = load_settings("hub", environ={}, overrides={"data_dir": str(tmp_path), "redis_url": redis_url})
    huey, tasks = create_hub_huey(settings)
    assert isinstance(huey, kind)
    huey.flush()
    register_box("05518", box_key(tmp_path, "b"), now=datetime(2020, 1, 1))
    result = tasks["watch_fleet"]()  # through the real queue storage, as a consumer takes it
    assert huey.pending_count() == 1
    value = huey.execute(huey.dequeue())
    assert len(value) == 1 and huey.pending_count() == 0
    assert result.id
