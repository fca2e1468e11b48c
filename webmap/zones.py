"""Zone-scoped access: a grid manager sees only their grids; admins and patrol staff see everything.

Every view that shows a grid, venue or hit calls one of the require_* functions before reading further;
refusals are 403 and are written to the audit log.
"""

from __future__ import annotations

from flask import abort, g

from core import users
from grids import tree
from webmap.dbsession import get_session

_UNSET = object()


def allowed_grid_ids() -> set[int] | None:
    """Leaf grid ids the current user may see; None means the whole district."""
    cached = g.get("_zone", _UNSET)
    if cached is not _UNSET:
        return cached
    from webmap.auth import current_user

    user = current_user()
    if user is None:
        zone: set[int] | None = set()
    else:
        zone = users.zone_grid_ids(get_session(), user)
    g._zone = zone
    return zone


def grid_allowed(grid_id: int | None) -> bool:
    """A leaf grid in the zone, or a street/district all of whose grids are in it."""
    zone = allowed_grid_ids()
    if zone is None:
        return True
    if grid_id is None:
        return False
    if grid_id in zone:
        return True
    leaves = leaf_grid_ids(grid_id)
    return bool(leaves) and leaves <= zone


def leaf_grid_ids(grid_id: int) -> set[int]:
    """The grid itself if it is a leaf, else every grid-level descendant."""
    return tree.leaves(get_session(), [grid_id])


def _deny(object_type: str, object_id) -> None:
    from webmap import audit

    audit.record("denied", object_type, object_id)
    abort(403)


def require_grid(grid_id: int | None) -> None:
    if not grid_allowed(grid_id):
        _deny("grid", grid_id)


def require_venue(venue) -> None:
    zone = allowed_grid_ids()
    if zone is not None and venue.grid_id not in zone:
        _deny("venue", venue.id)


def require_hit(hit) -> None:
    zone = allowed_grid_ids()
    if zone is not None and hit.grid_id not in zone:
        _deny("hit", hit.id)
