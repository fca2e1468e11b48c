"""Zone-scoped access: a grid manager sees only their grids; admins and patrol staff see everything.

Every view that shows a grid, venue or hit calls one of the require_* functions before reading further;
refusals are 403 and are written to the audit log.

Writes reference objects besides the one in the URL (a clue's inspection names a venue, triage names a
grid and a venue). REFERENCES says, for every id field a request body may carry, which object it names
and how that object's zone is checked; webmap.views.loaders.body_refs parses every id field of a write
request through it before the view runs, so a new body field is either one of these (checked) or
refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, g

from core import users
from core.models import Attachment, Clue, Grid, Hit, Inspection, SpotCheckDraw, Venue
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


def in_zone(grid_id: int | None) -> bool:
    """An object placed in this leaf grid (None: placed nowhere) is in the current user's zone."""
    zone = allowed_grid_ids()
    return zone is None or grid_id in zone


def _deny(object_type: str, object_id, **detail) -> None:
    from webmap import audit

    audit.record("denied", object_type, object_id, **detail)
    abort(403)


def require_grid(grid_id: int | None, **detail) -> None:
    if not grid_allowed(grid_id):
        _deny("grid", grid_id, **detail)


def require_venue(venue, **detail) -> None:
    if not in_zone(venue.grid_id):
        _deny("venue", venue.id, **detail)


def require_hit(hit, **detail) -> None:
    if not in_zone(hit.grid_id):
        _deny("hit", hit.id, **detail)


def require_clue(clue, **detail) -> None:
    if not in_zone(clue.grid_id):
        _deny("clue", clue.id, **detail)


def inspection_in_zone(inspection) -> bool:
    """An inspection is in the zone when its venue is (a named party's, with no venue: its own grid, the
    clue's or venue page's), and its clue (if it came from one) is too."""
    s = get_session()
    clue = s.get(Clue, inspection.clue_id) if inspection.clue_id else None
    if inspection.venue_id is None:
        subject_in_zone = in_zone(inspection.grid_id)
    else:
        venue = s.get(Venue, inspection.venue_id)
        subject_in_zone = venue is not None and in_zone(venue.grid_id)
    return subject_in_zone and (clue is None or in_zone(clue.grid_id))


def require_inspection(inspection, **detail) -> None:
    if not inspection_in_zone(inspection):
        _deny("inspection", inspection.id, **detail)


def require_attachment(att, **detail) -> None:
    inspection = get_session().get(Inspection, att.inspection_id)
    if inspection is None or not inspection_in_zone(inspection):
        _deny("attachment", att.id, **detail)


def draw_visible(draw) -> bool:
    """A 双随机 draw is the administrators' until it is published (then it is public, 一公开)."""
    from webmap.auth import current_user

    user = current_user()
    return bool(draw.published) or (user is not None and user.role == "admin")


def require_draw(draw, **detail) -> None:
    if not draw_visible(draw):
        _deny("spot_check_draw", draw.id, **detail)


@dataclass(frozen=True)
class Reference:
    """What an id field of a request names, and the check its zone must pass."""

    object_type: str
    model: type
    require: Callable[..., None]


REFERENCES: dict[str, Reference] = {
    "venue_id": Reference("venue", Venue, require_venue),
    "grid_id": Reference("grid", Grid, lambda grid, **d: require_grid(grid.id, **d)),
    "hit_id": Reference("hit", Hit, require_hit),
    "clue_id": Reference("clue", Clue, require_clue),
    "inspection_id": Reference("inspection", Inspection, require_inspection),
    "attachment_id": Reference("attachment", Attachment, require_attachment),
    "draw_id": Reference("spot_check_draw", SpotCheckDraw, require_draw),
}
# Id fields that name no zoned object; each says what it names instead.
NOT_REFERENCES: dict[str, str] = {
    "job_id": "a scheduled job's name (jobs.control), on admin-only routes",
}
