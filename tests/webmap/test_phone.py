"""A grid manager on a phone (#15 item 12), in headless Chromium at 390×844: the menu folds behind a
toggle and opens as one link per line; the zone map takes the full width; the to-do list, the venue page
with its inspection form and a clue page never scroll sideways, and the form can be filled in."""

from __future__ import annotations

import pytest

from core.chromium import BROWSER_ARGS
from tests.conftest import CHROMIUM
from tests.helpers import serving
from tests.webmap.conftest import PASSWORD
from webmap import create_app

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def server(cfg, users_world):
    with serving(create_app({"webmap.tile_provider": "none"}, config=cfg)) as url:
        yield url


@pytest.fixture
def phone():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(BROWSER_ARGS))
        page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
        yield page
        browser.close()


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px phone"


def test_a_grid_manager_can_work_on_a_phone(server, phone, users_world):
    page = phone
    page.goto(f"{server}/login")
    page.fill("input[name=username]", "gm_own")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_function("() => window.wangxunState && window.wangxunState.ready", timeout=30_000)

    # The menu is folded: the toggle shows, the links do not, and the top bar stays one short row.
    nav = page.locator("header nav")
    assert page.locator(".navtoggle-label").is_visible() and not nav.is_visible()
    assert page.locator("header").bounding_box()["height"] < 90
    page.locator(".navtoggle-label").click()
    assert nav.is_visible()
    links = nav.locator("a")
    for i in range(links.count()):  # one link per line, each on one line (not one character per line)
        box = links.nth(i).bounding_box()
        assert box["width"] > 300 and box["height"] < 50, (links.nth(i).inner_text(), box)

    # The zone map takes the whole width and most of the height; its panel follows below it.
    box = page.locator(".mapbox").bounding_box()
    assert box["width"] >= PHONE["width"] - 2 and box["height"] >= 0.6 * PHONE["height"]
    assert page.locator(".leaflet-container").bounding_box()["width"] >= PHONE["width"] - 2
    legend = page.locator(".wx-legend")  # folded to one line, opened on a tap
    assert legend.bounding_box()["height"] < 40
    legend.locator("summary").click()
    assert legend.get_by_text("场所风险等级").is_visible()
    _no_sideways_scroll(page)

    for path in ("/clues", f"/clues/{users_world.clue_own}"):
        page.goto(f"{server}{path}")
        assert page.locator("main").is_visible()
        _no_sideways_scroll(page)

    # The venue page and its inspection form: readable, and the form's fields fit and can be filled in.
    page.goto(f"{server}/venues/{users_world.venue_own}")
    _no_sideways_scroll(page)
    form = page.locator("form.stack").first
    form.scroll_into_view_if_needed()
    fields = form.locator("input:visible, select:visible, textarea:visible")
    assert fields.count() >= 2
    for i in range(fields.count()):
        box = fields.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
