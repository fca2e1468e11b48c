"""Data behind the map's layers: grid polygons with choropleth statistics, venue and hit points.

Point layers are compact rather than GeoJSON features (venues column-wise with integer coordinates,
hits as [id, lon, lat, score, label, status] rows): 100,000 venues are ~2.7 MB instead of ~20 MB.
Zoomed-out venue views are clustered on the server (services/clusters.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from dataclasses import dataclass, field

import numpy as np
from branca.colormap import StepColormap
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.models import Clue, Grid, Hit, Road, Venue
from core.vocabulary import HIT_LABELS, VENUE_CATEGORIES
from webmap.services.clock import local_day_start_utc
from webmap.services.geo import BBox, geometry_to_display, points_to_display

GRADE_COLORS = {"A": "#2e9d4b", "B": "#2f6fd1", "C": "#e6c229", "D": "#d23a2e", None: "#8a8f98"}
HITS_COLORS = ["#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#800026"]
DSHARE_COLORS = ["#f7fcf5", "#c7e9c0", "#fdae6b", "#e6550d", "#a63603"]
DSHARE_BREAKS = [0.0, 0.05, 0.1, 0.2, 0.3, 1.0]


@dataclass
class MapFilters:
    """What the user asked to see; grid_ids is already checked against their zone."""

    grid_ids: set[int] | None = None
    categories: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    statuses: tuple[str, ...] = ()
    bbox: BBox | None = None  # WGS-84
    extra: dict = field(default_factory=dict)
    tz: str = "UTC"  # the zone date_from/date_to are days of ([core] timezone)


def scope(zone: set[int] | None, grid_ids: set[int] | None) -> set[int] | None:
    """Grids that both the zone and the filter allow (None = no restriction)."""
    if zone is None:
        return grid_ids
    return set(zone) if grid_ids is None else set(zone) & set(grid_ids)


def _grid_clause(column, zone, f: MapFilters):
    allowed = scope(zone, f.grid_ids)
    return None if allowed is None else column.in_(sorted(allowed))


def venue_conditions(zone, f: MapFilters) -> list:
    conds = [c for c in [_grid_clause(Venue.grid_id, zone, f)] if c is not None]
    if f.categories:
        conds.append(Venue.category.in_(f.categories))
    if f.grades:
        conds.append(Venue.risk_grade.in_(f.grades))
    if f.bbox:
        b = f.bbox
        conds += [Venue.lon.between(b.min_lon, b.max_lon), Venue.lat.between(b.min_lat, b.max_lat)]
    return conds


def hit_conditions(zone, f: MapFilters) -> list:
    conds = [c for c in [_grid_clause(Hit.grid_id, zone, f)] if c is not None]
    if f.date_from:  # local days: 12-06 starts at 12-05 16:00 UTC in Beijing
        conds.append(Hit.detected_at >= local_day_start_utc(f.date_from, f.tz))
    if f.date_to:
        conds.append(Hit.detected_at < local_day_start_utc(f.date_to + dt.timedelta(days=1), f.tz))
    if f.statuses:
        conds.append(Hit.status.in_(f.statuses))
    if f.bbox:
        b = f.bbox
        conds += [Hit.lon.between(b.min_lon, b.max_lon), Hit.lat.between(b.min_lat, b.max_lat)]
    return conds


def venue_rows(session: Session, zone, f: MapFilters, crs: str, limit: int) -> dict:
    """Venue points for the map, column-wise: ids, lon/lat in millionths of a degree, one character per
    venue for category (index into `categories`) and grade ("-" = not graded).

    Integers and one-character codes keep 100,000 venues near 2.5 MB of JSON that encodes and parses
    several times faster than [id, lon, lat, …] rows of floats.
    """
    f = _drop_covering_bbox(session, zone, f)
    q = select(Venue.id, Venue.lon, Venue.lat, Venue.category, Venue.risk_grade).where(*venue_conditions(zone, f))
    raw = fetch_tuples(session, q.limit(limit + 1))
    truncated = len(raw) > limit
    raw = raw[:limit]
    ids, lons, lats, cats, grades = (list(c) for c in zip(*raw, strict=True)) if raw else ([], [], [], [], [])
    lon_d, lat_d = points_to_display(lons, lats, crs) if raw else (np.array([]), np.array([]))
    return {
        "format": "columns",
        "crs": crs,
        "scale": 1_000_000,
        "count": len(ids),
        "truncated": truncated,
        "categories": list(VENUE_CATEGORIES),
        "id": ids,
        "lon": np.rint(lon_d * 1e6).astype(np.int64).tolist(),
        "lat": np.rint(lat_d * 1e6).astype(np.int64).tolist(),
        "category": "".join(_CAT_CODE.get(c, "9") for c in cats),
        "grade": "".join(g or "-" for g in grades),
    }


_CAT_CODE = {c: str(i) for i, c in enumerate(VENUE_CATEGORIES)}


def fetch_tuples(session: Session, q) -> list[tuple]:
    """Plain DB-API tuples: SQLAlchemy's per-row Result processing is ~40% of a 100,000-row load and
    these columns (integers, floats, text) need no conversion."""
    result = session.connection().execute(q)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _drop_covering_bbox(session: Session, zone, f: MapFilters) -> MapFilters:
    """A box around the whole visible area filters nothing, but would make SQLite walk the lon index for
    every row (2-3x slower than a plain scan); leave it out then."""
    if f.bbox is None:
        return f
    extent = zone_bounds(session, zone, f.grid_ids)
    b = f.bbox
    if (
        extent
        and b.min_lat <= extent[0][0]
        and b.min_lon <= extent[0][1]
        and b.max_lat >= extent[1][0]
        and b.max_lon >= extent[1][1]
    ):
        return dataclasses.replace(f, bbox=None)
    return f


def hit_rows(session: Session, zone, f: MapFilters, crs: str, limit: int) -> dict:
    """Located hits inside the district's grids for the map: rows [id, lon, lat, score, label index,
    status]. Hits outside every grid (another city) are listed apart (outside_hits), not plotted."""
    conds = hit_conditions(zone, f) + [Hit.lon.is_not(None), Hit.lat.is_not(None), Hit.grid_id.is_not(None)]
    q = select(Hit.id, Hit.lon, Hit.lat, Hit.score, Hit.labels, Hit.status).where(*conds)
    raw = session.execute(q.order_by(Hit.id.desc()).limit(limit + 1)).all()
    truncated = len(raw) > limit
    raw = raw[:limit]
    label_index = {lab: i for i, lab in enumerate(HIT_LABELS)}
    lons, lats = points_to_display([r[1] for r in raw], [r[2] for r in raw], crs) if raw else ([], [])
    rows = [
        [
            r[0],
            round(float(lo), 6),
            round(float(la), 6),
            round(float(r[3] or 0), 3),
            label_index.get((r[4] or [None])[0], -1),
            r[5],
        ]
        for r, lo, la in zip(raw, lons, lats, strict=True)
    ]
    return {
        "fields": ["id", "lon", "lat", "score", "label", "status"],
        "labels": list(HIT_LABELS),
        "crs": crs,
        "count": len(rows),
        "truncated": truncated,
        "rows": rows,
    }


def grid_stats(session: Session, zone, f: MapFilters, venues: bool = True) -> dict[int, dict]:
    """Per leaf grid: venue count, graded venues, D-grade venues and hits (for the choropleths).

    venues=False skips the venue scan (the page needs only hit counts, for the legend's breaks)."""
    stats: dict[int, dict] = {}
    if venues:
        _venue_stats(session, zone, f, stats)
    hf = MapFilters(grid_ids=f.grid_ids, date_from=f.date_from, date_to=f.date_to, statuses=f.statuses, tz=f.tz)
    q = (
        select(Hit.grid_id, func.count())
        .where(Hit.grid_id.is_not(None), *hit_conditions(zone, hf))
        .group_by(Hit.grid_id)
    )
    for gid, n in session.execute(q):
        stats.setdefault(gid, {"venues": 0, "graded": 0, "d_venues": 0, "hits": 0})["hits"] = n
    return stats


def _venue_stats(session: Session, zone, f: MapFilters, stats: dict) -> None:
    vf = MapFilters(grid_ids=f.grid_ids, categories=f.categories)
    graded = func.sum(case((Venue.risk_grade.is_not(None), 1), else_=0))
    d_grade = func.sum(case((Venue.risk_grade == "D", 1), else_=0))
    q = (
        select(Venue.grid_id, func.count(), graded, d_grade)
        .where(Venue.grid_id.is_not(None), *venue_conditions(zone, vf))
        .group_by(Venue.grid_id)
    )
    for gid, n, n_graded, n_d in fetch_tuples(session, q):
        stats[gid] = {"venues": n, "graded": int(n_graded or 0), "d_venues": int(n_d or 0), "hits": 0}


def colormaps(stats: dict[int, dict]) -> dict[str, StepColormap]:
    """Step colour scales for the two choropleths; hit breaks follow the busiest grid."""
    top = max([s["hits"] for s in stats.values()] or [0])
    breaks = sorted({0, 1, *(math.ceil(top * q) for q in (0.25, 0.5, 0.75)), top + 1})
    while len(breaks) < 6:
        breaks.append(breaks[-1] + 1)
    hits = StepColormap(HITS_COLORS, index=breaks[:6], vmin=breaks[0], vmax=breaks[5], caption="网格在线线索数")
    dshare = StepColormap(DSHARE_COLORS, index=DSHARE_BREAKS, vmin=0, vmax=1, caption="D级（高风险）场所占比")
    return {"hits": hits, "d_share": dshare}


def grid_features(session: Session, zone, f: MapFilters, crs: str, level: str = "grid") -> str:
    """Grid polygons in the display CRS with name, code, statistics and both choropleth colours, as
    GeoJSON text. WGS-84 geometries are spliced in as stored (parsing and re-encoding 1,000 polygons
    was half the response time)."""
    q = select(Grid.id, Grid.code, Grid.name, Grid.level, Grid.manager_name, Grid.geometry).where(Grid.level == level)
    if level == "grid":
        allowed = scope(zone, f.grid_ids)
        if allowed is not None:
            q = q.where(Grid.id.in_(sorted(allowed)))
    elif zone is not None:  # the streets (or the district) the zone's grids lie in
        parents = select(Grid.parent_id).where(Grid.id.in_(sorted(zone)))
        if level == "district":
            parents = select(Grid.parent_id).where(Grid.id.in_(parents))
        q = q.where(Grid.id.in_(parents))
    grids = fetch_tuples(session, q.order_by(Grid.code))
    stats = grid_stats(session, zone, f) if level == "grid" else {}
    cmaps = colormaps(stats)
    hit_colour, share_colour = _memo(cmaps["hits"].rgb_hex_str), _memo(cmaps["d_share"].rgb_hex_str)
    parts = []
    for gid, code, name, lvl, manager, geometry in grids:
        s = stats.get(gid, {"venues": 0, "graded": 0, "d_venues": 0, "hits": 0})
        d_share = round(s["d_venues"] / s["graded"], 4) if s["graded"] else 0.0
        props = {
            "id": gid,
            "code": code,
            "name": name,
            "level": lvl,
            "manager": manager,
            **s,
            "d_share": d_share,
            "fill_hits": hit_colour(s["hits"]),
            "fill_d_share": share_colour(d_share),
        }
        geom = geometry if crs == "wgs84" else json.dumps(geometry_to_display(geometry, crs))
        parts.append(f'{{"type":"Feature","id":{gid},"properties":{dumps(props)},"geometry":{geom}}}')
    return f'{{"type":"FeatureCollection","crs_name":"{crs}","features":[{",".join(parts)}]}}'


def road_features(session: Session, crs: str) -> str:
    """Every imported road line in the display CRS, with its name, as GeoJSON text for the offline
    base map. Roads are base-map data (like the district outline), so no zone limits them; stored
    WGS-84 geometries are spliced in as they are, like grids."""
    parts = []
    for rid, name, geometry in session.execute(select(Road.id, Road.name, Road.geometry).order_by(Road.id)):
        geom = geometry if crs == "wgs84" else json.dumps(geometry_to_display(geometry, crs))
        parts.append(f'{{"type":"Feature","id":{rid},"properties":{dumps({"name": name})},"geometry":{geom}}}')
    return f'{{"type":"FeatureCollection","crs_name":"{crs}","features":[{",".join(parts)}]}}'


def _memo(fn):
    cache: dict = {}
    return lambda x: cache[x] if x in cache else cache.setdefault(x, fn(x))


def zone_bounds(session: Session, zone, grid_ids: set[int] | None = None) -> list[list[float]] | None:
    """[[south, west], [north, east]] in WGS-84 around the visible grids, or None without grids."""
    q = select(func.min(Grid.min_lat), func.min(Grid.min_lon), func.max(Grid.max_lat), func.max(Grid.max_lon))
    allowed = scope(zone, grid_ids)
    q = q.where(Grid.level == "grid") if allowed is None else q.where(Grid.id.in_(sorted(allowed)))
    row = session.execute(q).one()
    if row[0] is None:
        return None
    return [[row[0], row[1]], [row[2], row[3]]]


def outside_hits(session: Session, zone, limit: int = 20) -> dict:
    """New hits outside every grid (located in another city, or not located at all), for the map's
    side panel: they are triage's work (confirm to a grid chosen by hand, or 移送外地), not the
    district layers'. Empty for a grid manager, whose zone holds grids only."""
    if zone is not None:
        return {"total": 0, "rows": []}
    cond = (Hit.grid_id.is_(None), Hit.status == "new")
    total = session.scalar(select(func.count()).select_from(Hit).where(*cond)) or 0
    q = select(Hit.id, Hit.title, Hit.location_name).where(*cond).order_by(Hit.score.desc(), Hit.id.desc())
    rows = [{"id": i, "title": t, "location": loc} for i, t, loc in session.execute(q.limit(limit))]
    return {"total": total, "rows": rows}


def pending_clues(session: Session, zone, limit: int = 20) -> list[dict]:
    """Clues still waiting for work in the zone (a grid manager's 待办)."""
    q = (
        select(Clue.id, Clue.status, Clue.created_at, Clue.grid_id, Hit.title, Grid.name)
        .join(Hit, Hit.id == Clue.hit_id)
        .join(Grid, Grid.id == Clue.grid_id, isouter=True)
        .where(Clue.status.in_(("open", "inspecting")))
    )
    if zone is not None:
        q = q.where(Clue.grid_id.in_(sorted(zone)))
    rows = session.execute(q.order_by(Clue.created_at.desc()).limit(limit)).all()
    return [
        {
            "id": r[0],
            "status": r[1],
            "created_at": r[2],
            "grid_id": r[3],
            "title": r[4] or "（无标题）",
            "grid_name": r[5] or "",
        }
        for r in rows
    ]


def grid_name(session: Session, grid_id: int | None) -> str | None:
    """The name of a grid or street (already zone-checked by the caller), for a page's heading."""
    return None if grid_id is None else session.scalar(select(Grid.name).where(Grid.id == grid_id))


def grid_choices(session: Session, zone) -> list[dict]:
    """Leaf grids for filter and assignment menus."""
    q = select(Grid.id, Grid.code, Grid.name).where(Grid.level == "grid")
    if zone is not None:
        q = q.where(Grid.id.in_(sorted(zone)))
    return [{"id": i, "code": c, "name": n} for i, c, n in session.execute(q.order_by(Grid.code))]


def dumps(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)


def rows_to_geojson(data: dict) -> dict:
    """The compact rows as a GeoJSON FeatureCollection (for GIS tools; the map itself uses rows)."""
    if data.get("format") == "columns":
        data = columns_to_rows(data)
    fields = data["fields"]
    lookups = {"category": data.get("categories"), "label": data.get("labels")}
    features = []
    for row in data["rows"]:
        props = dict(zip(fields, row, strict=True))
        for key, names in lookups.items():
            if names is not None and key in props:
                props[key] = names[props[key]] if 0 <= props[key] < len(names) else None
        lon, lat = props.pop("lon"), props.pop("lat")
        features.append(
            {
                "type": "Feature",
                "id": props["id"],
                "properties": props,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            }
        )
    return {"type": "FeatureCollection", "crs_name": data["crs"], "truncated": data["truncated"], "features": features}


def columns_to_rows(data: dict) -> dict:
    """The column-wise venue payload as [id, lon, lat, category index, grade] rows."""
    scale = data["scale"]
    rows = [
        [i, lo / scale, la / scale, int(c), None if g == "-" else g]
        for i, lo, la, c, g in zip(data["id"], data["lon"], data["lat"], data["category"], data["grade"], strict=True)
    ]
    return {
        "fields": ["id", "lon", "lat", "category", "grade"],
        "categories": data["categories"],
        "crs": data["crs"],
        "count": len(rows),
        "truncated": data["truncated"],
        "rows": rows,
    }
