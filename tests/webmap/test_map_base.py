"""The map's readability and its offline base (#15 items 10 and 11), in headless Chromium.

- Unreachable tiles (an intranet): the map notices, switches to the offline base (the district's and
  streets' outlines with the street names), says so, and remembers the choice for this user; switching
  back in the layer control is remembered too. Reachable tiles (a loopback tile server) keep the tiles.
- Clusters: hit clusters in the hits' colour, venue clusters as a ring of their grade mix; never the
  plugin's default green/yellow/orange.
- The layer panel starts collapsed; the legend never covers an open popup; the map badge says it
  counts what is in view, and a grid's own page does not call itself 全区一张图.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core import db
from core.chromium import BROWSER_ARGS
from grids import coords
from tests.conftest import CHROMIUM
from tests.helpers import make_grid, make_hit, make_user, make_venue, serving
from tests.webmap.conftest import PASSWORD, login
from webmap import create_app

# A 1×1 PNG: what a tile server answers (the browser scales it).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f1a1e10000000049454e44ae426082"
)
GRADES = ("A", "B", "C", "D", None)


@pytest.fixture
def world(cfg):
    with db.session_scope(cfg) as s:
        district = make_grid(s, code="320508", name="姑苏区", level="district", bounds=(120.58, 31.28, 120.66, 31.34))
        st1 = make_grid(
            s, code="320508001", name="平江街道", level="street", parent=district, bounds=(120.60, 31.30, 120.62, 31.32)
        )
        st2 = make_grid(
            s, code="320508002", name="沧浪街道", level="street", parent=district, bounds=(120.62, 31.30, 120.64, 31.32)
        )
        g1 = make_grid(s, code="320508001001", name="平江一网格", parent=st1, bounds=(120.60, 31.30, 120.62, 31.32))
        make_grid(s, code="320508002001", name="沧浪一网格", parent=st2, bounds=(120.62, 31.30, 120.64, 31.32))
        for n in range(30):  # close together: they cluster at the district's zoom
            make_venue(
                s, grid=g1, name=f"网吧{n}", lon=120.61 + n * 1e-5, lat=31.31, risk_grade=GRADES[n % len(GRADES)]
            )
        for n in range(12):
            make_hit(s, g1, None, f"低价一日游{n}", 120.611 + n * 1e-5, 31.311)
        make_user(s, "admin", role="admin", password=PASSWORD)
        return {"grid": g1.id}


class _Tiles(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args):
        pass


@pytest.fixture
def tile_server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    srv.server_close()


def _app(cfg, tile_url: str):
    return create_app({"webmap.tile_provider": "custom", "webmap.tile_url": tile_url}, config=cfg)


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=list(BROWSER_ARGS))
        yield b
        b.close()


def _open_map(browser, base: str, path: str = "/"):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/login?next=/admin/jobs")  # not the map: its first visit is the one below
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{base}{path}")
    page.wait_for_function("() => window.wangxunState && window.wangxunState.ready", timeout=30_000)
    return page, errors


def _state(page, key: str):
    return page.evaluate(f"window.wangxunState[{key!r}]")


pytestmark = pytest.mark.browser


def test_unreachable_tiles_switch_to_the_offline_base_and_the_choice_is_remembered(cfg, world, browser):
    # Port 9 (discard) on loopback refuses connections: every tile fails, as on an intranet.
    with serving(_app(cfg, "http://127.0.0.1:9/{z}/{x}/{y}.png")) as base:
        page, errors = _open_map(browser, base)
        page.wait_for_function("() => window.wangxunState.basemap === 'offline'", timeout=30_000)
        page.wait_for_function("() => window.wangxunState.offlineOutlines >= 3", timeout=30_000)  # district + 2 streets
        notice = page.locator(".wx-notice")
        assert "底图瓦片无法加载" in notice.inner_text() and notice.is_visible()
        assert page.locator(".wx-street-label", has_text="平江街道").count() == 1
        assert _state(page, "tilesFailed") >= 4 and errors == []

        # Next visit: offline from the start, saying why; no waiting on failing tiles.
        page.reload()
        page.wait_for_function("() => window.wangxunState && window.wangxunState.ready", timeout=30_000)
        assert _state(page, "basemap") == "offline"
        assert "上次的选择" in page.locator(".wx-notice").inner_text()

        # Switching back to the tiles in the layer control is remembered as well.
        page.locator(".leaflet-control-layers").hover()
        page.get_by_label("底图", exact=True).check()
        page.wait_for_function("() => window.wangxunState.basemap === 'tiles'", timeout=10_000)
        assert not page.locator(".wx-notice").is_visible()
        kept = page.evaluate("Object.entries(localStorage).filter(e => e[0].startsWith('wangxun.basemap.'))")
        assert [value for _key, value in kept] == ["tiles"]


def test_reachable_tiles_stay_and_the_map_reads_well(cfg, world, browser, tile_server):
    with serving(_app(cfg, tile_server + "/{z}/{x}/{y}.png")) as base:
        page, errors = _open_map(browser, base)
        page.wait_for_function("() => window.wangxunState.tilesLoaded > 0", timeout=30_000)
        assert _state(page, "basemap") == "tiles" and not page.locator(".wx-notice").is_visible()

        # The layer panel starts collapsed; the badge says it counts what is in view.
        assert page.locator(".leaflet-control-layers-expanded").count() == 0
        assert page.locator(".wx-status").inner_text().startswith("视野内")
        assert "网格内合计" in page.locator("aside").inner_text()

        # Clusters in their own styles, none in the plugin's default colours.
        page.wait_for_function("() => document.querySelectorAll('.wx-vcluster').length > 0", timeout=30_000)
        assert page.locator(".wx-hcluster").count() >= 1
        assert page.locator(".marker-cluster-small, .marker-cluster-medium, .marker-cluster-large").count() == 0
        ring = page.locator(".wx-vcluster span").first.get_attribute("style")
        assert "conic-gradient" in ring and ring.count("deg") >= 2 * 5  # five grade shares, two stops each
        assert "D级 6" in page.locator(".wx-vcluster span").first.get_attribute("title")

        # The legend steps aside while a popup is open.
        legend = page.locator(".wx-legend")
        assert legend.is_visible()
        page.locator(".wx-vcluster").first.click()  # zooms in until the venues show
        page.locator(".wx-venue").first.wait_for(timeout=30_000)
        page.locator(".wx-venue").first.click()
        page.locator(".leaflet-popup-content").get_by_text("一户一档").wait_for(timeout=10_000)
        assert not legend.is_visible()
        page.locator(".leaflet-popup-close-button").click()
        assert legend.is_visible() and errors == []


def test_a_grid_page_names_its_grid_not_the_whole_district(cfg, world):
    client = _app(cfg, "http://127.0.0.1:9/{z}/{x}/{y}.png").test_client()
    login(client, "admin")
    whole, grid = client.get("/").text, client.get(f"/map/grid/{world['grid']}").text
    assert "全区一张图" in whole
    assert "全区一张图" not in grid and "平江一网格 · 网格地图" in grid


def test_imported_roads_are_drawn_on_the_offline_base_with_names_when_zoomed_in(cfg, world, browser, tmp_path):
    from grids.importers.roads import import_roads

    roads = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": "测试东路"},
             "geometry": {"type": "LineString", "coordinates": [[120.600, 31.305], [120.640, 31.305]]}},
            {"type": "Feature", "properties": {"name": "测试北街"},
             "geometry": {"type": "LineString", "coordinates": [[120.611, 31.300], [120.611, 31.320]]}},
        ],
    }  # fmt: skip
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps(roads, ensure_ascii=False), encoding="utf-8")
    with db.session_scope(cfg) as s:
        import_roads(s, path)
    with serving(_app(cfg, "http://127.0.0.1:9/{z}/{x}/{y}.png")) as base:
        page, errors = _open_map(browser, base)
        page.wait_for_function("() => window.wangxunState.offlineRoads === 2", timeout=30_000)
        labels = page.locator(".wx-road-label")
        assert labels.count() == 2 and sorted(labels.all_text_contents()) == ["测试东路", "测试北街"]
        if not _state(page, "roadNames"):  # at the district's zoom the names would cover the map
            assert not labels.first.is_visible()
        for _ in range(8):  # bounded: zoom in until the names show
            if _state(page, "roadNames"):
                break
            zoom = _state(page, "roadZoom")
            page.locator(".leaflet-control-zoom-in").click()
            page.wait_for_function(f"() => window.wangxunState.roadZoom > {zoom}", timeout=10_000)
        assert _state(page, "roadNames") is True
        page.locator(".wx-road-label", has_text="测试北街").wait_for(state="visible", timeout=10_000)
        assert errors == []


def test_the_roads_api_gives_the_display_crs(cfg, world, tmp_path):
    from grids.importers.roads import import_roads

    line = {"type": "LineString", "coordinates": [[120.60, 31.305], [120.64, 31.305]]}
    path = tmp_path / "roads.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {"name": "干将东路"}, "geometry": line}],
            }
        )
    )
    with db.session_scope(cfg) as s:
        import_roads(s, path)
    wgs = _app(cfg, "http://127.0.0.1:9/{z}/{x}/{y}.png").test_client()
    login(wgs, "admin")
    assert wgs.get("/api/roads").json["features"][0]["geometry"] == line
    gcj = create_app({"webmap.tile_provider": "amap"}, config=cfg).test_client()
    login(gcj, "admin")
    data = gcj.get("/api/roads").json
    assert data["crs_name"] == "gcj02" and data["features"][0]["properties"] == {"name": "干将东路"}
    start = data["features"][0]["geometry"]["coordinates"][0]
    assert start == pytest.approx(list(coords.wgs84_to_gcj02(120.60, 31.305)), abs=1e-9)
