"""Online hits on the map: their detail, and assigning a hit to a grid (patrol staff and admins)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import UserError
from core.models import Grid, Hit, Venue
from core.privacy import mask_contacts
from hits.lifecycle import change_hit
from webmap.services.clock import local_text

LABEL_NAMES = {"unlicensed_travel": "未经许可经营旅行社业务", "illegal_publication": "非法出版物"}
STATUS_NAMES = {"new": "新发现", "dismissed": "已排除", "clue": "已转线索"}


def get_hit(session: Session, hit_id: int) -> Hit | None:
    return session.get(Hit, hit_id)


def summary(session: Session, h: Hit, tz: str = "Asia/Shanghai") -> dict:
    grid = session.get(Grid, h.grid_id) if h.grid_id else None
    venue = session.get(Venue, h.venue_id) if h.venue_id else None
    return {
        "id": h.id,
        "title": h.title,
        "url_original": h.url,
        "source": h.source,
        "platform": h.platform,
        "account": h.account,
        "labels": list(h.labels or []),
        "label_names": [LABEL_NAMES.get(x, x) for x in h.labels or []],
        "score": round(h.score or 0, 3),
        "status": h.status,
        "status_name": STATUS_NAMES.get(h.status, h.status),
        "location_name": h.location_name,
        "lon": h.lon,
        "lat": h.lat,
        "grid_id": h.grid_id,
        "grid_name": grid.name if grid else None,
        "grid_code": grid.code if grid else None,
        "venue_id": h.venue_id,
        "venue_name": venue.name if venue else None,
        "detected_at": local_text(h.detected_at, tz),
        "published_at": local_text(h.published_at, tz),
    }


def popup(session: Session, h: Hit, url: str, tz: str) -> dict:
    return {**summary(session, h, tz), "url": url}


def page(session: Session, h: Hit, tz: str) -> dict:
    return {
        "hit": summary(session, h, tz),
        "text": mask_contacts(h.text or "")[:5000],
        "reasons": h.reasons or [],
        "scores": h.scores or {},
    }


def assign_to_grid(session: Session, h: Hit, grid_id: int) -> tuple[int | None, int]:
    """Route a hit to a leaf grid; returns (old grid id, new grid id) for the audit record."""
    grid = session.get(Grid, grid_id)
    if grid is None or grid.level != "grid":
        raise UserError("请选择一个网格（不是街道或区县）")
    old = h.grid_id
    change_hit(session, h, grid_id=grid.id)
    return old, grid.id


def grid_options(session: Session) -> list[dict]:
    q = select(Grid.id, Grid.code, Grid.name).where(Grid.level == "grid").order_by(Grid.code)
    return [{"id": i, "code": c, "name": n} for i, c, n in session.execute(q)]
