"""The Folium map and the JSON APIs behind its layers: rendering, zone filtering, filters, GCJ-02."""

from __future__ import annotations

import json

import pytest

from grids import coords
from tests.conftest import make_config
from tests.webmap.conftest import PASSWORD
from webmap import create_app
from webmap.services import map_page


def _login(app, username):
    c = app.test_client()
    assert c.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return c


@pytest.fixture
def app(cfg, users_world):
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, config=cfg)


def _has(html: str, text: str) -> bool:
    """Folium writes names through tojson, which escapes Chinese as \\uXXXX."""
    return text in html or json.dumps(text)[1:-1] in html


def _render(app, cfg, **options):
    """The map service needs no request: the view hands it the static files' URLs."""
    options = {"urls": {}, "query": {}, **options}
    m = map_page.build_map(cfg, [[31.30, 120.60], [31.32, 120.64]], {}, options, lambda path: f"/static/{path}")
    return m.get_root().render()


def test_map_html_has_layers_control_and_only_vendored_assets(app, cfg):
    html = _render(app, cfg)
    for name in (
        "网格 · 按线索数着色",
        "网格 · 按D级场所占比着色",
        "场所 · 网吧",
        "场所 · 泳池",
        "在线线索 · 聚合点",
        "在线线索 · 热力图",
        "无底图（离线）",
    ):
        assert _has(html, name), name
    assert "L.control.layers" in html and "Wangxun.init(" in html and "L.heatLayer" in html
    assert "/static/vendor/leaflet/leaflet.js" in html and "/static/vendor/markercluster/" in html
    assert "/static/vendor/heat/leaflet-heat.js" in html
    scripts = [line for line in html.splitlines() if "<script src=" in line or "<link rel=" in line]
    assert scripts and all("/static/" in line for line in scripts), scripts  # nothing from a CDN
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in html
    assert "A级（低风险）" in html and "D级场所占比" in html  # legend


@pytest.mark.parametrize(
    "provider, crs, in_html",
    [
        ("osm", "wgs84", "tile.openstreetmap.org"),
        ("amap", "gcj02", "autonavi.com"),
        ("tianditu", "wgs84", "tianditu.gov.cn"),
        ("intranet", "gcj02", "10.0.0.5/tiles"),
        ("none", "wgs84", None),
    ],
)
def test_tile_providers_from_config(tmp_path, provider, crs, in_html):
    cfg = make_config(
        tmp_path,
        **{
            "webmap.tile_provider": provider,
            "webmap.tianditu_key": "abc123",
            "webmap.intranet_tile_url": "http://10.0.0.5/tiles/{z}/{x}/{y}.png",
            "webmap.intranet_tile_crs": "gcj02",
        },
    )
    app = create_app({"TESTING": True}, config=cfg)
    assert map_page.display_crs(cfg) == crs
    html = _render(app, cfg)
    if in_html:
        assert in_html in html and "L.tileLayer" in html
    else:
        assert "L.tileLayer" not in html  # offline: grids and venues on a plain background
    if provider == "tianditu":
        assert "tk=abc123" in html and "cva_w" in html  # labels layer too


def test_tianditu_without_key_runs_offline(tmp_path):
    cfg = make_config(tmp_path, **{"webmap.tile_provider": "tianditu"})
    assert map_page.tile_spec(cfg) is None


def test_map_page_shows_zone_and_passes_filters_to_the_apis(app, users_world):
    html = _login(app, "gm_own").get("/?category=网吧&grade=D").text
    assert "我的网格" in html and "平江一网格" in html and "沧浪一网格" not in html
    # 待办: the open clue in the zone is listed, the other zone's is not
    assert "平江路低价一日游" in html and "沧浪盗版教辅" not in html
    assert '"category": "网吧"' in html and '"grade": "D"' in html  # map_page.js_literal keeps CJK as is
    admin = _login(app, "admin").get("/").text
    assert "全区一张图" in admin and "沧浪一网格" in admin


def test_apis_are_zone_filtered(app, users_world):
    gm, admin = _login(app, "gm_own"), _login(app, "admin")
    ids = lambda r: sorted(r.get_json()["id"])  # noqa: E731
    assert ids(gm.get("/api/venues")) == [users_world.venue_own]
    assert ids(admin.get("/api/venues")) == sorted([users_world.venue_own, users_world.venue_other])
    grids = json.loads(gm.get("/api/grids").data)
    assert [f["properties"]["code"] for f in grids["features"]] == ["320508001001"]
    assert grids["features"][0]["properties"]["d_venues"] == 1 and grids["features"][0]["properties"]["hits"] == 1
    assert [r[0] for r in gm.get("/api/hits").get_json()["rows"]] == [users_world.hit_own]
    streets = json.loads(gm.get("/api/grids?level=street").data)
    assert [f["properties"]["code"] for f in streets["features"]] == ["320508001"]
    # a street of the grid manager's own zone is allowed (all its grids are theirs)
    assert ids(gm.get(f"/api/venues?grid={users_world.street_own}")) == [users_world.venue_own]


def test_venue_filters_and_bbox(app, users_world):
    admin = _login(app, "admin")
    assert admin.get("/api/venues?category=书店与出版物零售").get_json()["id"] == [users_world.venue_other]
    assert admin.get("/api/venues?grade=D").get_json()["id"] == [users_world.venue_own]
    assert admin.get("/api/venues?bbox=120.600,31.300,120.615,31.320").get_json()["id"] == [users_world.venue_own]
    assert admin.get("/api/hits?date_from=2026-06-01").get_json()["rows"] == []
    assert len(admin.get("/api/hits?date_from=2026-05-01&date_to=2026-05-01").get_json()["rows"]) == 2
    assert admin.get("/api/venues?grade=E").status_code == 400
    assert admin.get("/api/venues?bbox=1,2,3").status_code == 400
    assert admin.get("/api/hits?date_from=yesterday").status_code == 400


def test_venue_payload_decodes_and_geojson_format(app, users_world):
    admin = _login(app, "admin")
    data = admin.get("/api/venues").get_json()
    i = data["id"].index(users_world.venue_own)
    assert (data["lon"][i] / data["scale"], data["lat"][i] / data["scale"]) == (120.61, 31.31)
    assert data["categories"][int(data["category"][i])] == "网吧" and data["grade"][i] == "D"
    fc = admin.get("/api/venues?format=geojson").get_json()
    own = next(f for f in fc["features"] if f["id"] == users_world.venue_own)
    assert own["geometry"]["coordinates"] == [120.61, 31.31] and own["properties"]["category"] == "网吧"


def test_zoomed_out_views_get_server_side_clusters(tmp_path, users_world, cfg):
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "webmap.cluster_above": 1}, config=cfg)
    admin = _login(app, "admin")
    data = admin.get("/api/venues?zoom=10").get_json()
    assert data["mode"] == "clusters" and data["count"] == 2
    by_cat = {data["categories"][r[3]]: r for r in data["rows"]}
    assert by_cat["网吧"][2] == 1 and by_cat["网吧"][4] == "D"  # count and worst grade
    gm = _login(app, "gm_own").get("/api/venues?zoom=10").get_json()
    assert gm["count"] == 1  # clusters are zone-filtered too
    near = admin.get("/api/venues?zoom=18").get_json()
    assert near["mode"] == "points" and near["count"] == 2


def test_gcj02_tiles_get_converted_coordinates(tmp_path, cfg, users_world):
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "webmap.tile_provider": "amap"}, config=cfg)
    admin = _login(app, "admin")
    data = admin.get("/api/venues").get_json()
    i = data["id"].index(users_world.venue_own)
    glon, glat = coords.wgs84_to_gcj02(120.61, 31.31)
    assert abs(data["lon"][i] / 1e6 - float(glon)) < 2e-6 and abs(data["lat"][i] / 1e6 - float(glat)) < 2e-6
    assert abs(float(glon) - 120.61) > 0.003  # the shift is real (hundreds of metres)
    # a bbox drawn on GCJ-02 tiles around the shifted point still finds the venue
    bbox = f"{float(glon) - 0.001},{float(glat) - 0.001},{float(glon) + 0.001},{float(glat) + 0.001}"
    assert admin.get(f"/api/venues?bbox={bbox}").get_json()["id"] == [users_world.venue_own]
    grid = json.loads(admin.get("/api/grids").data)["features"][0]["geometry"]["coordinates"][0][0]
    assert abs(grid[0] - 120.60) > 0.003  # polygons are converted as well


def test_popup_apis_are_audited(app, users_world, cfg):
    from core import db
    from core.models import AuditLog

    gm = _login(app, "gm_own")
    v = gm.get(f"/api/venues/{users_world.venue_own}").get_json()
    assert (
        v["name"] == "平江网吧"
        and v["inspections"][0]["result"] == "责令整改"
        and v["url"].endswith(f"/venues/{v['id']}")
    )
    h = gm.get(f"/api/hits/{users_world.hit_own}").get_json()
    assert h["label_names"] == ["未经许可经营旅行社业务"] and h["grid_name"] == "平江一网格"
    with db.session_scope(cfg) as s:
        views = [(a.username, a.action, a.object_type, a.object_id) for a in s.query(AuditLog).filter_by(action="view")]
    assert views == [
        ("gm_own", "view", "venue", str(users_world.venue_own)),
        ("gm_own", "view", "hit", str(users_world.hit_own)),
    ]


def test_map_page_lists_unanswered_spot_checks_of_the_zone(app, users_world, cfg):
    import datetime as dt

    from core import db
    from tests.helpers import make_draw, make_inspection

    with db.session_scope(cfg) as s:
        make_draw(s, [users_world.venue_own, users_world.venue_other], at=dt.datetime(2026, 6, 1, 2, 0))
    html = _login(app, "gm_own").get("/").text
    assert "待办抽查" in html and "平江网吧" in html and "沧浪书店" not in html
    with db.session_scope(cfg) as s:  # inspected after the draw: no longer waiting
        make_inspection(s, users_world.venue_own, dt.date(2026, 6, 3))
    assert "平江网吧" not in _login(app, "gm_own").get("/").text.split("待办抽查")[1]
