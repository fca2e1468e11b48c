"""Query-string parsing shared by the map, API and export views; bad input is a 400, another zone's
grid a 403 (checked here, before any data is read)."""

from __future__ import annotations

import datetime as dt

from flask import abort, g
from werkzeug.datastructures import MultiDict

from core.vocabulary import GRADES, HIT_STATUSES, VENUE_CATEGORIES
from webmap import zones
from webmap.services import map_page
from webmap.services.geo import BBox
from webmap.services.map_data import MapFilters

FILTER_KEYS = ("grid", "category", "grade", "date_from", "date_to", "status")


def _multi(args: MultiDict, key: str, allowed) -> tuple[str, ...]:
    values = [p.strip() for v in args.getlist(key) for p in v.split(",") if p.strip()]
    bad = [v for v in values if v not in allowed]
    if bad:
        abort(400, description=f"unknown {key}: {', '.join(bad)}")
    return tuple(values)


def _date(args: MultiDict, key: str) -> dt.date | None:
    raw = args.get(key, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"{key} must be YYYY-MM-DD")


def filters(args: MultiDict, grid_id: int | None = None) -> MapFilters:
    """Map filters from the query string (and a grid from the URL path), zone-checked."""
    raw_grid = grid_id if grid_id is not None else args.get("grid", type=int)
    grid_ids = None
    if raw_grid is not None:
        zones.require_grid(raw_grid)
        grid_ids = zones.leaf_grid_ids(raw_grid)
    bbox = None
    if args.get("bbox"):
        try:
            bbox = BBox.parse(args["bbox"]).to_wgs84(map_page.display_crs(g.cfg), margin=0.0005)
        except ValueError as exc:
            abort(400, description=str(exc))
    return MapFilters(
        grid_ids=grid_ids,
        categories=_multi(args, "category", VENUE_CATEGORIES),
        grades=_multi(args, "grade", GRADES),
        date_from=_date(args, "date_from"),
        date_to=_date(args, "date_to"),
        statuses=_multi(args, "status", HIT_STATUSES),
        bbox=bbox,
        extra={"grid": raw_grid},
    )


def passthrough(args: MultiDict, grid_id: int | None = None) -> dict:
    """The filter parameters to hand on to the APIs and export links (never bbox: the map sets it)."""
    out = {k: ",".join(args.getlist(k)) for k in FILTER_KEYS if args.getlist(k) and any(args.getlist(k))}
    if grid_id is not None:
        out["grid"] = str(grid_id)
    return out
