"""The kiosk's procedure search in Chromium (1080x1920): a query with a slip and "ki" for "ký" finds
the procedure, one no procedure holds word for word shows the closest ones (and says so), and a
synonym citizens use finds the catalog's words. The catalog and synonyms are written into the
running box's database as its pull writes them."""
import pytest
from playwright.sync_api import expect

from office.catalog_realistic import realistic

from .accessibility import BLOCKING, _axe, describe
from .conftest import _start_box
from .test_kiosk_catalog import type_on_screen

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def pull_catalog(db_path, rows):
    """The catalog and the hub's default synonyms, written as the box's pull writes them."""
    from office.catalog import Procedure, validate
    from office.db import bind, open_database
    from office.models import MODELS
    from office.synonyms import DEFAULTS, SearchSynonym
    from sync.apply import catalog_changed
    from sync.capture import applying_remote

    db = bind(open_database(str(db_path)), MODELS)
    try:
        with db.atomic(), applying_remote():
            for number, row in enumerate(rows):
                clean, reasons = validate(row)
                assert not reasons, reasons
                Procedure.insert(id=f"p-{number:04d}", commune="*", **clean).execute()
            for pk, phrase, means in DEFAULTS:
                SearchSynonym.insert(id=pk, commune="*", phrase=phrase, means=means).execute()
            catalog_changed()
    finally:
        db.close()


def assert_results_accessible(page):
    """axe on what the search shows (the count and the results), serious or critical violations."""
    found = [v for v in _axe.run(page, context=["#proc-count", "#proc-results"]).response["violations"]
             if v.get("impact") in BLOCKING]
    assert not found, describe(found)


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    b = _start_box(tmp_path_factory, "box-search", worker=False)
    pull_catalog(b.db_path, realistic(600))
    yield b
    b.stop()


def test_kiosk_search_with_a_slip_shows_results(box, browser, shots, problems):
    context = browser.new_context(viewport={"width": 1080, "height": 1920})
    try:
        kiosk = problems.watch(context.new_page(), "kiosk-search")
        kiosk.goto(box.url + "/kiosk")
        kiosk.get_by_role("button", name="Tra cứu thủ tục").click()
        type_on_screen(kiosk, ".osk[data-for=proc-q]", "dang ki khai snh")  # "ki" for "ký", a letter missing
        results = kiosk.locator("#proc-results .r-name")
        expect(results.first).to_have_text("Thủ tục đăng ký khai sinh")
        expect(kiosk.locator("#proc-count")).to_contain_text("phù hợp với “dang ki khai snh”")
        assert_results_accessible(kiosk)
        shots(kiosk, "kiosk-search-01-typo")

        kiosk.locator("#proc-q").fill("ket hon voi nguoi nuoc ngoai")
        expect(kiosk.locator("#proc-count")).to_contain_text("Không có thủ tục nào có đủ các từ")
        expect(results.first).to_have_text("Thủ tục đăng ký kết hôn có yếu tố nước ngoài")
        assert_results_accessible(kiosk)
        shots(kiosk, "kiosk-search-02-closest")

        kiosk.locator("#proc-q").fill("lam so do lan dau")
        expect(results.first).to_have_text("Thủ tục đăng ký đất đai, tài sản gắn liền với đất lần đầu")
        kiosk.locator("#proc-q").fill("1004873")
        expect(results).to_have_count(1)
        expect(results.first).to_have_text("Thủ tục cấp Giấy xác nhận tình trạng hôn nhân")
        shots(kiosk, "kiosk-search-03-code")
        problems.check()
    finally:
        context.close()
