"""What both apps promise a browser: writes only from their own pages, security headers,
cookies, and bad JSON answered with a Vietnamese 400 (the box's app is the subject here)."""
import json

import pytest

from office.models import Place, Ticket
from sync.models import ChangeEntry
from tests.conftest import sign_in

PLACE = {"name": "Trạm giả mạo", "category": "nong-thon-moi"}


def writes():
    return ChangeEntry.select().count(), Place.select().count(), Ticket.select().count()


def test_null_origin_write_is_refused(client):
    sign_in(client)
    before = writes()
    response = client.post("/places", data=PLACE, headers={"Origin": "null"})
    assert response.status_code == 403 and "trang khác" in response.get_data(as_text=True)
    assert client.post("/api/v1/tickets", json={"service": "A"}, headers={"Origin": "null"}).status_code == 403
    assert writes() == before


def test_write_with_a_cookie_and_no_origin_is_refused(client):
    sign_in(client)
    before = writes()
    client.origin = None  # a page whose browser sends neither Origin nor Referer
    response = client.post("/places", data=PLACE)
    assert response.status_code == 403 and "trang khác" in response.get_data(as_text=True)
    # what a form can send (text/plain shaped as JSON) is refused; JSON itself needs a CORS preflight
    assert client.post("/api/v1/counters/1/next", data="{}", content_type="text/plain").status_code == 403
    assert writes() == before
    # the same page's Referer is enough
    assert client.post("/places", data=PLACE, headers={"Referer": "http://localhost/places/new"}).status_code == 302


def test_kiosk_ticket_from_another_site_is_refused(client):
    before = writes()
    answer = client.post("/api/v1/tickets", json={"service": "A"}, headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403 and answer.get_json()["ok"] is False
    assert writes() == before


def test_form_without_csrf_token_is_refused(client):
    sign_in(client)
    before = writes()
    client.send_csrf_token = False
    response = client.post("/places", data=PLACE)
    assert response.status_code == 403 and "tải lại trang" in response.get_data(as_text=True)
    answer = client.post("/api/v1/counters/1/next", json={})
    assert answer.status_code == 403 and answer.get_json() == {
        "ok": False, "error": answer.get_json()["error"], "status": 403} and "tải lại" in answer.get_json()["error"]
    assert client.post("/places", data=dict(PLACE, csrf_token="forged")).status_code == 403
    assert writes() == before


def test_pages_carry_the_csrf_token_for_their_forms_and_scripts(client):
    sign_in(client)
    html = client.get("/places/new").get_data(as_text=True)
    assert '<meta name="csrf-token" content="' in html and 'name="csrf_token" value="' in html
    assert '<meta name="csrf-token"' in client.get("/kiosk").get_data(as_text=True)
    with client.get("/static/common.js") as script:
        assert "X-CSRFToken" in script.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/kiosk", "/counter/1", "/dossiers", "/tracking", "/console/", "/procedures",
                                  "/api/v1/queue", "/nowhere"])
def test_every_answer_has_security_headers(client, path):
    sign_in(client)
    headers = client.get(path).headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "SAMEORIGIN" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


def test_pages_with_personal_data_are_not_cached_but_assets_are(client):
    sign_in(client)
    for path in ("/dossiers", "/counter/1", "/tracking", "/api/v1/counters/1"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    for path in ("/static/common.js", "/assets/app.css"):
        with client.get(path) as asset:
            assert asset.status_code == 200 and "no-store" not in asset.headers.get("Cache-Control", ""), path


def test_session_cookie_is_samesite_and_secure_over_https(app):
    plain = app.test_client()
    cookie = sign_in(plain).headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "Secure" not in cookie and "HttpOnly" in cookie
    tls = app.test_client()
    tls.origin = "https://localhost"
    answer = tls.post("/api/v1/session", json={"username": "canbo1", "password": "motcua123", "counter": 2},
                      base_url="https://localhost", headers={"Referer": "https://localhost/counter/2"})
    assert answer.status_code == 200 and "; Secure" in answer.headers["Set-Cookie"]


@pytest.mark.parametrize("body", ['{"username": "canbo1", "password": "motcua123", "counter": Infinity}',
                                  '{"username": "canbo1", "password": "motcua123", "counter": NaN}',
                                  '{"username": "canbo1", "password": "motcua123", "counter": 1e400}',
                                  '{"username": "canbo1", "password": "motcua123", "counter": 1' + "0" * 40 + "}",
                                  '{"username": "\\ud800", "password": "x", "counter": 1}',
                                  "[" * 10000 + "]" * 10000])
def test_infinity_huge_numbers_deep_nesting_and_lone_surrogates_in_json_are_400(client, body):
    answer = client.post("/api/v1/session", data=body, content_type="application/json")
    assert answer.status_code == 400
    bad_text = "ud800" in body  # a lone surrogate is named as a bad character, the rest as bad JSON
    assert answer.get_json()["ok"] is False and answer.get_json()["error"] == (
        "Dữ liệu gửi lên có ký tự không hợp lệ." if bad_text else "Nội dung gửi lên phải là một đối tượng JSON hợp lệ.")


def test_huge_integers_in_paths_are_404_not_500(client):
    sign_in(client)
    for path in ("/api/v1/counters/" + "9" * 40, "/api/v1/counters/99999999999999999999/awaiting-rating"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.get_json()["ok"] is False, path
    assert client.post("/api/v1/print-jobs/" + "9" * 30 + "/reprint").status_code == 404


# --- the hub: an operator signed in with a session cookie, as in a browser --------------------------------

@pytest.fixture
def hub(tmp_path):
    from central.app import create_app
    from motcua.settings import load_settings
    from office.db import database

    app = create_app(load_settings("hub", environ={}, overrides={"data_dir": str(tmp_path / "hub"),
                                                                 "operator_password": "operator-pw"}))
    app.config["TESTING"] = True
    yield app
    database.close()


def operator(hub):
    """A client whose requests carry the operator's session cookie, as a browser that signed in."""
    from tests.central.hub_accounts import session_client

    return session_client(hub, "operator")


def own_page_token(client):
    from tests.central.hub_accounts import csrf_token

    return csrf_token(client, "/reminders")


CONTACT = {"name": "Kẻ giả mạo", "commune": "05518", "phone": "0987654321", "role": "handler"}


def test_hub_form_with_cached_credentials_and_null_or_no_origin_is_refused(hub):
    from central.reminder_models import Contact

    client = operator(hub)
    for headers in ({"Origin": "null"}, {}, {"Origin": "http://evil.example"}):
        answer = client.post("/reminders/contacts", data=CONTACT, headers=headers)  # no token: the page is elsewhere
        assert answer.status_code == 403, headers
        answer = client.post("/reminders/contacts", data=dict(CONTACT, csrf_token=own_page_token(client)), headers=headers)
        assert answer.status_code == 403 and "trang khác" in answer.get_data(as_text=True), headers  # a leaked token
    assert Contact.select().count() == 0
    # the hub's own page (with its form's token), and a script with an API token, still may
    own = dict(CONTACT, csrf_token=own_page_token(client))
    assert client.post("/reminders/contacts", data=own, headers={"Origin": "http://localhost"}).status_code == 303
    from tests.central.hub_accounts import token_client

    script = token_client(hub, "operator", name="script")
    assert script.post("/api/v1/reminders/contacts", json=dict(CONTACT, name="Trần Văn Bình")).status_code == 201
    assert Contact.select().count() == 2


def test_hub_answers_carry_security_headers(hub):
    headers = operator(hub).get("/reminders").headers
    assert "default-src 'self'" in headers["Content-Security-Policy"] and headers["X-Frame-Options"] == "SAMEORIGIN"
    assert headers["Cache-Control"] == "no-store" and headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name, data, said", [
    ("danh-muc.json", b"\xff\xfe[{}]", "bảng mã UTF-8"),
    ("danh-muc.csv", "mã;tên\n".encode("cp1258", "replace") + b"\xe0\xff", "bảng mã UTF-8"),
    ("danh-muc.json", b'[{"code": "1.0"', "dòng 1, cột"),
])
def test_catalog_import_decode_errors_are_in_vietnamese(hub, name, data, said):
    import io

    client = operator(hub)
    answer = client.post("/catalog/import", data={"file": (io.BytesIO(data), name), "csrf_token": own_page_token(client)},
                                headers={"Origin": "http://localhost"}, content_type="multipart/form-data")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and said in page
    assert "codec" not in page and "Expecting" not in page and "invalid start byte" not in page


def test_download_cookie_is_secure_over_https(hub):
    answer = operator(hub).get("/stats/summary.xlsx?month=2026-03&download_token=k3x9q2m7", base_url="https://localhost")
    cookie = answer.headers["Set-Cookie"]
    answer.close()
    assert "motcua_download=k3x9q2m7" in cookie and "; Secure" in cookie and "SameSite=Lax" in cookie
