"""The Folium map of the 一张图 page: base tiles from config, empty layer containers that
static/js/map.js fills from the JSON APIs by bounding box, legends, and the layer control.

Folium draws the map, tiles, marker-cluster groups, heat layer, legends and layer control; the points
themselves are fetched by the browser (100,000 inline markers would make a 30 MB page), so the HTML stays
a few kilobytes whatever the number of venues. Every script and style is served from
webmap/static/vendor/: the map works on an intranet with no internet and with no tiles at all.

No Flask here: the view passes `static_url` (a static file's path -> its URL) and the API URLs in.

Crawled text and request values never become code here (#12): Folium writes a tooltip's or popup's text
into a JavaScript template literal (where `${…}` and a backtick run), and branca renders every script it
collected a second time as a Jinja template (where `{{ … }}` runs Python on the server). So data enters a
script only through `js_literal` (JSON with `<`, `>`, `&`, `{`, `}`, U+2028 and U+2029 written as \\u
escapes), the hit page's tooltip is set with textContent (`TextTooltip`), and `render_parts` joins the
rendered code without branca's second Jinja pass. No folium Tooltip/Popup/GeoJsonTooltip is given text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import folium
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import HeatMap, MarkerCluster
from folium.template import Template

from core.errors import ConfigError
from core.i18n import N_
from core.vocabulary import GRADE, GRADES, HIT_LABEL, HIT_LABELS, VENUE_CATEGORIES
from webmap.services import map_data, tasks

CATEGORY_GLYPHS = {
    "网吧": "网",
    "歌舞娱乐": "歌",
    "游艺": "游",
    "演出场所": "演",
    "书店与出版物零售": "书",
    "印刷": "印",
    "旅行社": "旅",
    "泳池": "泳",
}
OFFLINE_LAYER = N_("无底图（离线）")


@dataclass(frozen=True)
class TileSpec:
    name: str
    url: str
    attribution: str
    crs: str  # "wgs84" | "gcj02": the data is converted to this before it reaches the browser
    subdomains: str = "abc"
    overlay_url: str | None = None  # 天地图 draws labels on a second layer


def tile_spec(cfg) -> TileSpec | None:
    """The configured base map, or None when no tile source is usable (the map then runs offline)."""
    w = cfg.webmap
    provider = w.tile_provider
    if provider == "osm":
        return TileSpec(
            "OpenStreetMap", "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors", "wgs84"
        )
    if provider == "amap":
        return TileSpec(
            N_("高德地图"),
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            "© 高德地图 AutoNavi",
            "gcj02",
            subdomains="1234",
        )
    if provider == "tianditu":
        if not w.tianditu_key:
            return None
        base = (
            "https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=%s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk="
            + w.tianditu_key
        )
        return TileSpec(
            N_("天地图"),
            base % ("vec", "vec"),
            "© 天地图 国家地理信息公共服务平台",
            "wgs84",
            subdomains="01234567",
            overlay_url=base % ("cva", "cva"),
        )
    if provider == "intranet":
        if not w.intranet_tile_url:
            return None
        return TileSpec(N_("内网底图"), w.intranet_tile_url, "内网瓦片服务", _crs(w.intranet_tile_crs))
    if provider == "custom":
        return TileSpec(N_("底图"), w.tile_url, w.tile_attribution, _crs(w.tile_crs))
    if provider == "none":
        return None
    raise ConfigError(f"webmap.tile_provider={provider!r}: use osm, amap, tianditu, intranet, custom or none")


def display_crs(cfg) -> str:
    spec = tile_spec(cfg)
    return spec.crs if spec else "wgs84"


def _crs(value: str) -> str:
    value = value.lower().replace("-", "")
    if value not in ("wgs84", "gcj02"):
        raise ConfigError(f"tile coordinate system {value!r}: use wgs84 or gcj02")
    return value


_JS_STRING_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "{": "\\u007b",
        "}": "\\u007d",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def js_literal(value) -> str:
    """`value` (str, number, bool, None, list, tuple, dict with str keys) as a JavaScript literal that is
    data wherever an inline <script> puts it: every string is JSON with U+2028, U+2029 and
    `<`, `>`, `&`, `{`, `}` as \\u escapes, so neither the HTML parser (`</script>`), nor a template
    literal, nor Jinja (`{{`, `{%`, `{#`) can find code in it. Structural braces are never doubled."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).translate(_JS_STRING_ESCAPES)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{js_literal(str(k))}: {js_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(js_literal(v) for v in value) + "]"
    if value is None or isinstance(value, (bool, int, float)):
        return json.dumps(value, allow_nan=False)
    raise TypeError(f"js_literal: {type(value).__name__} is not JSON data")


class TextTooltip(MacroElement):
    """A tooltip on its parent marker whose lines are data, never markup or code: they reach the script as
    `js_literal` JSON and the page through textContent (Folium's Tooltip would put them in a template
    literal as HTML)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            (function (lines) {
                var box = document.createElement("div");
                lines.forEach(function (line) {
                    var row = document.createElement("div");
                    row.textContent = line;
                    box.appendChild(row);
                });
                {{ this._parent.get_name() }}.bindTooltip(box, {sticky: true});
            })({{ this.lines_js }});
        {% endmacro %}
    """)

    def __init__(self, lines: list[str]):
        super().__init__()
        self._name = "TextTooltip"
        self.lines_js = js_literal([str(line) for line in lines if line])


def _vendor(element, static_url, js: list[tuple[str, str]], css: list[tuple[str, str]] = ()) -> None:
    """Folium's CDN links swapped for our copies (class attributes are shared, so set per instance)."""
    element.default_js = [(n, static_url(p)) for n, p in js]
    element.default_css = [(n, static_url(p)) for n, p in css]


class WangxunLayers(JSCSSMixin, MacroElement):
    """Hands the Folium layer objects to static/js/map.js, which fills them from the APIs."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            Wangxun.init({{ this._parent.get_name() }}, {
                venueGroups: { {%- for cat, layer in this.venue_groups.items() %}
                    {{ cat|tojson }}: {{ layer.get_name() }},{% endfor %} },
                hitCluster: {{ this.hit_cluster.get_name() }},
                hitHeat: {{ this.hit_heat.get_name() }},
                gridHits: {{ this.grid_hits.get_name() }},
                gridDShare: {{ this.grid_dshare.get_name() }},
                tiles: [{% for t in this.tiles %}{{ t.get_name() }},{% endfor %}],
                offline: {{ this.offline.get_name() }},
                options: {{ this.options_js }}
            });
        {% endmacro %}
    """)

    def __init__(self, venue_groups, hit_cluster, hit_heat, grid_hits, grid_dshare, options: dict, static_url):
        super().__init__()
        self._name = "WangxunLayers"
        self.venue_groups, self.hit_cluster, self.hit_heat = venue_groups, hit_cluster, hit_heat
        self.grid_hits, self.grid_dshare, self.options = grid_hits, grid_dshare, options
        self.options_js = js_literal(options)  # holds request values (filters): data, never code
        self.tiles, self.offline = [], None  # set by build_map: the base layers map.js watches
        _vendor(
            self,
            static_url,
            [("markerclusterjs", "vendor/markercluster/leaflet.markercluster.js"), ("wangxun_map_js", "js/map.js")],
            [
                ("markerclustercss", "vendor/markercluster/MarkerCluster.css"),
                ("markerclusterdefaultcss", "vendor/markercluster/MarkerCluster.Default.css"),
                ("wangxun_map_css", "css/map.css"),
            ],
        )


def _same(message_id: str) -> str:
    return message_id


def build_map(cfg, bounds, stats: dict, options: dict, static_url, translate=_same) -> folium.Map:
    """A Folium map with empty, named layers; `options` (API URLs, query, colours) goes to map.js.
    `translate` gives a message id in the user's language (layer names, the legend)."""
    tr = translate
    crs = display_crs(cfg)
    center, zoom = _view(cfg, bounds)
    m = folium.Map(location=center, zoom_start=zoom, tiles=None, control_scale=True, max_zoom=19)
    m.options["max_zoom"] = 19  # folium gives maxZoom only to tile layers; clustering needs it on the map
    _leaflet(m, static_url)
    tiles, offline = _add_base_layers(cfg, m, tr)
    grid_hits = folium.FeatureGroup(name=tr(N_("网格 · 按线索数着色")), show=True).add_to(m)
    grid_dshare = folium.FeatureGroup(name=tr(N_("网格 · 按D级场所占比着色")), show=False).add_to(m)
    # One layer per category; map.js puts server-side cluster bubbles or a client marker cluster in it.
    venue = tr(N_("场所"))
    venue_groups = {cat: folium.FeatureGroup(name=f"{venue} · {tr(cat)}").add_to(m) for cat in VENUE_CATEGORIES}
    hit_cluster = MarkerCluster(name=tr(N_("在线线索 · 聚合点")), options={"chunkedLoading": True}).add_to(m)
    _vendor_cluster(hit_cluster, static_url)
    hit_heat = HeatMap([], name=tr(N_("在线线索 · 热力图")), show=False, radius=22, blur=16, min_opacity=0.35)
    hit_heat.add_to(m)
    _vendor(hit_heat, static_url, [("leaflet-heat.js", "vendor/heat/leaflet-heat.js")])
    m.add_child(_legend(map_data.colormaps(stats), tr))
    options = {
        **options,
        "crs": crs,
        "bounds": _display_bounds(bounds, crs),
        "gradeColors": {k or "none": v for k, v in map_data.GRADE_COLORS.items()},
        "glyphs": CATEGORY_GLYPHS,
        "labels": HIT_LABELS,
        "labelNames": HIT_LABEL,
    }
    layers = WangxunLayers(venue_groups, hit_cluster, hit_heat, grid_hits, grid_dshare, options, static_url)
    layers.tiles, layers.offline = tiles, offline
    m.add_child(layers)
    # Collapsed: opened, the list of 14 layers covered a third of the map.
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    return m


def hit_map(cfg, lon: float, lat: float, tooltip: str, static_url) -> dict[str, str]:
    """A small map of one hit's location (the hit page), converted for GCJ-02 tiles. `tooltip` is plain
    text (crawled: hostile), shown as text; do not HTML-escape it first."""
    return render_parts(hit_folium_map(cfg, lon, lat, tooltip, static_url))


def hit_folium_map(cfg, lon: float, lat: float, tooltip: str, static_url) -> folium.Map:
    """The Folium map of `hit_map`, before rendering."""
    from webmap.services.geo import points_to_display

    lons, lats = points_to_display([lon], [lat], display_crs(cfg))
    where = [float(lats[0]), float(lons[0])]
    m = folium.Map(location=where, zoom_start=16, tiles=None, width="100%", height=260)
    _leaflet(m, static_url)
    _add_base_layers(cfg, m)
    marker = folium.Marker(where).add_to(m)
    marker.add_child(TextTooltip([tooltip]))
    return m


def _leaflet(m: folium.Map, static_url) -> None:
    _vendor(m, static_url, [("leaflet", "vendor/leaflet/leaflet.js")], [("leaflet_css", "vendor/leaflet/leaflet.css")])


def _vendor_cluster(cluster: MarkerCluster, static_url) -> None:
    _vendor(
        cluster,
        static_url,
        [("markerclusterjs", "vendor/markercluster/leaflet.markercluster.js")],
        [
            ("markerclustercss", "vendor/markercluster/MarkerCluster.css"),
            ("markerclusterdefaultcss", "vendor/markercluster/MarkerCluster.Default.css"),
        ],
    )


def _add_base_layers(cfg, m: folium.Map, tr=_same) -> tuple[list, folium.FeatureGroup]:
    """The configured tile layers (none without a tile source) and the offline base layer, which
    static/js/map.js fills with the district's and streets' outlines and switches to when no tile
    loads."""
    spec = tile_spec(cfg)
    tiles = []
    if spec is not None:
        tiles.append(
            folium.TileLayer(
                tiles=spec.url,
                attr=spec.attribution,
                name=tr(spec.name),
                subdomains=spec.subdomains,
                max_zoom=19,
                max_native_zoom=18,
                overlay=False,
                control=True,
            ).add_to(m)
        )
        if spec.overlay_url:
            tiles.append(
                folium.TileLayer(
                    tiles=spec.overlay_url,
                    attr=spec.attribution,
                    name=tr(N_("%(name)s注记")) % {"name": tr(spec.name)},
                    subdomains=spec.subdomains,
                    overlay=True,
                    control=True,
                ).add_to(m)
            )
    # Grids and venues stay readable on a plain background when the tile server is unreachable.
    offline = folium.FeatureGroup(name=tr(OFFLINE_LAYER), overlay=False, control=True, show=spec is None).add_to(m)
    return tiles, offline


def _view(cfg, bounds) -> tuple[list[float], int]:
    center = list(cfg.webmap.map_center)
    if bounds:
        (s, w), (n, e) = bounds
        return [(s + n) / 2, (w + e) / 2], int(cfg.webmap.map_zoom)
    if len(center) == 2:
        return [center[1], center[0]], int(cfg.webmap.map_zoom)
    return [31.30, 120.62], int(cfg.webmap.map_zoom)


def _display_bounds(bounds, crs: str):
    if not bounds:
        return None
    from webmap.services.geo import points_to_display

    (s, w), (n, e) = bounds
    lons, lats = points_to_display([w, e], [s, n], crs)
    return [[float(lats[0]), float(lons[0])], [float(lats[1]), float(lons[1])]]


def _legend(cmaps: dict, tr=_same) -> MacroElement:
    """Grade colours and both choropleth scales as plain HTML (branca's own legend needs d3 from a CDN)."""
    grades = "".join(f'<li><i style="background:{map_data.GRADE_COLORS[g]}"></i>{tr(GRADE[g])}</li>' for g in GRADES)
    legend, not_graded = tr(N_("图例")), tr(N_("未评级"))
    by_grade, by_hits, by_share = tr(N_("场所风险等级")), tr(N_("网格线索数")), tr(N_("D级场所占比"))
    grades += f'<li><i style="background:{map_data.GRADE_COLORS[None]}"></i>{not_graded}</li>'
    hits = _steps(cmaps["hits"], lambda a, b: f"{int(a)}–{int(b) - 1}" if b - a > 1 else f"{int(a)}")
    dshare = _steps(cmaps["d_share"], lambda a, b: f"{a:.0%}–{b:.0%}")
    html = (
        f'<details class="wx-legend" open><summary>{legend}</summary><b>{by_grade}</b><ul>{grades}</ul>'
        f"<b>{by_hits}</b><ul>{hits}</ul><b>{by_share}</b><ul>{dshare}</ul></details>"
    )
    macro = MacroElement()
    macro._template = Template(
        """
        {% macro script(this, kwargs) %}
            (function () {
                var legend = L.control({position: "bottomleft"});
                legend.onAdd = function () { var d = L.DomUtil.create("div"); d.innerHTML = """
        + js_literal(html)
        + """; return d; };
                legend.addTo({{ this._parent.get_name() }});
            })();
        {% endmacro %}
    """
    )
    return macro


def _steps(cmap, label) -> str:
    idx = cmap.index
    return "".join(
        f'<li><i style="background:{cmap.rgb_hex_str((idx[i] + idx[i + 1]) / 2)}"></i>{label(idx[i], idx[i + 1])}</li>'
        for i in range(len(idx) - 1)
    )


def render_parts(m: folium.Map) -> dict[str, str]:
    """The map's <head> links, its <div> and its script, to place inside base.html."""
    root = m.get_root()
    root.render()
    return {"map_header": _joined(root.header), "map_html": _joined(root.html), "map_script": _joined(root.script)}


def _joined(section) -> str:
    """A figure section's code as rendered once. branca 0.8 keeps each element's rendered code as a plain
    Element whose template *is* that code, and `section.render()` would run it through Jinja again: any
    `{{ … }}` in data would then execute on the server. Join that code as it is instead; other children
    (script and style links) render normally. Checked by tests/security/test_tooltip_xss.py."""
    out = []
    for child in section._children.values():
        code = child._template_str if type(child) is Element else None
        out.append(code if code is not None else child.render())
    return "\n    ".join(out)


def map_page(
    cfg, session, zone, f: map_data.MapFilters, query: dict, urls: dict, static_url, user_key: str = "", translate=_same
) -> dict:
    """Everything the map page template needs: the rendered map and the side panel's data. `urls` are
    the layer APIs map.js calls (grids, streets, district, venues, hits, venue, hit, gridMap);
    `user_key` names the user whose base-map choice map.js remembers in the browser; `translate` gives a
    message id in the user's language (the layer names and the legend)."""
    bounds = map_data.zone_bounds(session, zone, f.grid_ids) or map_data.zone_bounds(session, None)
    stats = map_data.grid_stats(session, zone, f, venues=False)  # hit counts fix the legend; the
    # venue statistics arrive with /api/grids, so the page does not scan every venue twice
    m = build_map(cfg, bounds, stats, {"urls": urls, "query": query, "user": user_key}, static_url, translate)
    grids = map_data.grid_choices(session, zone)
    return {
        **render_parts(m),
        "grids": grids,
        "query": query,
        "filters": f,
        "zone_is_all": zone is None,
        "categories": VENUE_CATEGORIES,
        "grades": GRADES,
        "pending": map_data.pending_clues(session, zone),
        "outside": map_data.outside_hits(session, zone),
        "tiles": tile_spec(cfg),
        "spot_checks": tasks.pending_spot_checks(session, zone),
        "selected_grid": f.extra.get("grid"),
        "selected_grid_name": map_data.grid_name(session, f.extra.get("grid")),
    }
