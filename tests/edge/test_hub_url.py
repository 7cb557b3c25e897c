"""One hub URL: the ``hub_url`` setting when given, else the one ``edge init --hub-url``
stored in the box; the periodic sync, the status API and page and the console use the same."""
from types import SimpleNamespace

import pytest

from motcua.settings import load_settings
from office.db import open_database
from sync import box as sync_box
from sync.models import SyncNode
from tests.conftest import DEMO_COMMUNE
from tests.crash.worker_support import PERIOD_S, Worker, wait_for
from tests.sync.conftest import BoxDatabase, motcua, running_hub

STORED, CONFIGURED = "http://10.0.0.1:8000", "http://10.0.0.2:8000"


@pytest.fixture
def settings(tmp_path):
    return load_settings("edge", environ={}, overrides={
        "data_dir": str(tmp_path / "box"), "commune_code": DEMO_COMMUNE, "hub_url": CONFIGURED})


@pytest.fixture
def stored(app):
    SyncNode.update(hub_url=STORED).execute()


def test_sync_status_reports_the_hub_the_sync_uses(client, stored, settings):
    state = client.get("/api/v1/sync").get_json()
    assert (state["hub_url"], state["hub_url_source"]) == (CONFIGURED, "setting")
    assert sync_box.client_for(settings, None).base == CONFIGURED
    assert CONFIGURED in client.get("/sync").get_data(as_text=True)


def test_sync_status_without_the_setting_reports_the_stored_hub(app, stored, settings):
    settings["hub_url"] = ""
    state = app.test_client().get("/api/v1/sync").get_json()
    assert (state["hub_url"], state["hub_url_source"]) == (STORED, "box")
    assert sync_box.client_for(settings, None).base == STORED


def test_console_checks_the_hub_the_sync_uses(app, stored, settings):
    from edge.console import _hub_url, _sync_state

    state, _ = _sync_state(settings)
    assert _hub_url(state, settings) == CONFIGURED
    settings["hub_url"] = ""
    state, _ = _sync_state(settings)
    assert _hub_url(state, settings) == STORED


@pytest.fixture
def hub(tmp_path):
    yield from running_hub("sqlite", tmp_path / "hub")


class InitialisedBox(BoxDatabase):
    def __init__(self, root):
        self.dir = root
        self.db = open_database(str(root / "edge.db"))

    def pending(self):
        with self:
            return sync_box.status()["pending"]


def test_box_initialised_with_hub_url_syncs_periodically_without_the_setting(hub, tmp_path):
    data = tmp_path / "box"
    motcua("edge", "init", "--data-dir", data, "--commune-code", DEMO_COMMUNE, "--hub-url", hub.url,
           "--hub-key", hub.key)
    hub.register(SimpleNamespace(commune=DEMO_COMMUNE, dir=data))
    box = InitialisedBox(data)
    worker = Worker("edge", data, env={"MOTCUA_HUB_URL": ""}).start()  # no hub_url setting anywhere
    try:
        assert box.pending() > 0  # the office seeded by init
        wait_for(lambda: box.pending() == 0, 15 * PERIOD_S, what="the periodic sync")
        with box:
            assert sync_box.status()["hub_url_source"] == "box"
    finally:
        worker.close()
        box.db.close()
