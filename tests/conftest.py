import os
import secrets

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from office.communes import find_commune
from office.db import bind, database, open_database
from office.models import MODELS
from office.queue import QueuePolicy
from office.seed import seed_office
from sync.capture import init_node

DEMO_COMMUNE = "05518"  # Phường Sông Công, Thái Nguyên
# The suite runs at any hour: boxes it starts (processes inherit this) issue numbers round the clock;
# the tests of the office calendar at the kiosk set it back (tests/edge/test_opening.py, tests/e2e).
os.environ.setdefault("MOTCUA_ISSUE_ANY_TIME", "true")
# The suite runs many boxes and hubs side by side: pinned, every web worker would take the same last
# core (motcua.cpus); tests/test_cpu_pinning.py turns it on for the processes it starts.
os.environ.setdefault("MOTCUA_CPU_PINNING", "false")


@pytest.fixture(autouse=True)
def _test_process_stays_on_its_cores():
    """A test that pinned this process (``motcua.cpus``) would put every later test, and every process
    it starts, on those cores alone: the test fails and the cores are given back."""
    before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    yield
    if before is not None and os.sched_getaffinity(0) != before:
        os.sched_setaffinity(0, before)
        pytest.fail("the test pinned the test process to other cores (motcua.cpus)")


@pytest.fixture
def db(tmp_path):
    """A real SQLite file in WAL mode with the box's tables."""
    handle = bind(open_database(str(tmp_path / "edge.db")), MODELS)
    init_node("box-test0000000000", DEMO_COMMUNE)
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


@pytest.fixture
def settings(tmp_path):
    from motcua.settings import load_settings

    return load_settings("edge", overrides={"data_dir": str(tmp_path / "box"), "commune_code": DEMO_COMMUNE,
                                            "issue_any_time": True, "cpu_pinning": False}, environ={})


class PageClient(FlaskClient):
    """A test client that writes as the box's own pages do: ``Origin`` of the site and the
    session's CSRF token in ``X-CSRFToken`` (a test's own headers win, to play a hostile page)."""

    origin = "http://localhost"  # None: send no Origin at all
    send_csrf_token = True

    def open(self, *args, **kwargs):
        for name in ("HTTP_ORIGIN", "HTTP_X_CSRFTOKEN"):
            self.environ_base.pop(name, None)
        if self.origin is not None:
            self.environ_base["HTTP_ORIGIN"] = self.origin
        if self.send_csrf_token and self.application.extensions.get("csrf") is not None:
            self.environ_base["HTTP_X_CSRFTOKEN"] = self.csrf_token()
        return super().open(*args, **kwargs)

    def csrf_token(self):
        """The token the session's pages carry (Flask-WTF's signed form of the session's raw token)."""
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)


@pytest.fixture
def app(settings):
    """The box's app on a real SQLite file, with the demo office seeded."""
    from edge.app import create_app
    from edge.tasks import create_huey

    _, tasks = create_huey(settings)
    application = create_app(settings, tasks=tasks)
    application.config["TESTING"] = True
    application.test_client_class = PageClient
    init_node("box-test0000000000", DEMO_COMMUNE)
    seed_office(find_commune(DEMO_COMMUNE))
    yield application
    database.close()


@pytest.fixture
def client(app):
    return app.test_client()


def sign_in(client, counter=1, username="canbo1", password="motcua123"):
    response = client.post("/api/v1/session", json={"username": username, "password": password, "counter": counter})
    assert response.status_code == 200, response.get_json()
    return response


def pair_rating_screen(app, tablet, counter=2, username="canbo2", password="motcua123"):
    """Pair ``tablet`` as the rating screen of ``counter``, as in the office: the officer signs in
    at that counter (on the counter's own client), then gives their username and password on the
    tablet's unpaired rating page."""
    sign_in(app.test_client(), counter=counter, username=username, password=password)
    response = tablet.post(f"/rate/{counter}/pair", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


@pytest.fixture(scope="session")
def browser():
    """One real Chromium for the session (Playwright's sync API allows one per process): the
    browser tests of tests/e2e and the real install's kiosk check share it."""
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium); "
                    "the end-to-end tests never download a browser.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


