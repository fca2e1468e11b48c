"""Query-string parsing shared by the map, API and export views; bad input is a 400, another zone's
grid a 403 (checked here, before any data is read).

Numbers from a request are ids, pages and zoom levels that reach SQLite, whose integers stop at 2^63 - 1;
a larger one raised OverflowError deep in a query (a 500). Two app-wide pieces, installed by
create_app, stop them at the edge: `IdConverter` replaces `<int:...>` in every route (an oversized id in
a path matches no route: 404), and `Request` makes `args.get(key, type=int)` and `form.get(key,
type=int)` refuse one with a 400 wherever a view or service reads it (`int_arg` is the same check).
"""

from __future__ import annotations

import datetime as dt

import flask
from flask import abort, g
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter, ValidationError

from core.vocabulary import GRADES, HIT_STATUSES, VENUE_CATEGORIES
from webmap import zones
from webmap.services import map_page
from webmap.services.geo import BBox
from webmap.services.map_data import MapFilters

FILTER_KEYS = ("grid", "category", "grade", "date_from", "date_to", "status")
SQL_INT_MAX = 2**63 - 1  # SQLite's (and PostgreSQL's bigint) largest integer
_MAX_DIGITS = len(str(SQL_INT_MAX))


class IdConverter(IntegerConverter):
    """`<int:...>` for the whole app: ASCII digits up to SQL_INT_MAX, else the route does not match."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None, signed=False):
        super().__init__(
            map, fixed_digits=fixed_digits, min=min, max=SQL_INT_MAX if max is None else max, signed=signed
        )

    def to_python(self, value: str):
        if len(value.lstrip("0")) > _MAX_DIGITS:  # before int(): thousands of digits cost time (and raise)
            raise ValidationError()
        return super().to_python(value)


def bounded_int(raw, default=None):
    """`raw` as an int; `default` when absent or not a number (as werkzeug's type=int), a 400 when it
    is a number no database column can hold."""
    if raw is None:
        return default
    text = str(raw).strip()
    if len(text.lstrip("+-").lstrip("0")) > _MAX_DIGITS:
        if text.lstrip("+-").isdigit():
            abort(400, description="number out of range")
        return default
    try:
        value = int(text)
    except ValueError:
        return default
    if not -SQL_INT_MAX - 1 <= value <= SQL_INT_MAX:
        abort(400, description="number out of range")
    return value


def int_arg(args: MultiDict, key: str, default=None):
    return bounded_int(args.get(key), default)


class BoundedMultiDict(ImmutableMultiDict):
    """Request arguments and form fields whose `get(key, type=int)` is `bounded_int`."""

    def get(self, key, default=None, type=None):  # werkzeug's signature, `type` included
        if type is int:
            return bounded_int(super().get(key), default)
        return super().get(key, default=default, type=type)


class Request(flask.Request):
    parameter_storage_class = BoundedMultiDict


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
    raw_grid = grid_id if grid_id is not None else int_arg(args, "grid")
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
        tz=g.cfg.core.timezone,
    )


def passthrough(args: MultiDict, grid_id: int | None = None) -> dict:
    """The filter parameters to hand on to the APIs and export links (never bbox: the map sets it)."""
    out = {k: ",".join(args.getlist(k)) for k in FILTER_KEYS if args.getlist(k) and any(args.getlist(k))}
    if grid_id is not None:
        out["grid"] = str(grid_id)
    return out
