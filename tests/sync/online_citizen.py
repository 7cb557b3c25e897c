"""A citizen of a running hub process, for tests about what comes after the one-time code: the Citizen
row (proved, consented) written in the hub's database, and the hub's session cookie for that phone."""
import http.cookiejar

import requests

from office.db import open_database
from tests.central.citizen_session import citizen_cookie

from .conftest import BoxDatabase


class HubDatabase(BoxDatabase):
    """The running hub's database, opened by the test."""

    def __init__(self, hub):
        self.db = open_database(hub.database_url or str(hub.dir / "hub.db"))


def consenting_citizen(hub, phone):
    """The Citizen row of ``phone``, proved and consenting; returns the hub's session cookie value."""
    from central.citizens import Citizen
    from office.clock import utcnow

    hub_db = HubDatabase(hub)
    with hub_db:
        Citizen.get_or_create(phone=phone, defaults={"created_at": utcnow(), "consent_version": "2025-1",
                                                     "consent_at": utcnow()})
    hub_db.db.close()
    return citizen_cookie((hub.dir / "secret_key").read_text().strip(), phone)


class _NoJar(http.cookiejar.DefaultCookiePolicy):
    """requests files a cookie of 127.0.0.1 under two names; the session keeps the one cookie itself."""

    def set_ok(self, cookie, request):
        return False


def citizen_session(hub, phone):
    """A requests session as the citizen's browser: its cookie (kept up to date) and its Origin."""
    session = requests.Session()
    session.cookies.set_policy(_NoJar())
    session.headers.update({"Origin": hub.url, "Cookie": "session=" + consenting_citizen(hub, phone)})

    def keep(response, *args, **kwargs):
        if "session" in response.cookies:
            session.headers["Cookie"] = "session=" + response.cookies["session"]

    session.hooks["response"].append(keep)
    return session
