"""Fetching one venue or hit for a view: 404 if missing, 403 outside the zone, and the view audited."""

from __future__ import annotations

from flask import abort, request

from webmap import audit, zones
from webmap.dbsession import get_session
from webmap.services import hits as hit_service
from webmap.services import venues as venue_service


def load_venue(venue_id: int, action: str = "view"):
    v = venue_service.get_venue(get_session(), venue_id)
    if v is None:
        abort(404)
    zones.require_venue(v)
    if action:
        audit.record(action, "venue", v.id, via=request.endpoint)
    return v


def load_hit(hit_id: int, action: str = "view"):
    h = hit_service.get_hit(get_session(), hit_id)
    if h is None:
        abort(404)
    zones.require_hit(h)
    if action:
        audit.record(action, "hit", h.id, via=request.endpoint)
    return h
