"""一张图: the map page and the JSON APIs behind its layers (all zone-filtered on the server)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request, url_for

from webmap import zones
from webmap.auth import current_user, login_required
from webmap.dbsession import get_session
from webmap.i18n import gettext as _
from webmap.services import clusters, map_data, map_page
from webmap.services import venues as venue_service
from webmap.views import params
from webmap.views.loaders import load_venue
from webmap.views.urls import static_url

bp = Blueprint("map", __name__)


def _json(payload: dict) -> Response:
    return current_app.response_class(map_data.dumps(payload), mimetype="application/json")


@bp.route("/")
@login_required
def index():
    return _page(params.filters(request.args), params.passthrough(request.args))


@bp.route("/map/grid/<int:grid_id>")
@login_required
def grid_map(grid_id: int):
    return _page(params.filters(request.args, grid_id=grid_id), params.passthrough(request.args, grid_id))


def _page(f, query: dict):
    urls = {
        "grids": url_for("map.api_grids"),
        "roads": url_for("map.api_roads"),
        "venues": url_for("map.api_venues"),
        "hits": url_for("map.api_hits"),
        "venue": url_for("map.api_venue", venue_id=0),
        "hit": url_for("hits.api_hit", hit_id=0),
        "gridMap": url_for("map.grid_map", grid_id=0),
    }
    user = current_user()
    page = map_page.map_page(
        g.cfg, get_session(), zones.allowed_grid_ids(), f, query, urls, static_url, user_key=str(user.id), translate=_
    )
    return render_template("map/index.html", **page)


@bp.route("/api/grids")
@login_required
def api_grids():
    level = request.args.get("level", "grid")
    if level not in ("grid", "street", "district"):
        return jsonify(error=_("level 只能是 grid、street 或 district")), 400
    text = map_data.grid_features(
        get_session(), zones.allowed_grid_ids(), params.filters(request.args), map_page.display_crs(g.cfg), level=level
    )
    return current_app.response_class(text, mimetype="application/json")


@bp.route("/api/roads")
@login_required
def api_roads():
    text = map_data.road_features(get_session(), map_page.display_crs(g.cfg))
    return current_app.response_class(text, mimetype="application/json")


@bp.route("/api/venues")
@login_required
def api_venues():
    zone, f, zoom, w = (
        zones.allowed_grid_ids(),
        params.filters(request.args),
        request.args.get("zoom", type=int),
        g.cfg.webmap,
    )
    if zoom is None or request.args.get("format") == "geojson":  # every venue, for GIS tools
        data = map_data.venue_rows(get_session(), zone, f, map_page.display_crs(g.cfg), int(w.api_max_venues))
        return _json(map_data.rows_to_geojson(data) if request.args.get("format") == "geojson" else data)
    return _json(
        clusters.venue_layer(
            get_session(), zone, f, map_page.display_crs(g.cfg), zoom, int(w.api_max_venues), int(w.cluster_above)
        )
    )


@bp.route("/api/venues/<int:venue_id>")
@login_required
def api_venue(venue_id: int):
    v = load_venue(venue_id)
    return _json(venue_service.popup(get_session(), v, url_for("venues.show", venue_id=v.id)))


@bp.route("/api/hits")
@login_required
def api_hits():
    data = map_data.hit_rows(
        get_session(),
        zones.allowed_grid_ids(),
        params.filters(request.args),
        map_page.display_crs(g.cfg),
        int(g.cfg.webmap.api_max_hits),
    )
    return _json(map_data.rows_to_geojson(data) if request.args.get("format") == "geojson" else data)
