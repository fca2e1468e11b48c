"""The map in headless Chromium: a grid manager logs in, sees their zone's grid, venues and hits, opens
a popup, and is refused another zone. The tile server is unreachable on purpose (offline intranet):
the grid and venue layers must render anyway."""

from __future__ import annotations

import threading

import pytest

from core.chromium import BROWSER_ARGS
from tests.conftest import CHROMIUM
from tests.webmap.conftest import PASSWORD
from webmap import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def server(cfg, users_world):
    from werkzeug.serving import make_server

    # Port 9 (discard) on loopback refuses connections: every tile fails, as on an intranet without tiles.
    app = create_app(
        {"webmap.tile_provider": "custom", "webmap.tile_url": "http://127.0.0.1:9/{z}/{x}/{y}.png"}, config=cfg
    )
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join()


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(BROWSER_ARGS))
        pg = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.js_errors = errors
        yield pg
        browser.close()


def test_grid_manager_sees_zone_opens_popup_and_is_refused_elsewhere(server, page, users_world):
    failed_tiles: list[str] = []
    page.on("requestfailed", lambda r: failed_tiles.append(r.url) if ":9/" in r.url else None)
    page.goto(f"{server}/")
    assert "/login" in page.url
    page.fill("input[name=username]", "gm_own")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    # A function, not an expression string: Playwright evals polled strings, which the CSP forbids.
    page.wait_for_function("() => window.wangxunState && window.wangxunState.ready", timeout=30_000)
    state = page.evaluate("window.wangxunState")
    assert state["errors"] == [] and page.js_errors == []
    assert (state["grids"], state["venues"], state["hits"]) == (1, 1, 1)
    assert failed_tiles, "the map should have tried (and failed) to load tiles"

    # The zone's grid with its name, its venue and its hit are drawn without any tile.
    assert page.locator(".wx-grid-label", has_text="平江一网格").count() == 1
    assert page.locator(".wx-grid-label", has_text="沧浪一网格").count() == 0
    # No tile loads, so the map switches to its offline base: the grids on one canvas, the district's
    # and street's outlines on another (tests/webmap/test_map_base.py checks the switch itself).
    page.wait_for_function("() => window.wangxunState.offlineOutlines >= 1", timeout=30_000)  # its street
    assert page.locator(".leaflet-overlay-pane canvas").count() == 2
    assert page.locator(".wx-venue").count() == 1 and page.locator(".wx-hit").count() == 1
    assert "场所 1 家（D级 1）" in page.locator("#wx-totals").inner_text()

    page.locator(".wx-venue").click()
    popup = page.locator(".leaflet-popup-content")
    popup.get_by_text("一户一档").wait_for(timeout=10_000)
    assert "平江网吧" in popup.inner_text() and "责令整改" in popup.inner_text()
    with page.expect_navigation():
        popup.get_by_text("一户一档").click()
    assert page.url.endswith(f"/venues/{users_world.venue_own}") and "检查记录" in page.content()

    for path in (f"/venues/{users_world.venue_other}", f"/map/grid/{users_world.grid_other}"):
        response = page.goto(f"{server}{path}")
        assert response.status == 403 and "无权访问" in page.content()
    response = page.goto(f"{server}/api/hits/{users_world.hit_other}")
    assert response.status == 403
