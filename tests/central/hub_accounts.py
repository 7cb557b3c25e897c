"""Accounts for tests of the hub's pages: make one, give a test client its API token, or sign in
through the real form (with its CSRF token)."""
import re

from central.accounts import create_account
from central.accounts_tokens import issue_token

PASSWORD = "test-password-1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_account(name="ops", role="operator", communes="", agency="", password=PASSWORD, **extra):
    return create_account(name, role, communes=communes, agency=agency, password=password, must_change=False,
                          **extra)[0]


def bearer(account):
    return {"Authorization": "Bearer " + issue_token(account, "tests")[1]}


def token_client(app, role="operator", name=None, **scope):
    """A test client acting as a new account of ``role`` through an API token (as scripts do)."""
    account = make_account(name or role, role, **scope)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = bearer(account)["Authorization"]
    client.account = account
    return client


def csrf_token(client, path="/account/password"):
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def sign_in(client, name, password=PASSWORD):
    """Sign in with the form as a browser does; returns the response."""
    token = CSRF.search(client.get("/signin").get_data(as_text=True)).group(1)
    return client.post("/signin", data={"name": name, "password": password, "csrf_token": token})


def session_client(app, role="operator", name=None, **scope):
    """A test client signed in with a session, as a person's browser."""
    account = make_account(name or role, role, **scope)
    client = app.test_client()
    response = sign_in(client, account.name)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    client.account = account
    return client
