"""#12 finding 10 — stored XSS in the search hit page's map tooltip (and the server-side template
injection found beside it).

Folium puts a tooltip's string inside a JavaScript template literal, where HTML escaping does not stop
`${…}` or a backtick. Crawled text (title, location name, seller, URL) must never become code: the hit
page's marker tooltip is built from JSON data with textContent, and the main map's popups escape too.

Found while fixing it: branca renders every collected script a second time as a Jinja template, so
`{{ … }}` in a tooltip (crawled location name or title) or in the map page's query string ran Python on
the web server (`{{ cycler.__init__.__globals__.os… }}`). The tests below check both paths stay data.

In real Chromium: no dialog opens, the `window.__pwned` sentinel stays unset, the page has no script
error, and the tooltip and popup show the hostile text literally.
"""

from __future__ import annotations

import threading

import pytest

from core import db
from core.chromium import BROWSER_ARGS
from tests.conftest import CHROMIUM
from tests.helpers import make_grid, make_hit, make_user
from tests.webmap.conftest import PASSWORD
from webmap import create_app

pytestmark = pytest.mark.browser

PWN = "window.__pwned=(window.__pwned||0)+1;alert(1)"
TITLE = "${" + PWN + "}`;" + PWN + ";`</script><script>" + PWN + "</script>"
LOCATION = "姑苏区${" + PWN + '}`-alert(1)-`"><img src=x onerror="' + PWN + '">{{7*7}}\u2028\u2029'
SELLER = "`${" + PWN + "}`</script><svg onload=" + PWN + ">"
URL = "javascript:" + PWN


@pytest.fixture
def hostile(cfg):
    with db.session_scope(cfg) as s:
        grid = make_grid(s, code="320508001001", name="平江一网格", bounds=(120.60, 31.30, 120.62, 31.32))
        hit = make_hit(s, grid, None, TITLE, 120.611, 31.311, location_name=LOCATION, account=SELLER, url=URL)
        make_user(s, "admin", role="admin", password=PASSWORD)
        return hit.id


@pytest.fixture
def server(cfg, hostile):
    from werkzeug.serving import make_server

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
        pg.dialogs, pg.js_errors = [], []
        pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
        pg.on("pageerror", lambda e: pg.js_errors.append(str(e)))
        yield pg
        browser.close()


def _login(page, server):
    page.goto(f"{server}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _assert_nothing_ran(page):
    assert page.dialogs == []
    assert page.evaluate("window.__pwned === undefined")
    assert page.js_errors == []


def test_the_hit_pages_map_tooltip_shows_hostile_text_as_text(server, page, hostile):
    _login(page, server)
    page.goto(f"{server}/hits/{hostile}")
    marker = page.locator(".leaflet-marker-icon").first
    marker.wait_for(timeout=30_000)
    marker.hover()
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for(timeout=10_000)
    assert tooltip.inner_text().replace("\u2028", "").replace("\u2029", "").strip() == LOCATION.replace(
        "\u2028", ""
    ).replace("\u2029", "")
    assert page.locator(".leaflet-tooltip img, .leaflet-tooltip svg, .leaflet-tooltip script").count() == 0
    marker.click()  # a click must not run anything either
    _assert_nothing_ran(page)


def test_the_main_maps_hit_popup_shows_hostile_text_as_text(server, page, hostile):
    _login(page, server)
    page.goto(f"{server}/")
    hit = page.locator(".wx-hit").first  # drawn once /api/hits answered (no wait_for_function: CSP forbids eval)
    hit.wait_for(timeout=30_000)
    hit.click()
    popup = page.locator(".leaflet-popup-content")
    popup.get_by_text("线索详情").wait_for(timeout=10_000)
    text = popup.inner_text()
    assert "</script><script>" in text and SELLER in text
    assert popup.locator("img, svg, script").count() == 0
    _assert_nothing_ran(page)


def test_folium_output_holds_crawled_text_only_as_json_data(cfg):
    """Below the browser: the text is in the script only as js_literal JSON data, never in a template
    literal, and no raw `<`, `>`, `&`, `{{`, U+2028 or U+2029 from it (a `</script>` in data would end
    the script element, a `{{` would be Jinja)."""
    from webmap.services import map_page

    script = map_page.hit_map(cfg, 120.611, 31.311, LOCATION, lambda p: f"/static/{p}")["map_script"]
    assert map_page.js_literal([LOCATION]) in script
    assert "<img" not in script and "</script" not in script.lower() and "{{7" not in script
    assert "\u2028" not in script and "\u2029" not in script
    assert "bindTooltip(`" not in script and "bindPopup(`" not in script


SSTI = "{{ 7 * 191 }}{% if true %}pwn-if{% endif %}{# c #}"  # no quotes: the first pass escapes those


def test_branca_does_not_render_data_as_jinja_a_second_time(cfg):
    """Even a folium element we do not build ourselves keeps `{{ … }}` as text (no second Jinja pass)."""
    import folium

    from webmap.services import map_page

    m = folium.Map(location=[31.3, 120.6], tiles=None)
    folium.Marker([31.3, 120.6], tooltip=SSTI).add_to(m)
    parts = map_page.render_parts(m)
    assert "1337" not in parts["map_script"] and SSTI in parts["map_script"]
    hit = map_page.hit_map(cfg, 120.611, 31.311, SSTI, lambda p: f"/static/{p}")["map_script"]
    assert "1337" not in hit and map_page.js_literal([SSTI]) in hit


@pytest.mark.parametrize("param", ["grid", "date_from", "category", "status"])
def test_the_map_pages_query_string_is_not_run_as_a_template(cfg, hostile, param):
    """A filter value repeated (the first one valid or absent, the next one a template) reached the map's
    options and ran on the server."""
    from tests.webmap.conftest import login

    client = create_app({"TESTING": True}, config=cfg).test_client()
    login(client, "admin")
    first = {"grid": "", "date_from": "2026-01-01", "category": "网吧", "status": "new"}[param]
    r = client.get("/", query_string=[(param, first), (param, SSTI)])
    assert r.status_code in (200, 400)
    assert "1337" not in r.text and "}pwn-if{" not in r.text


def test_no_folium_element_of_ours_is_given_text(cfg):
    """Every Folium element the product builds: no Tooltip, Popup, GeoJsonTooltip or GeoJsonPopup (their
    text lands in template literals), and layer names (Leaflet's layer control shows them as HTML) hold no
    markup."""
    import folium
    from folium.features import GeoJsonPopup, GeoJsonTooltip

    from webmap.services import map_page

    def walk(element):
        yield element
        for child in element._children.values():
            yield from walk(child)

    maps = [
        map_page.build_map(cfg, [[31.30, 120.60], [31.32, 120.64]], {}, {"urls": {}, "query": {}}, str),
        map_page.hit_folium_map(cfg, 120.611, 31.311, LOCATION, str),
    ]
    for m in maps:
        elements = list(walk(m))
        assert not [e for e in elements if isinstance(e, (folium.Tooltip, folium.Popup, GeoJsonTooltip, GeoJsonPopup))]
        names = [e.layer_name for e in elements if getattr(e, "layer_name", None)]
        assert names and not [n for n in names if any(c in n for c in "<>&\"'`$")], names
