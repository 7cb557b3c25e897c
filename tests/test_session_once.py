"""A genuine session cookie's signature is checked once, and every cookie Flask refuses is still
refused (motcua.session: Flask parsed and verified the same cookie again on every request, a fifth
of the web's time for a kiosk's ticket; issue 15)."""
import pytest
from flask import Flask, session
from itsdangerous import URLSafeTimedSerializer

from motcua import session as sessions
from motcua.session import SessionCookies
from tests.test_csrf_once import loads_counted


def _verifications(monkeypatch):
    return loads_counted(monkeypatch, salt=b"cookie-session")


@pytest.fixture
def site():
    app = Flask(__name__)
    app.secret_key = "the site's key"
    app.session_interface = SessionCookies()

    @app.post("/sign-in/<name>")
    def sign_in(name):
        session["who"], session["visits"] = name, []
        return ""

    @app.get("/who")
    def who():
        return session.get("who", "")

    @app.get("/visit")
    def visit():  # changes a list in place: Flask saves nothing, the next request must not see it
        session["visits"].append(1)
        return str(len(session["visits"]))

    @app.get("/rename")
    def rename():
        session["who"] = "someone else"
        return ""

    return app


def _cookie(app, name="an"):
    client = app.test_client()
    client.post(f"/sign-in/{name}")
    return f"session={client.get_cookie('session').value}"


def _get(app, path, cookie):
    return app.test_client(use_cookies=False).get(path, headers={"Cookie": cookie}).get_data(as_text=True)


def test_a_session_cookie_is_verified_once_for_all_its_requests(site, monkeypatch):
    cookie = _cookie(site)
    calls = _verifications(monkeypatch)
    assert [_get(site, "/who", cookie) for _ in range(5)] == ["an"] * 5
    assert len(calls) <= 1  # five before: one a request


def test_a_kiosks_tickets_verify_its_session_cookie_once(app, monkeypatch):
    client = app.test_client()
    token = client.csrf_token()
    calls = _verifications(monkeypatch)
    for _ in range(5):
        assert client.post("/api/v1/tickets", json={"service": "ho-tich"},
                           headers={"X-CSRFToken": token}).status_code == 201
    assert len(calls) <= 1


def test_forged_and_damaged_cookies_open_an_empty_session_every_time(site):
    genuine = _cookie(site).removeprefix("session=")
    forged = URLSafeTimedSerializer("not the site's key", salt="cookie-session",
                                    signer_kwargs={"key_derivation": "hmac", "digest_method": "sha1"}).dumps({"who": "an"})
    for cookie in (forged, forged, genuine[:-2] + "xx", genuine[:-2] + "xx", "garbage", ""):
        assert _get(site, "/who", f"session={cookie}") == ""
    assert _get(site, "/who", f"session={genuine}") == "an"


def test_a_remembered_cookie_expires_with_its_session(site, monkeypatch):
    cookie = _cookie(site)
    assert _get(site, "/who", cookie) == "an"  # verified, and remembered
    lifetime = int(site.permanent_session_lifetime.total_seconds())
    now = sessions.time.time()
    monkeypatch.setattr(sessions.time, "time", lambda: now + lifetime + 2)
    assert _get(site, "/who", cookie) == ""
    monkeypatch.setattr(sessions.time, "time", lambda: now - 120)  # signed "in the future": itsdangerous refuses it
    assert _get(site, "/who", cookie) == ""


def test_a_remembered_cookie_is_refused_once_the_key_changed(site):
    cookie = _cookie(site)
    assert _get(site, "/who", cookie) == "an"
    site.secret_key = "the key cookies are signed with from now on"
    assert _get(site, "/who", cookie) == ""
    site.config["SECRET_KEY_FALLBACKS"] = ["the site's key"]  # Flask's key rotation: the old key still reads
    assert _get(site, "/who", cookie) == "an"


def test_requests_with_the_same_cookie_do_not_share_a_session(site):
    cookie = _cookie(site)
    assert [_get(site, "/visit", cookie) for _ in range(3)] == ["1"] * 3  # a list: decoded again each time
    client = site.test_client(use_cookies=False)
    answer = client.get("/rename", headers={"Cookie": cookie})
    assert "someone" not in _get(site, "/who", cookie) and answer.headers.get("Set-Cookie")


def test_a_long_cookie_header_is_read_without_being_kept(site, monkeypatch):
    cookie = _cookie(site) + "; other=" + "x" * sessions.LONGEST
    calls = _verifications(monkeypatch)
    assert [_get(site, "/who", cookie) for _ in range(2)] == ["an"] * 2
    assert len(calls) == 2
