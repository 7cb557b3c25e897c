"""A rating is taken only from the rating screen paired with that counter (or the keypad)."""
from office import ratings
from office.models import Rating
from office.rating_screens import RatingScreen
from tests.conftest import pair_rating_screen, sign_in
from tests.edge.test_api import served_at_counter
from tests.edge.test_console import console, login  # noqa: F401  (fixture)

COOKIE = "motcua_rating_screen"


def rate(client, ticket, counter=2, score=1):
    return client.post("/api/v1/ratings", json={"counter": counter, "ticket": ticket["id"], "score": score})


def test_rating_from_an_unpaired_device_is_refused(app, client):
    ticket = served_at_counter(app)
    awaiting = client.get("/api/v1/counters/2/awaiting-rating").get_json()["ticket"]
    assert awaiting == {"id": ticket["id"], "number": "A-001", "officer": "Trần Văn Minh"}  # no personal data
    refused = rate(client, ticket)
    assert refused.status_code == 403
    assert refused.get_json()["error"].startswith("Màn hình này chưa được ghép với quầy 2")
    forged = app.test_client()
    forged.set_cookie(COOKIE, "made-up")
    assert rate(forged, ticket).status_code == 403
    assert Rating.select().count() == 0


def test_unpaired_rating_page_says_how_to_pair(client):
    page = client.get("/rate/2").get_data(as_text=True)
    assert "Màn hình này chưa được ghép với Quầy số 2" in page and "Ghép màn hình với Quầy số 2" in page
    assert 'id="rate"' not in page  # no rating buttons


def test_paired_screen_rates_its_counter_only(app, client):
    response = pair_rating_screen(app, client, counter=2, username="canbo2")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=" in cookie
    assert RatingScreen.get().token_hash not in cookie  # the box keeps only the token's hash
    page = client.get("/rate/2").get_data(as_text=True)
    assert 'id="rate"' in page and "chưa được ghép" not in page
    assert "chưa được ghép" in client.get("/rate/1").get_data(as_text=True)
    at_one = served_at_counter(app, counter=1, username="canbo1")
    assert rate(client, at_one, counter=1).status_code == 403  # another counter's ticket
    at_two = served_at_counter(app, counter=2, username="canbo2")
    assert rate(client, at_two, counter=2, score=3).status_code == 201
    assert [(r.ticket_id, r.score, r.source) for r in Rating.select()] == [(at_two["id"], 3, "screen")]


def test_pairing_needs_the_officer_seated_at_that_counter(app, client):
    sign_in(app.test_client(), counter=1, username="canbo1")
    wrong = client.post("/rate/1/pair", data={"username": "canbo1", "password": "sai"})
    assert wrong.status_code == 401 and "không đúng" in wrong.get_data(as_text=True)
    elsewhere = client.post("/rate/2/pair", data={"username": "canbo1", "password": "motcua123"})
    assert elsewhere.status_code == 403 and "chưa đăng nhập làm việc tại Quầy số 2" in elsewhere.get_data(as_text=True)
    assert COOKIE not in elsewhere.headers.get("Set-Cookie", "")
    assert RatingScreen.select().count() == 0


def test_re_pairing_a_counter_retires_the_old_screen(app, client):
    old = client
    pair_rating_screen(app, old, counter=2)
    new = app.test_client()
    pair_rating_screen(app, new, counter=2)
    assert RatingScreen.select().count() == 1
    ticket = served_at_counter(app, counter=2)
    assert rate(old, ticket).status_code == 403
    assert "chưa được ghép" in old.get("/rate/2").get_data(as_text=True)
    assert rate(new, ticket).status_code == 201


def test_the_technician_pairs_a_screen(app, client, console):  # noqa: F811
    login(client)
    page = client.get("/rate/3").get_data(as_text=True)
    assert "Kỹ thuật viên đã đăng nhập" in page and 'name="password"' not in page
    assert client.post("/rate/3/pair").status_code == 302
    assert RatingScreen.get().paired_by == "technician"


def test_the_keypad_needs_no_screen(app):
    ticket = served_at_counter(app, counter=1, username="canbo1")
    rating = ratings.rate_at_counter(1, 2, 300, source="keypad")
    assert rating.ticket_id == ticket["id"] and rating.source == "keypad"


def test_the_console_lists_paired_screens_and_unpairs_them(app, client, console):  # noqa: F811
    tablet = app.test_client()
    pair_rating_screen(app, tablet, counter=2)
    login(client)
    page = client.get("/console/").get_data(as_text=True)
    assert "Màn hình đánh giá đã ghép (1)" in page and "canbo2" in page
    assert client.post("/console/rating-screens/2/unpair").status_code == 302
    assert RatingScreen.select().count() == 0
    assert rate(tablet, served_at_counter(app, counter=2)).status_code == 403
    tablet_page = tablet.get("/rate/2").get_data(as_text=True)
    assert "chưa được ghép" in tablet_page
