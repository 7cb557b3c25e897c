"""Cross-site requests in Chromium: a page elsewhere posts forms to the box (an officer signed in)
and to the hub (the operator's credentials cached), with ``Origin: null`` and with no Origin at
all; nothing changes. The same forms from the sites' own pages still work.

The attacker's page lives at another port of 127.0.0.1: the *same site* as the box for the
browser, so ``SameSite=Lax`` cookies go along and only the Origin check and the CSRF token stand
in the way. Playwright serves that page and, for the "no Origin" and "Origin: null" cases,
rewrites the header of the browser's real request (cookies and credentials untouched): older
browsers, privacy extensions, sandboxed frames and some redirects send exactly that.
"""
import sqlite3
from contextlib import closing

import pytest

from tests.e2e.conftest import free_port

NEW_PLACE = {"name": "Trạm giả mạo", "category": "nong-thon-moi"}
NEW_CONTACT = {"name": "Kẻ giả mạo", "commune": "05518", "phone": "0987654321", "role": "handler"}


def count(db_path, sql):
    with closing(sqlite3.connect(db_path)) as db:
        return db.execute(sql).fetchone()[0]


def attack_page(action, fields):
    inputs = "".join(f'<input name="{k}" value="{v}">' for k, v in fields.items())
    return (f'<!doctype html><meta charset="utf-8"><form id="f" method="post" action="{action}">{inputs}</form>'
            '<script>document.getElementById("f").submit()</script>')


def attack(context, target, fields, origin):
    """A page at another port of 127.0.0.1 posts ``fields`` to ``target``; ``origin``: "keep" (the
    browser's own header), "null", or None (no Origin, no Referer). Returns the answer's status."""
    evil = f"http://127.0.0.1:{free_port()}/win-a-prize.html"
    page = context.new_page()
    page.route(evil, lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8",
                                                 body=attack_page(target, fields)))
    sent = {}

    def rewrite(route):
        headers = {k: v for k, v in route.request.headers.items() if k.lower() not in ("origin", "referer")}
        if origin == "keep":
            headers = dict(route.request.headers)
        elif origin is not None:
            headers["origin"] = origin
        sent.update(headers)
        route.continue_(headers=headers)

    page.route(target, rewrite)
    try:
        with page.expect_response(target) as answer:
            page.goto(evil)
        status = answer.value.status
        page.wait_for_load_state()
        return status, sent
    finally:
        page.close()


# --- the box ------------------------------------------------------------------------------------------

def officer_signs_in(context, box):
    page = context.new_page()
    page.goto(box.url + "/counter")
    page.get_by_label("Tên đăng nhập").fill("canbo1")
    page.get_by_label("Mật khẩu").fill("motcua123")
    page.get_by_label("Quầy làm việc").select_option(label="Quầy số 1")
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("button", name="Gọi số tiếp").wait_for()
    return page


@pytest.mark.parametrize("origin", ["null", None, "keep"])
def test_a_cross_site_form_changes_nothing_at_the_box(box, browser, problems, origin):
    context = browser.new_context()
    try:
        officer_signs_in(context, box)
        places = count(box.db_path, "select count(*) from place")
        log = count(box.db_path, "select count(*) from change_entry")
        status, sent = attack(context, box.url + "/places", NEW_PLACE, origin)
        assert "cookie" in sent, "the browser sent no session cookie: the test proves nothing"
        assert status == 403
        assert count(box.db_path, "select count(*) from place") == places
        assert count(box.db_path, "select count(*) from change_entry") == log

        # The box's own form, in the same session, does create the place.
        page = problems.watch(context.new_page(), "place-form")
        page.goto(box.url + "/places/new")
        page.fill("input[name=name]", f"Nhà văn hóa tổ {origin}")
        page.select_option("select[name=category]", "nong-thon-moi")
        page.locator("form.place-form button.btn").first.click()
        page.wait_for_load_state()
        assert count(box.db_path, "select count(*) from place") == places + 1
        problems.check()
    finally:
        context.close()


# --- the hub ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    from tests.sync.conftest import HubProcess

    h = HubProcess(tmp_path_factory.mktemp("hub")).start()
    yield h
    h.close()


def operator_context(browser, hub):
    """A browser where an operator of the hub signed in with the sign-in form: its session cookie
    goes with any request the browser makes to the hub, whichever page asks."""
    from .hub_signin import sign_in

    name, password = hub.account("ops-cross", "operator")
    context = browser.new_context()
    page = sign_in(context.new_page(), hub.url, name, password, then="/reminders")
    assert page.locator("form.contact-form").count() == 1
    page.close()
    return context


@pytest.mark.parametrize("origin", ["null", None, "keep"])
def test_a_cross_site_form_changes_nothing_at_the_hub(hub, browser, origin):
    context = operator_context(browser, hub)
    try:
        before = hub.query("select count(*) from contact")[0][0]
        status, _ = attack(context, hub.url + "/reminders/contacts", NEW_CONTACT, origin)
        assert status in (400, 401, 403)
        assert hub.query("select count(*) from contact")[0][0] == before
    finally:
        context.close()
