"""A genuine CSRF token is verified once, and everything Flask-WTF refuses is still refused
(motcua.csrf: Flask-WTF verified the signature of the same token again on every write, about a
tenth of a ticket's instructions; issue 15)."""
import itsdangerous
from itsdangerous import URLSafeTimedSerializer

from office.models import Ticket


def loads_counted(monkeypatch, salt=b"wtf-csrf-token"):
    """The signatures checked from now on with ``salt`` (CSRF tokens by default; b"cookie-session":
    session cookies), one item each."""
    calls = []
    original = itsdangerous.URLSafeTimedSerializer.loads

    def loads(self, *args, **kwargs):
        if self.salt == salt:
            calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(itsdangerous.URLSafeTimedSerializer, "loads", loads)
    return calls


def _ticket(client, token):
    return client.post("/api/v1/tickets", json={"service": "ho-tich"}, headers={"X-CSRFToken": token})


def test_a_sessions_token_is_verified_once_for_all_its_writes(app, monkeypatch):
    client = app.test_client()
    token = client.csrf_token()
    calls = loads_counted(monkeypatch)
    assert [_ticket(client, token).status_code for _ in range(5)] == [201] * 5
    assert len(calls) <= 1  # five before: one a write


def test_another_sessions_genuine_token_is_refused(app):
    mine, theirs = app.test_client(), app.test_client()
    assert _ticket(theirs, theirs.csrf_token()).status_code == 201  # genuine, and now remembered
    mine.csrf_token()  # my session has a token of its own
    answer = _ticket(mine, theirs.csrf_token())
    assert answer.status_code == 403 and "tải lại" in answer.get_json()["error"]
    assert Ticket.select().count() == 1


def test_forged_and_foreign_tokens_are_refused_every_time(app):
    client = app.test_client()
    client.csrf_token()
    with client.session_transaction() as session:
        raw = session["csrf_token"]
    forged = URLSafeTimedSerializer("not the box's key", salt="wtf-csrf-token").dumps(raw)
    for token in (forged, forged, "garbage", client.csrf_token()[:-2] + "xx"):
        assert _ticket(client, token).status_code == 403
    client.send_csrf_token = False
    assert client.post("/api/v1/tickets", json={"service": "ho-tich"}).status_code == 403  # no token at all
    assert Ticket.select().count() == 0


def test_a_remembered_token_is_refused_once_the_key_changed(app):
    client = app.test_client()
    token = client.csrf_token()
    assert _ticket(client, token).status_code == 201  # remembered under the box's key
    app.config["WTF_CSRF_SECRET_KEY"] = "the key tokens are signed with from now on"
    assert _ticket(client, token).status_code == 403
    assert Ticket.select().count() == 1


def test_a_json_write_is_not_parsed_as_a_form_to_find_its_token(app, monkeypatch):
    """Flask-WTF looked for the token among the form's fields first, parsing every JSON write's
    body as a form (3 % of a ticket's instructions); the header the pages' scripts send comes first."""
    import flask

    parsed = []
    original = flask.Request._load_form_data

    def load_form_data(self):
        parsed.append(self.path)
        return original(self)

    monkeypatch.setattr(flask.Request, "_load_form_data", load_form_data)
    client = app.test_client()
    assert _ticket(client, client.csrf_token()).status_code == 201
    assert parsed == []
