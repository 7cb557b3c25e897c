"""Helpers of the blob tests: files written at the hub (as the citizen's pages will), a box's client
through another address (a fault proxy), proxies that cut or trickle an answer."""
import hashlib
import io
import os
import random
import threading
import time
from datetime import datetime

from blobs import DiskStore
from office.attachments import Attachment
from office.db import database, open_database
from sync.client import HubClient
from tests.chaos.proxy import FaultProxy


def sha(data):
    return hashlib.sha256(data).hexdigest()


def some_bytes(size, seed):
    return random.Random(seed).randbytes(size)


class HubRows:
    """``with HubRows(hub):`` the test writes at the hub's database as the hub does (its node, its log)."""

    def __init__(self, hub, store=None):
        self.hub = hub
        self.store = store or DiskStore(os.path.join(hub.dir, "blobs"))

    def __enter__(self):
        self._previous = database.obj
        self.db = open_database(self.hub.database_url or str(self.hub.dir / "hub.db"))
        database.initialize(self.db)
        return self

    def __exit__(self, *exc):
        self.db.close()
        if self._previous is not None:
            database.initialize(self._previous)

    def attach(self, commune, data, owner="dossier-online-1", kind="paper", name="giay-to.pdf", store=True):
        """A file of ``commune`` at the hub: its row, and its bytes unless ``store`` is False."""
        if store:
            self.store.put(io.BytesIO(data))
        row = Attachment(commune=commune, owner=owner, kind=kind, label="Giấy tờ", name=name,
                         mime="application/pdf", sha256=sha(data), size=len(data),
                         added_at=datetime(2026, 3, 2, 8, 0), added_by="công dân")
        row.save()
        return row


def client_via(box, url):
    """The box's hub client, talking to ``url`` (a proxy in front of the hub)."""
    with box:
        from sync.capture import this_node

        node = this_node()
    return HubClient(url, box.key, node.node_id, timeout=10)


class CutProxy(FaultProxy):
    """Cuts the first ``cuts`` answers with a body of a blob (over 1,000 bytes) at ``at`` of it."""

    def __init__(self, upstream_port, cuts=1, at=0.5):
        super().__init__(upstream_port, seed=1, rate=0)
        self.cuts_left, self.at = cuts, at
        self._cut_lock = threading.Lock()
        self.targets = []  # what was asked, in order (method, path?query)

    def _forward(self, request):
        self.targets.append((request[0], request[1]))
        return super()._forward(request)

    def _answer(self, client, answer, cut_at=None):
        with self._cut_lock:
            cut = answer[0] in (200, 206) and len(answer[2]) > 1000 and self.cuts_left > 0
            if cut:
                self.cuts_left -= 1
                self.counts["cut"] += 1
        FaultProxy._answer(client, answer, cut_at=self.at if cut else None)


class SlowProxy(FaultProxy):
    """Sends every answer's body in pieces of ``piece`` bytes every ``pause`` seconds (a weak link)."""

    def __init__(self, upstream_port, piece=32 * 1024, pause=0.05):
        super().__init__(upstream_port, seed=1, rate=0)
        self.piece, self.pause = piece, pause

    def _answer(self, client, answer, cut_at=None):
        import http.client

        status, headers, body = answer
        head = [f"HTTP/1.1 {status} {http.client.responses.get(status, '')}"] + [f"{k}: {v}" for k, v in headers]
        head += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        client.sendall("\r\n".join(head).encode("latin-1"))
        for start in range(0, len(body), self.piece):
            client.sendall(body[start:start + self.piece])
            time.sleep(self.pause)


def moto_server(log_path):
    """Run moto's S3 server on a free port of 127.0.0.1 (generator: yields its URL, then stops it)."""
    import subprocess
    import sys

    import requests

    from tests.sync.conftest import free_port

    port = free_port()
    log = open(log_path, "wb")
    server = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "moto_server"), "-H", "127.0.0.1",
                               "-p", str(port)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(url, timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(10)
        log.close()


S3_ENV = (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_DEFAULT_REGION", "us-east-1"))
