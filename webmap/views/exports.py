"""Exports of the zone's venues and hits; every export is audited with its filters and row count."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, request

from webmap import audit, zones
from webmap.auth import login_required
from webmap.dbsession import get_session
from webmap.services import exports
from webmap.views import params

bp = Blueprint("exports", __name__)
FORMATS = "any(csv, xlsx, geojson)"


def _send(kind: str, fmt: str, records: list[dict]) -> Response:
    out = exports.render(kind, records, fmt, dt.datetime.now().strftime("%Y%m%d-%H%M%S"))
    audit.record("export", kind, None, format=fmt, count=out.count, filters=params.passthrough(request.args))
    return Response(
        out.body, mimetype=out.mimetype, headers={"Content-Disposition": f'attachment; filename="{out.filename}"'}
    )


@bp.route(f"/export/venues.<{FORMATS}:fmt>")
@login_required
def venues(fmt: str):
    return _send(
        "venues", fmt, exports.venue_records(get_session(), zones.allowed_grid_ids(), params.filters(request.args))
    )


@bp.route(f"/export/hits.<{FORMATS}:fmt>")
@login_required
def hits(fmt: str):
    return _send(
        "hits", fmt, exports.hit_records(get_session(), zones.allowed_grid_ids(), params.filters(request.args))
    )
