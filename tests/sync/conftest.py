"""A real hub process on 127.0.0.1 and boxes whose databases the test process switches between."""
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from motcua.settings import load_settings
from office.communes import find_commune
from office.db import bind, database, open_database
from office.models import MODELS
from office.seed import seed_office
from provisioning.identity import ensure_identity, ensure_key, public_path
from sync import box as sync_box

OPERATOR_PASSWORD = "test-operator"  # the first-run admin's; tests use named accounts
ACCOUNT_PASSWORD = "test-password-1"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def motcua(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "motcua", *map(str, args)], check=True,
                          capture_output=True, text=True, **kwargs)


class HubProcess:
    """``motcua hub serve`` in its own process; restartable; on SQLite or PostgreSQL."""

    def __init__(self, root, database_url=""):
        self.dir = Path(root)
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = ["--data-dir", self.dir, "--operator-password", OPERATOR_PASSWORD, "--log-level", "WARNING"]
        if database_url:
            self.args += ["--database", database_url]
        self.proc = None
        self.tokens, self.accounts = {}, set()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log = open(self.dir / "hub.log", "ab")
        self.key = motcua("hub", "key", *self.args).stdout.strip()

    def start(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "motcua", "hub", "serve", "--port", str(self.port),
                                      *map(str, self.args)], stdout=self.log, stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("hub did not start: " + (self.dir / "hub.log").read_text()[-2000:])

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def register(self, box, replaces=None):
        extra = ["--replaces", replaces] if replaces else []
        motcua("hub", "register-box", "--commune", box.commune, "--public-key", public_path(box.dir), *extra, *self.args)

    def account(self, name="ops", role="operator", communes="", agency=""):
        """Make account ``name`` once, with the hub's CLI; returns (name, password)."""
        if name not in self.accounts:
            scope = (["--communes", communes] if communes else []) + (["--agency", agency] if agency else [])
            motcua("hub", "account", "add", name, "--role", role, "--password-file", "-", *scope, *self.args,
                   input=ACCOUNT_PASSWORD + "\n")
            self.accounts.add(name)
        return name, ACCOUNT_PASSWORD

    def bearer(self, name="ops", role="operator", communes="", agency=""):
        """Headers carrying an API token of account ``name``, as a script sends them."""
        if name not in self.tokens:
            self.account(name, role, communes, agency)
            self.tokens[name] = motcua("hub", "account", "token", name, *self.args).stdout.strip()
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def api(self, method, path, **kwargs):
        response = requests.request(method, self.url + path, headers=self.bearer(), timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def query(self, sql):
        """Rows of ``sql`` read straight from the hub's database (SQLite file or PostgreSQL)."""
        if self.database_url:
            import psycopg2

            with psycopg2.connect(self.database_url.split("?")[0], options=f"-csearch_path={self.schema}") as conn:
                with conn.cursor() as cur:
                    cur.execute(sql)
                    return [tuple(r) for r in cur.fetchall()]
        with sqlite3.connect(self.dir / "hub.db") as conn:
            return conn.execute(sql).fetchall()

    @property
    def schema(self):
        return self.database_url.split("search_path%3D")[-1]

    def close(self):
        self.stop()
        self.log.close()


class BoxDatabase:
    """``with box:`` points the models at this box's database; ``sync()`` runs its replication."""

    def __enter__(self):
        self._previous = database.obj
        database.initialize(self.db)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            database.initialize(self._previous)

    def sync(self):
        with self:
            return sync_box.sync_now(self.settings, self.key)


class Box(BoxDatabase):
    """A commune box's database and key, set up the way `motcua edge init` does."""

    def __init__(self, root, commune, hub, seed=True):
        self.dir = Path(root)
        self.commune = commune
        self.settings = load_settings("edge", environ={}, overrides={
            "data_dir": str(self.dir), "commune_code": commune, "hub_url": hub.url if hub else ""})
        self.db = open_database(self.settings["database"])
        with self:
            bind(self.db, MODELS)
            self.node_id = ensure_identity(self.dir, commune, self.settings["hub_url"], hub.key if hub else "")
            if seed:
                seed_office(find_commune(commune))
        self.key = ensure_key(self.dir)

    def status(self):
        with self:
            return sync_box.status()


def postgres_schema():
    """A fresh schema in the test database, so runs never see each other's tables."""
    import psycopg2

    name = f"motcua_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    with psycopg2.connect(PG_URL) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA {name}")
    return name, f"{PG_URL}?options=-csearch_path%3D{name}"


def drop_schema(name):
    import psycopg2

    with psycopg2.connect(PG_URL) as conn, conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def running_hub(kind, root):
    """The hub as its own process, on SQLite or on PostgreSQL (127.0.0.1:5432/test)."""
    schema = None
    if kind == "postgresql":
        schema, url = postgres_schema()
        process = HubProcess(root, url).start()
    else:
        process = HubProcess(root).start()
    yield process
    process.close()
    if schema:
        drop_schema(schema)


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path):
    yield from running_hub(request.param, tmp_path / "hub")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_hub(request, tmp_path_factory):
    """One hub for a module whose tests each use their own boxes."""
    yield from running_hub(request.param, tmp_path_factory.mktemp("hub"))


@pytest.fixture
def make_box(tmp_path, hub):
    made = []

    def make(commune="05518", register=True, seed=True, name=None):
        box = Box(tmp_path / (name or f"box-{len(made) + 1}"), commune, hub, seed=seed)
        if register:
            hub.register(box)
        made.append(box)
        return box

    yield make
    for box in made:
        box.db.close()
