"""Server-side clustering of venues for zoomed-out views: a few hundred per-category bubbles instead
of 100,000 markers, computed from per-grid counts so no venue row is read."""

from __future__ import annotations

import dataclasses

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Grid, Venue
from core.vocabulary import VENUE_CATEGORIES
from webmap.services.geo import points_to_display
from webmap.services.map_data import MapFilters, fetch_tuples, scope, venue_conditions, venue_rows


def venue_layer(
    session: Session, zone, f: MapFilters, crs: str, zoom: int, limit: int, cluster_above: int, cell_px: int = 150
) -> dict:
    """What the map shows at `zoom`: every venue when the view holds at most `cluster_above`, otherwise
    per-category clusters computed in SQL (a few hundred bubbles instead of 100,000 markers)."""
    clusters = venue_clusters(session, zone, f, crs, zoom, cell_px)
    if sum(c[2] for c in clusters["rows"]) <= cluster_above or zoom >= 18:
        return {"mode": "points", **venue_rows(session, zone, f, crs, limit)}
    return clusters


def venue_clusters(session: Session, zone, f: MapFilters, crs: str, zoom: int, cell_px: int = 150) -> dict:
    """Venues binned into square cells of about `cell_px` screen pixels, per category: rows of
    [lon, lat, count, category index, worst grade, west, south, east, north].

    Counts come per grid from the covering index (grid_id, category, risk_grade) and are binned by the
    grids' centroids, so no venue row is read: ~0.1 s for 100,000 venues instead of ~1 s for a GROUP BY
    over coordinates. A cell's position is the venue-weighted mean of its grids' centroids.
    """
    cell = 360.0 / (2 ** max(0, min(zoom, 22))) / 256.0 * cell_px
    grids = _grids_in_view(session, zone, f)
    gf = dataclasses.replace(f, bbox=None, grid_ids=set(grids))
    q = (
        select(Venue.grid_id, Venue.category, func.count(), func.max(Venue.risk_grade))
        .where(*venue_conditions(None, gf))
        .group_by(Venue.grid_id, Venue.category)
    )
    cells: dict[tuple, list] = {}
    for gid, category, n, worst in fetch_tuples(session, q) if grids else []:
        lon, lat, w, s_, e, n_ = grids[gid]
        _add_to_cell(
            cells, (int((lon + 180) // cell), int((lat + 90) // cell), category), n, worst, lon, lat, (w, s_, e, n_)
        )
    if zone is None:  # venues outside every grid are only visible district-wide
        q = select(Venue.lon, Venue.lat, Venue.category, Venue.risk_grade).where(
            Venue.grid_id.is_(None), *venue_conditions(None, dataclasses.replace(f, grid_ids=None))
        )
        for lon, lat, category, grade in fetch_tuples(session, q) if f.grid_ids is None else []:
            _add_to_cell(
                cells,
                (int((lon + 180) // cell), int((lat + 90) // cell), category),
                1,
                grade,
                lon,
                lat,
                (lon, lat, lon, lat),
            )
    return _cells_payload(cells, crs, zoom)


def _grids_in_view(session: Session, zone, f: MapFilters) -> dict[int, tuple]:
    """Leaf grids in scope whose box meets the view: id -> (centroid lon, lat, west, south, east, north)."""
    q = select(
        Grid.id, Grid.centroid_lon, Grid.centroid_lat, Grid.min_lon, Grid.min_lat, Grid.max_lon, Grid.max_lat
    ).where(Grid.level == "grid")
    allowed = scope(zone, f.grid_ids)
    if allowed is not None:
        q = q.where(Grid.id.in_(sorted(allowed)))
    if f.bbox:
        b = f.bbox
        q = q.where(
            Grid.max_lon >= b.min_lon, Grid.min_lon <= b.max_lon, Grid.max_lat >= b.min_lat, Grid.min_lat <= b.max_lat
        )
    return {r[0]: r[1:] for r in fetch_tuples(session, q)}


def _add_to_cell(cells: dict, key: tuple, n: int, worst, lon: float, lat: float, box: tuple) -> None:
    c = cells.get(key)
    if c is None:
        cells[key] = [n, worst, lon * n, lat * n, *box]
        return
    c[0] += n
    c[1] = max(c[1] or "", worst or "") or None
    c[2] += lon * n
    c[3] += lat * n
    c[4], c[5], c[6], c[7] = min(c[4], box[0]), min(c[5], box[1]), max(c[6], box[2]), max(c[7], box[3])


def _cells_payload(cells: dict, crs: str, zoom: int) -> dict:
    cat_index = {c: i for i, c in enumerate(VENUE_CATEGORIES)}
    if not cells:
        return {
            "mode": "clusters",
            "crs": crs,
            "categories": list(VENUE_CATEGORIES),
            "zoom": zoom,
            "count": 0,
            "rows": [],
        }
    keys = list(cells)
    arr = np.array([[cells[k][2] / cells[k][0], cells[k][3] / cells[k][0], *cells[k][4:8]] for k in keys], dtype=float)
    lon, lat = points_to_display(arr[:, 0], arr[:, 1], crs)
    w, s_ = points_to_display(arr[:, 2], arr[:, 3], crs)
    e, n = points_to_display(arr[:, 4], arr[:, 5], crs)
    rows = [
        [
            round(float(lon[i]), 6),
            round(float(lat[i]), 6),
            cells[k][0],
            cat_index.get(k[2], -1),
            cells[k][1],
            round(float(w[i]), 6),
            round(float(s_[i]), 6),
            round(float(e[i]), 6),
            round(float(n[i]), 6),
        ]
        for i, k in enumerate(keys)
    ]
    return {
        "mode": "clusters",
        "crs": crs,
        "categories": list(VENUE_CATEGORIES),
        "zoom": zoom,
        "count": sum(r[2] for r in rows),
        "rows": rows,
    }
