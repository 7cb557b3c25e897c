"""Bad input never gives a 5xx: every route of the box and of the hub, walked from their
``url_map`` with one fixed corpus of hostile paths, query strings and bodies (non-string fields,
NaN/Infinity, 10^40 integers, 10k-deep nesting, lone surrogates, wrong content types, empty
bodies), signed in so that the deep code runs. Every answer is below 500; every error is in
Vietnamese, JSON ones in the documented shape ``{ok: false, error, status}``; and the box's data
is intact afterwards (ticket numbers gapless, change log chained, ``quick_check`` ok).
"""
import base64
import logging
import re
import unicodedata
from collections import Counter
from types import SimpleNamespace

import pytest

from motcua.web import HTTP_MESSAGES
from office.db import bind, database, open_database
from office.models import MODELS
from tests.conftest import sign_in

# --- the corpus -----------------------------------------------------------------------------------

# Field names the views read (request.args/form/JSON), each given every hostile value at once.
KEYS = ("active actor address after agency audience bundle_id category channels code commune components "
        "counter cursor data day description download_token expired extra field from from_counter group id "
        "id_number kind kiosk legal_basis limit month name new_due next note out overdue page password phone "
        "priority procedure q quarter reason received saved score service stage state status steps table "
        "ticket to token username view way ways weekdays year").split()
BIG = "1" + "0" * 40
JSON_VALUES = ("[1, 2]", '{"a": {"b": 1}}', "null", "true", "NaN", "Infinity", "-Infinity", "1e400", BIG,
               "-" + BIG, "-1", '"\\ud800"', '"' + "x" * 3000 + '"', '""', "0.5")
DEEP_ARRAY = "[" * 10000 + "]" * 10000
RAW_JSON = ("", "null", "[]", '"text"', "{", DEEP_ARRAY, '{"a":' * 5000 + "1" + "}" * 5000, '{"a": NaN}',
            '{"username": "\\udfff", "password": "\\ud800"}')
# Form values, already percent-encoded (%ED%A0%80 is a lone surrogate as UTF-8: invalid).
FORM_VALUES = ("", "9" * 40, "-1", "NaN", "Infinity", "%ED%A0%80", "%FF%FE", "x" * 3000,
               "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "1e400", "2026-02-30", "%00")
QUERIES = ("page=" + "9" * 40, "page=-5&limit=1e400", "limit=Infinity&cursor=" + "9" * 30 + "&after=NaN",
           "q=%ED%A0%80&field=%FF", "q=" + "a" * 3000, "from=2026-13-45&to=abc&day=" + "9" * 30 + "&year=" + BIG,
           "page=abc&month=NaN&quarter=-1&kiosk=%00&status=" + BIG + "&counter=Infinity")
SEGMENTS = ("9" * 40, "-1", "%ED%A0%80", "%FF", "%00", "x" * 2000)


def json_bodies():
    for value in JSON_VALUES:
        yield "application/json", "{" + ", ".join(f'"{k}": {value}' for k in KEYS) + "}"
    for raw in RAW_JSON:
        yield "application/json", raw
    yield "text/plain", '{"username": "canbo1", "password": "motcua123", "counter": 1}'


def form_bodies():
    for value in FORM_VALUES:
        yield "application/x-www-form-urlencoded", "&".join(f"{k}={value}&{k}={value}" for k in KEYS)
    yield "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n\xff\r\n"
    yield None, ""


BODIES = tuple(json_bodies()) + tuple(form_bodies())
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


# --- walking ---------------------------------------------------------------------------------------

def real_path(rule, values):
    """The rule's path with real values (so the deep code runs), or None when one is unknown."""
    path = rule.rule
    for name, converter in rule._converters.items():
        if hasattr(converter, "items"):  # <any(...)>: its first choice
            value = sorted(converter.items)[0]
        else:
            value = values(rule.rule, name)
        if value is None:
            return None
        path = re.sub(rf"<[^>]*:?{name}>", str(value), path)
    return path


def hostile_paths(rule):
    """The rule's path with each hostile segment in each of its variables."""
    for name in rule._converters:
        for segment in SEGMENTS:
            yield re.sub(rf"<[^>]*:?{name}>", segment, rule.rule)


def vietnamese(text):
    return any(c in "đĐ" or (ord(c) > 127 and c.isalpha() and unicodedata.normalize("NFD", c)[0].isascii())
               for c in text) or text in HTTP_MESSAGES.values()


def check(response, method, path, problems):
    where = f"{method} {path[:80]}"
    if response.status_code >= 500:
        problems.append(f"{where}: {response.status_code}")
    elif response.status_code >= 400:
        if response.is_json and path.startswith("/open311/"):  # GeoReport v2's own shape: [{code, description}]
            body = response.get_json()
            if not (isinstance(body, list) and body and isinstance(body[0], dict)
                    and body[0].get("code") == response.status_code and isinstance(body[0].get("description"), str)):
                problems.append(f"{where}: error body not in GeoReport v2's shape: {str(body)[:120]}")
            elif not vietnamese(body[0]["description"]):
                problems.append(f"{where}: error not in Vietnamese: {body[0]['description'][:120]}")
        elif response.is_json:
            body = response.get_json()
            if not (isinstance(body, dict) and body.get("ok") is False and isinstance(body.get("error"), str)):
                problems.append(f"{where}: error body not in the documented shape: {str(body)[:120]}")
            elif not vietnamese(body["error"]):
                problems.append(f"{where}: error not in Vietnamese: {body['error'][:120]}")
        elif not vietnamese(response.get_data(as_text=True)):
            problems.append(f"{where}: {response.status_code} page not in Vietnamese: "
                            f"{response.get_data(as_text=True)[:120]}")
    response.close()


def walk(app, client, values, sign_in_again, skip=()):
    """Every rule, every method, the whole corpus: (requests sent, problems)."""
    problems, sent = [], 0
    rules = sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static" and not r.endpoint.endswith(".static")),
                   key=lambda r: ("session" in r.rule or "logout" in r.rule or "login" in r.rule, r.rule))
    for rule in rules:
        if rule.endpoint in skip:
            continue
        path = real_path(rule, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                requests = [(p, None, None) for p in hostile_paths(rule)]
                if path is not None:
                    requests += [(f"{path}?{q}", None, None) for q in QUERIES]
            else:
                requests = [(p, "application/json", "{}") for p in hostile_paths(rule)]
                if path is not None:
                    requests += [(path, kind, body) for kind, body in BODIES]
            for target, kind, body in requests:
                data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
                if kind and kind.startswith("application/x-www-form"):
                    data = body.encode("latin-1", "replace")
                sent += 1
                try:
                    response = client.open(target, method=method, data=data, content_type=kind)
                except Exception as exc:  # not even an answer (e.g. a lone surrogate echoed in a message)
                    problems.append(f"{method} {target[:80]}: no answer, {type(exc).__name__}")
                    continue
                check(response, method, target, problems)
        if "session" in rule.rule or "logout" in rule.rule or "login" in rule.rule:
            sign_in_again()
    return sent, problems


def causes(caplog):
    """The unhandled exceptions logged by the error handler, counted by type."""
    return Counter(r.exc_info[0].__name__ for r in caplog.records if r.exc_info and r.name == "motcua.web")


# --- the box --------------------------------------------------------------------------------------

@pytest.fixture
def box(app, settings):
    """The box, an officer at counter 1 and the technician signed in, a ticket, a dossier, a place."""
    import json
    from datetime import datetime

    from werkzeug.security import generate_password_hash

    from office.models import Place, PrintJob, Procedure, Ticket
    from sync.capture import applying_remote

    settings.update(technician_password_hash=generate_password_hash("kythuat", method="pbkdf2:sha256:1000"),
                    printer="dummy", hub_url="")
    app.extensions["dossier_clock"] = lambda: datetime(2026, 3, 2, 9, 15)
    with applying_remote():
        Procedure.insert(id="p-ks", commune="*", code="1.001193", name="Đăng ký khai sinh", field="Hộ tịch", days=3,
                         components=json.dumps([{"name": "Tờ khai", "copies": 1}], ensure_ascii=False)).execute()
    client = app.test_client()

    def sign_in_all():
        sign_in(client)
        client.post("/console/login", data={"password": "kythuat"})  # after the walk's tries: may be 429

    sign_in(client)
    assert client.post("/console/login", data={"password": "kythuat"}).status_code in (302, 303)
    ticket = client.post("/api/v1/tickets", json={"service": "ho-tich"}).get_json()
    assert client.post("/dossiers", data={"procedure": "1.001193", "name": "Nguyễn Văn An", "id_number": "001099012345",
                                          "phone": "0912345678", "address": "Tổ 5", "way": "truc_tiep",
                                          "components": ["0"]}).status_code == 303
    client.post("/places", data={"name": "Nhà văn hóa", "category": "nong-thon-moi"})
    from office.models import Dossier

    known = {"number": 1, "job_id": PrintJob.select().first().id if PrintJob.select().exists() else 1,
             "pk": Place.select().first().id, "form": "02", "dossier": Dossier.select().first().code,
             "ticket": ticket.get("tracking_code") or Ticket.select().first().tracking_code}

    def values(rule, name):
        if name == "code":
            return known["dossier"] if rule.startswith("/dossiers") else known["ticket"]
        if name == "pk" and "procedure" in rule:
            return "p-ks"
        return known.get(name, "1")

    return SimpleNamespace(client=client, values=values, sign_in=sign_in_all)


def test_hostile_input_never_gives_a_5xx_at_the_box(app, box, settings, caplog):
    caplog.set_level(logging.ERROR, logger="motcua.web")
    sent, problems = walk(app, box.client, box.values, box.sign_in, skip={"console.restart", "console.support_bundle"})
    assert sent > 1000
    assert not problems, f"{len(problems)} of {sent} requests, causes {dict(causes(caplog))}:\n" + "\n".join(problems[:60])
    assert not causes(caplog)
    intact(settings)


def intact(settings):
    """The box's data after the walk: ticket numbers gapless, change log chained, quick_check ok."""
    from tests.crash.harness import verify

    database.close()
    db_path = settings["database"]
    try:
        problems, counts = verify(db_path, SimpleNamespace(tickets={}, ratings={}, events={}), "box-test0000000000")
    finally:
        bind(open_database(db_path), MODELS)  # the app's teardown closes it
    # the procedure came down from the hub: its entry is in the hub's log, not the box's
    problems = [p for p in problems if not p.startswith("procedure p-ks:")]
    assert not problems, problems
    assert counts["tickets"] >= 1 and counts["entries"] >= 1
    import sqlite3

    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA quick_check").fetchall() == [("ok",)]


# --- the hub --------------------------------------------------------------------------------------

HUB_PASSWORD = "operator-pw"


def hub_sign_in(client):
    """The hub operator's sign-in (HTTP Basic today): the one place to change for the new sign-in."""
    client.environ_base["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(f"admin:{HUB_PASSWORD}".encode()).decode()
    client.environ_base["HTTP_ORIGIN"] = "http://localhost"


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path):
    """The hub on SQLite or on PostgreSQL (127.0.0.1:5432/test, a fresh schema), with one commune's office."""
    from central.app import create_app
    from motcua.settings import load_settings
    from office.models import Office
    from sync.capture import applying_remote
    from tests.sync.conftest import drop_schema, postgres_schema

    overrides = {"data_dir": str(tmp_path / "hub"), "operator_password": HUB_PASSWORD}
    schema = None
    if request.param == "postgresql":
        schema, overrides["database"] = postgres_schema()
    app = create_app(load_settings("hub", environ={}, overrides=overrides))
    app.config["TESTING"] = True
    with applying_remote():
        Office.insert(id="office-1", commune="05518", name="UBND Phường Sông Công", province_name="Tỉnh Thái Nguyên",
                      agency_code="000.19.05518").execute()
    yield app
    database.close()
    if schema:
        drop_schema(schema)


def test_hostile_input_never_gives_a_5xx_at_the_hub(hub, caplog):
    caplog.set_level(logging.ERROR, logger="motcua.web")
    client = hub.test_client()
    hub_sign_in(client)
    sent, problems = walk(hub, client, lambda rule, name: {"commune": "05518"}.get(name, "1"),
                          lambda: hub_sign_in(client))
    assert sent > 1000
    assert not problems, f"{len(problems)} of {sent} requests, causes {dict(causes(caplog))}:\n" + "\n".join(problems[:60])
    assert not causes(caplog)


# --- and what nobody thought of: Hypothesis ------------------------------------------------------------

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402

ANY_TEXT = st.text(st.characters(blacklist_categories=()), max_size=20)  # lone surrogates and NUL too
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
                           max_leaves=12)


@given(st.binary(max_size=300))
def test_parse_json_refuses_any_bytes_with_a_value_error_only(raw):
    from motcua.web import parse_json

    try:
        parse_json(raw)
    except ValueError:
        pass


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(KEYS[:20] + ["service", "score", "ticket", "reason", "seconds"]), JSON_VALUES,
                       max_size=6), st.sampled_from(["/api/v1/tickets", "/api/v1/session", "/api/v1/ratings",
                                                     "/api/v1/counters/1/transfer", "/api/v1/counters/1/next"]))
def test_any_json_object_at_the_box_api_is_never_a_5xx(client, body, path):
    import json

    with client.session_transaction() as session:
        signed = "officer_id" in session
    if not signed:
        sign_in(client)  # the counter's actions run their deep code
    raw = json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")
    answer = client.post(path, data=raw, content_type="application/json")
    assert answer.status_code < 500, (path, body, answer.get_data(as_text=True)[:200])
    if answer.status_code >= 400:
        assert answer.get_json()["ok"] is False and vietnamese(answer.get_json()["error"])
