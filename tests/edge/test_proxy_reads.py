"""The hooks every request runs, and the kiosk's ticket, read the request, the app and the session
themselves, not through Flask's proxies: each read through a proxy first failed on the proxy (an
AttributeError built, message and all) before the proxy forwarded it, some 2,000 instructions a read,
22 reads a health request and 31 a ticket (issue 15)."""
import sys
from collections import Counter
from pathlib import Path

import pytest
from werkzeug.local import LocalProxy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def proxy_reads(monkeypatch):
    """Attribute reads forwarded by a Flask proxy, by the file of this project that asked."""
    reads = Counter()

    def forwarded(proxy, name):
        caller = Path(sys._getframe(1).f_code.co_filename).resolve()
        if ROOT in caller.parents and ".venv" not in caller.parts:
            reads[f"{caller.relative_to(ROOT)}: {name}"] += 1
        return getattr(proxy._get_current_object(), name)

    monkeypatch.setattr(LocalProxy, "__getattr__", forwarded)
    return reads


def test_a_health_request_reads_nothing_through_flasks_proxies(client, proxy_reads):
    assert client.get("/api/v1/health").status_code == 200
    assert not proxy_reads, proxy_reads


def test_a_kiosks_ticket_reads_nothing_through_flasks_proxies(client, proxy_reads):
    client.get("/kiosk")  # the session cookie and the CSRF token, as the kiosk has them
    proxy_reads.clear()
    answer = client.post("/api/v1/tickets", json={"service": "ho-tich"}, headers={"Origin": "http://localhost"})
    assert answer.status_code == 201, answer.get_json()
    assert not proxy_reads, proxy_reads
