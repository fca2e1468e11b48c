"""执法全过程记录 search for admins: who did what to which object, when and from where."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import vocabulary
from core.models import AuditLog, User
from webmap.services.clock import local_text

ACTION_NAMES = vocabulary.AUDIT_ACTION


@dataclass
class AuditQuery:
    username: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    page: int = 1
    per_page: int = 50


def search_audit(session: Session, q: AuditQuery, tz: str = "Asia/Shanghai") -> dict:
    conds = []
    if q.username:
        conds.append(AuditLog.username == q.username)
    if q.action:
        conds.append(AuditLog.action == q.action)
    if q.object_type:
        conds.append(AuditLog.object_type == q.object_type)
    if q.object_id:
        conds.append(AuditLog.object_id == q.object_id)
    if q.date_from:
        conds.append(AuditLog.at >= dt.datetime.combine(q.date_from, dt.time()))
    if q.date_to:
        conds.append(AuditLog.at < dt.datetime.combine(q.date_to + dt.timedelta(days=1), dt.time()))
    total = session.scalar(select(func.count()).select_from(AuditLog).where(*conds))
    page = max(1, q.page)
    rows = session.scalars(
        select(AuditLog).where(*conds).order_by(AuditLog.id.desc()).offset((page - 1) * q.per_page).limit(q.per_page)
    )
    entries = [
        {
            "id": a.id,
            "at": local_text(a.at, tz, "%Y-%m-%d %H:%M:%S"),
            "username": a.username or "—",
            "action": a.action,
            "action_name": vocabulary.name(ACTION_NAMES, a.action),
            "object_type": a.object_type or "",
            "object_id": a.object_id or "",
            "detail": a.detail or {},
            "ip": a.ip or "",
        }
        for a in rows
    ]
    return {"entries": entries, "total": total, "page": page, "pages": max(1, -(-total // q.per_page))}


def usernames(session: Session) -> list[str]:
    return list(session.scalars(select(User.username).order_by(User.username)))
