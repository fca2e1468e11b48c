"""The clue loop for the web app: a grid manager's clues, their inspection and closing (thin calls into
hits.clues), and what the pages and the API show. Triage of a hit is webmap.services.hits."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import vocabulary
from core.config import Config
from core.errors import UserError
from core.i18n import N_, Msg
from core.models import Attachment, Clue, Grid, Hit, Inspection, User, Venue
from core.users import zone_grid_ids
from core.vocabulary import CLUE_OUTCOME, CLUE_STATUS, name
from grids.inspections import Party, party_text
from hits import clues as logic
from webmap.services import uploads

ATTACHMENTS_DIR = "attachments"
# The outcomes an officer may close with ("transferred" comes only from 移送), by name.
OUTCOME_CHOICES = [(o, CLUE_OUTCOME[o]) for o in vocabulary.CLOSE_OUTCOMES]
INSPECTION_RESULTS = vocabulary.INSPECTION_RESULTS

NotInZone = logic.NotInZone


def attachments_dir(cfg: Config) -> Path:
    return cfg.data_dir / ATTACHMENTS_DIR


def attachment_mimetype(path: Path) -> str:
    """How to serve a stored photo: the image type its bytes prove, else application/octet-stream."""
    return uploads.stored_mimetype(path)


def task_list(session: Session, user: User, status: str | None) -> list[dict[str, Any]]:
    """A grid manager's clues (their zone), or all clues for admins and patrol staff."""
    rows = logic.list_clues(session, user, status=status or None)
    grids = _names(session, Grid, {c.grid_id for c in rows})
    venues = _names(session, Venue, {c.venue_id for c in rows})
    parties = _party_names(session, {c.inspection_id for c in rows if c.venue_id is None})
    hits = {h.id: h for h in session.scalars(select(Hit).where(Hit.id.in_({c.hit_id for c in rows})))} if rows else {}
    return [
        {
            "id": c.id,
            "status": c.status,
            "status_name": name(CLUE_STATUS, c.status),
            "outcome_name": name(CLUE_OUTCOME, c.outcome),
            "case_no": c.case_no,
            "grid": grids.get(c.grid_id),
            "venue": venues.get(c.venue_id) or parties.get(c.inspection_id),  # a named party when no venue
            "title": hits[c.hit_id].title if c.hit_id in hits else "",
            "hit_id": c.hit_id,
            "created_at": c.created_at,
        }
        for c in rows
    ]


def untriaged_hits(session: Session, limit: int = 50) -> list[dict[str, Any]]:
    """New hits waiting for patrol staff to dismiss or confirm, best-scored first."""
    q = (
        select(Hit.id, Hit.title, Hit.platform, Hit.score, Hit.grid_id, Hit.detected_at)
        .where(Hit.status == "new")
        .order_by(Hit.score.desc(), Hit.id.desc())
        .limit(limit)
    )
    rows = session.execute(q).all()
    grids = _names(session, Grid, {r.grid_id for r in rows})
    return [
        {
            "id": r.id,
            "title": r.title,
            "platform": r.platform,
            "score": round(r.score or 0, 2),
            "grid": grids.get(r.grid_id),
            "detected_at": r.detected_at,
        }
        for r in rows
    ]


def detail(session: Session, clue: Clue) -> dict[str, Any]:
    """The clue as JSON (the API): its history raw and in words (history_text)."""
    return logic.clue_summary(session, clue)


def page_detail(session: Session, clue: Clue) -> dict[str, Any]:
    """The clue for its page: `detail` plus `history_lines`, each step's name and sentence as a
    core.i18n.Msg (grids and venues by name, routing explained, photo count, outcome named)."""
    return {**detail(session, clue), "history_lines": logic.history_lines(session, clue)}


def venue_options(session: Session, clue: Clue) -> list[dict[str, Any]]:
    """Venues of the clue's grid, for choosing the inspected venue when the hit named none."""
    if clue.grid_id is None:
        return []
    q = select(Venue.id, Venue.name, Venue.address).where(Venue.grid_id == clue.grid_id).order_by(Venue.name).limit(500)
    return [{"id": i, "name": n, "address": a} for i, n, a in session.execute(q)]


def get_clue(session: Session, clue_id: int, user: User) -> Clue:
    """The clue, if the user's zone covers it (NotInZone otherwise; UserError when there is none)."""
    return logic.get_clue(session, clue_id, user)


def start(session: Session, clue_id: int, user: User, note: str | None) -> Clue:
    return logic.start_inspection(session, clue_id, user, note=note)


class VenueNotInZone(NotInZone):
    """The inspected venue lies outside the user's zone (web: an audited 403 naming the venue)."""

    object_type = "venue"

    def __init__(self, venue_id: int):
        super().__init__(Msg(N_("该场所不在您的网格范围内")))
        self.object_id = venue_id


def record_inspection(
    cfg: Config, session: Session, clue_id: int, user: User, data, files, venue_id: int | None
) -> Inspection:
    """Record the on-site inspection from form or JSON fields and uploaded photos. `venue_id` is the
    zone-checked venue the request named (webmap.views.loaders.body_refs), None for the clue's own; the
    venue actually inspected must lie in the user's zone either way (VenueNotInZone). With
    `subject=party` (or party fields and no venue) the subject is a named party without a registered
    venue (party_name, party_account, party_contact, party_address); it belongs to the clue's grid."""
    clue = logic.get_clue(session, clue_id, user)
    party = parse_party(data, venue_id if venue_id is not None else clue.venue_id)
    if party is not None and venue_id is not None:
        raise UserError(Msg(N_("被检查对象是当事人时，不要再选择场所")))
    inspected = venue_id if venue_id is not None else clue.venue_id
    if party is None and inspected is not None:
        venue = session.get(Venue, inspected)
        zone = zone_grid_ids(session, user)
        if venue is not None and zone is not None and venue.grid_id not in zone:
            raise VenueNotInZone(venue.id)
    return logic.record_inspection(
        session,
        clue_id,
        user,
        data.get("result", ""),
        violations=data.get("violations") or None,
        penalty=parse_penalty(data.get("penalty")),
        notes=data.get("notes") or None,
        photos=parse_photos(files),
        attachments_dir=attachments_dir(cfg),
        venue_id=venue_id,
        inspectors=data.get("inspectors") or None,
        party=party,
    )


def parse_party(data, venue_id: int | None) -> Party | None:
    """The named party of an inspection form or JSON body: `subject` says venue or party; without it a
    party name and no venue (`venue_id`, the one named or the clue's) mean a party."""
    subject = (data.get("subject") or "").strip()
    if subject not in ("", "venue", "party"):
        raise UserError(Msg(N_("被检查对象必须是登记场所或当事人")))
    if subject == "venue" or (not subject and (venue_id is not None or not data.get("party_name"))):
        return None
    return Party.parse(
        data.get("party_name"), data.get("party_account"), data.get("party_contact"), data.get("party_address")
    )


def close(session: Session, clue_id: int, user: User, data) -> Clue:
    return logic.close_clue(
        session, clue_id, user, data.get("outcome", ""), case_no=data.get("case_no"), note=data.get("note") or None
    )


def attachment(session: Session, attachment_id: int) -> tuple[Attachment, Clue | None] | None:
    att = session.get(Attachment, attachment_id)
    if att is None:
        return None
    inspection = session.get(Inspection, att.inspection_id)
    clue = session.get(Clue, inspection.clue_id) if inspection and inspection.clue_id else None
    return att, clue


def geojson(session: Session, user: User) -> dict[str, Any]:
    """Active clues in the user's zone as points (the hit's location, else the grid's centre)."""
    features = []
    for c in logic.list_clues(session, user, status="active"):
        hit = session.get(Hit, c.hit_id)
        grid = session.get(Grid, c.grid_id) if c.grid_id else None
        lon, lat = (
            (hit.lon, hit.lat)
            if hit and hit.lon is not None
            else ((grid.centroid_lon, grid.centroid_lat) if grid else (None, None))
        )
        if lon is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "id": c.id,
                    "status": c.status,
                    "title": hit.title if hit else "",
                    "grid": grid.name if grid else None,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def parse_photos(files) -> list[tuple[str, bytes]]:
    """(filename, bytes) of uploaded files, each a real JPEG, PNG, WebP or GIF by its bytes (uploads.py);
    empty file inputs are skipped."""
    return [uploads.checked_photo(f.filename, f.read()) for f in files if f and f.filename]


def parse_penalty(raw: Any) -> float | None:
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise UserError(Msg(N_("罚款金额必须是数字"))) from None
    if value < 0:
        raise UserError(Msg(N_("罚款金额不能为负数")))
    return value


def local_time(value: Any, cfg: Config) -> str:
    """A stored UTC time (naive datetime or ISO text) as local time text for the pages."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(ZoneInfo(cfg.core.timezone)).strftime("%Y-%m-%d %H:%M:%S")


def parse_id(raw: Any) -> int | None:
    """An id from a form or JSON field: empty is None, anything but a whole number is a UserError."""
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise UserError(Msg(N_("不是编号（整数）：%(value)r"), value=raw)) from None


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _party_names(session: Session, inspection_ids: set) -> dict[int, str]:
    """inspection id -> "name（account）（当事人）" for the venue-less inspections among them."""
    ids = {i for i in inspection_ids if i is not None}
    if not ids:
        return {}
    q = select(Inspection.id, Inspection.party_name, Inspection.party_account).where(
        Inspection.id.in_(ids), Inspection.venue_id.is_(None)
    )
    return {i: f"{party_text(n, a)}（当事人）" for i, n, a in session.execute(q)}


def _names(session: Session, model, ids: set) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())
