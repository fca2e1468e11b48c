"""待办 for the map's side panel: open clues in the zone, and 双随机 spot checks drawn for the zone's
venues that no inspection has answered yet."""

from __future__ import annotations

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from core.models import Inspection, SpotCheckDraw, SpotCheckItem, Venue


def pending_spot_checks(session: Session, zone, limit: int = 20) -> list[dict]:
    """Venues of published draws with no inspection dated on or after the draw."""
    answered = exists().where(
        and_(Inspection.venue_id == SpotCheckItem.venue_id, Inspection.date >= func.date(SpotCheckDraw.at))
    )
    q = (
        select(SpotCheckItem.draw_id, SpotCheckDraw.at, Venue.id, Venue.name, Venue.category)
        .join(SpotCheckDraw, SpotCheckDraw.id == SpotCheckItem.draw_id)
        .join(Venue, Venue.id == SpotCheckItem.venue_id)
        .where(SpotCheckDraw.published.is_(True), ~answered)
    )
    if zone is not None:
        q = q.where(Venue.grid_id.in_(sorted(zone)))
    rows = session.execute(q.order_by(SpotCheckDraw.at.desc(), Venue.id).limit(limit)).all()
    return [
        {"draw_id": d, "drawn_at": at, "venue_id": vid, "venue_name": name, "category": cat}
        for d, at, vid, name, cat in rows
    ]
