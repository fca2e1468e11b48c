"""一户一档: a venue's record, grade factors, inspection history and linked hits; recording inspections."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import vocabulary
from core.errors import UserError
from core.i18n import N_, Msg
from core.models import Grid, Hit, Inspection, User, Venue
from grids import grading
from grids.inspections import Party
from webmap.services.clock import local_text

INSPECTION_RESULTS = vocabulary.INSPECTION_RESULTS


def get_venue(session: Session, venue_id: int) -> Venue | None:
    return session.get(Venue, venue_id)


def _grid_label(session: Session, grid_id: int | None) -> tuple[str, str]:
    g = session.get(Grid, grid_id) if grid_id else None
    return (g.name, g.code) if g else ("", "")


def inspections(session: Session, venue_id: int, limit: int | None = None) -> list[dict]:
    q = select(Inspection).where(Inspection.venue_id == venue_id).order_by(Inspection.date.desc(), Inspection.id.desc())
    rows = session.scalars(q.limit(limit) if limit else q)
    return [
        {
            "id": i.id,
            "date": i.date.isoformat(),
            "inspectors": i.inspectors,
            "result": i.result,
            "violations": i.violations or "",
            "penalty_yuan": i.penalty_yuan,
            "notes": i.notes or "",
        }
        for i in rows
    ]


def summary(session: Session, v: Venue) -> dict:
    """The fields a popup, an export row and the venue page share."""
    grid_name, grid_code = _grid_label(session, v.grid_id)
    return {
        "id": v.id,
        "name": v.name,
        "category": v.category,
        "licence_no": v.licence_no,
        "licence_expiry": v.licence_expiry.isoformat() if v.licence_expiry else None,
        "licence_expired": bool(v.licence_expiry and v.licence_expiry < dt.date.today()),
        "address": v.address,
        "lon": v.lon,
        "lat": v.lat,
        "status": v.status,
        "grade": v.risk_grade,
        "score": v.risk_score,
        "grid_id": v.grid_id,
        "grid_name": grid_name,
        "grid_code": grid_code,
        "legal_rep": v.legal_rep,
        "phone": v.phone,
    }


def popup(session: Session, v: Venue, url: str) -> dict:
    return {**summary(session, v), "inspections": inspections(session, v.id, limit=3), "url": url}


def linked_hits(session: Session, venue_id: int, tz: str, limit: int = 100) -> list[dict]:
    q = select(Hit).where(Hit.venue_id == venue_id).order_by(Hit.detected_at.desc()).limit(limit)
    return [
        {
            "id": h.id,
            "title": h.title or N_("（无标题）"),
            "labels": h.labels,
            "score": h.score,
            "status": h.status,
            "detected_at": local_text(h.detected_at, tz),
            "source": h.source,
        }
        for h in session.scalars(q)
    ]


def grade_detail(session: Session, venue_id: int) -> dict | None:
    """Latest grade with its factors in weight order, named in Chinese, plus the grade history."""
    latest = grading.latest_factors(session, venue_id)
    if latest is None:
        return None
    factors = [
        {
            "key": k,
            "name": vocabulary.name(vocabulary.GRADE_FACTOR, k),
            **f,
            "basis": grading.basis_text(k, f.get("basis")),  # a sentence; the stored form in basis_code
            "basis_code": f.get("basis"),
        }
        for k, f in latest["factors"].items()
    ]
    factors.sort(key=lambda f: -float(f.get("points", 0)))
    return {**latest, "factors": factors, "history": grading.grade_history(session, venue_id, limit=10)}


def page(session: Session, v: Venue, tz: str) -> dict:
    return {
        "venue": summary(session, v),
        "grade": grade_detail(session, v.id),
        "inspections": inspections(session, v.id),
        "hits": linked_hits(session, v.id, tz),
        "results": INSPECTION_RESULTS,
    }


@dataclass
class InspectionInput:
    date: dt.date
    inspectors: str
    result: str
    violations: str | None = None
    penalty_yuan: float | None = None
    notes: str | None = None
    party: Party | None = None  # the subject when it is not this venue: a named party without a venue


def parse_party(subject: str | None, name=None, account=None, contact=None, address=None) -> Party | None:
    """The form's subject: None for the venue itself, else the named party (its name is required)."""
    if subject in (None, "", "venue"):
        return None
    if subject != "party":
        raise UserError(Msg(N_("被检查对象必须是本场所或当事人")))
    return Party.parse(name, account, contact, address)


def record_inspection(session: Session, v: Venue, user: User, data: InspectionInput) -> Inspection:
    """Add an inspection done at the venue, or, with data.party, of a named party met from this venue's
    page (no venue; it belongs to the venue's grid). A future date or an unknown result is refused."""
    if data.result not in INSPECTION_RESULTS:
        raise UserError(Msg(N_("检查结果必须是：%(choices)s"), choices="、".join(INSPECTION_RESULTS)))
    if data.date > dt.date.today():
        raise UserError(Msg(N_("检查日期不能晚于今天")))
    if not data.inspectors.strip():
        raise UserError(Msg(N_("请填写执法人员")))
    i = Inspection(
        venue_id=v.id if data.party is None else None,
        grid_id=v.grid_id if data.party is not None else None,
        **(data.party.columns() if data.party is not None else {}),
        date=data.date,
        inspectors=data.inspectors.strip(),
        result=data.result,
        violations=(data.violations or "").strip() or None,
        penalty_yuan=data.penalty_yuan,
        notes=(data.notes or "").strip() or None,
        created_by=user.id,
    )
    session.add(i)
    session.flush()
    return i
