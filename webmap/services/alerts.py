"""关键词监控: saved searches and the alerts their new matches became, per user and zone."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import search
from core.errors import UserError
from core.i18n import N_, Msg
from core.models import Alert, Hit, SavedSearch, User, utcnow
from search import webhooks
from webmap.services import clock

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def saved_searches(session: Session, user: User, tz: str = "UTC") -> list[dict]:
    """The user's saved searches, each with its unread alerts and when the alerts job last checked it
    (local time in `tz`)."""
    unseen = dict(
        session.execute(
            select(Alert.saved_search_id, func.count(Alert.id))
            .where(Alert.seen_at.is_(None))
            .group_by(Alert.saved_search_id)
        ).all()
    )
    rows = session.scalars(select(SavedSearch).where(SavedSearch.user_id == user.id).order_by(SavedSearch.id))
    return [
        {"ss": ss, "unseen": unseen.get(ss.id, 0), "checked": clock.local_text(ss.last_checked_at, tz)} for ss in rows
    ]


def create_saved(cfg, session: Session, user: User, form) -> SavedSearch:
    name = (form.get("name") or "").strip()[:100]
    query = (form.get("query") or "").strip()
    email = (form.get("notify_email") or "").strip() or None
    hook = (form.get("webhook_url") or "").strip() or None
    if not name or not query:
        raise UserError(Msg(N_("请填写名称和查询条件")))
    parsed = search.parse_query(query, cfg)  # a query that cannot run is refused now, not at 3 a.m.
    if parsed.dropped_all_words:
        raise UserError(parsed.notice or Msg(N_("查询条件无效")))
    if email and not _EMAIL.match(email):
        raise UserError(Msg(N_("邮箱地址格式不对：%(email)s"), email=email))
    if hook:  # admins, or admin-listed hosts; public addresses only (SSRF): one line when refused
        hook = webhooks.vet_url(cfg, hook, user.role)
    newest = session.scalar(select(func.max(Hit.id))) or 0
    ss = SavedSearch(
        user_id=user.id, name=name, query=query, notify_email=email, webhook_url=hook, last_hit_id=newest
    )  # alerts cover hits found from now on
    session.add(ss)
    session.flush()
    return ss


def delete_saved(session: Session, user: User, ss_id: int) -> SavedSearch | None:
    ss = session.get(SavedSearch, ss_id)
    if ss is None or (ss.user_id != user.id and user.role != "admin"):
        return None
    session.query(Alert).filter(Alert.saved_search_id == ss.id).delete()
    session.delete(ss)
    return ss


def alerts(session: Session, user: User, zone: set[int] | None, limit: int = 200, tz: str = "UTC") -> list[dict]:
    """The user's alerts, newest first; hits outside the user's zone are never listed. Times are local
    text in `tz`."""
    q = (
        select(Alert, SavedSearch.name, Hit)
        .join(SavedSearch, SavedSearch.id == Alert.saved_search_id)
        .join(Hit, Hit.id == Alert.hit_id)
        .where(SavedSearch.user_id == user.id)
        .order_by(Alert.id.desc())
        .limit(limit)
    )
    if zone is not None:
        q = q.where(Hit.grid_id.in_(zone or [0]))
    return [
        {
            "alert": a,
            "search_name": n,
            "hit": h,
            "detected": clock.local_text(h.detected_at, tz),
            "sent": clock.local_text(a.sent_at, tz),
        }
        for a, n, h in session.execute(q)
    ]


def mark_seen(session: Session, user: User) -> int:
    ids = select(SavedSearch.id).where(SavedSearch.user_id == user.id)
    rows = session.scalars(select(Alert).where(Alert.saved_search_id.in_(ids), Alert.seen_at.is_(None))).all()
    now = utcnow()
    for a in rows:
        a.seen_at = now
    return len(rows)


def unseen_count(session: Session, user: User, zone: set[int] | None = None) -> int:
    """The user's unread alerts, as /alerts lists them (hits outside the zone are not counted)."""
    ids = select(SavedSearch.id).where(SavedSearch.user_id == user.id)
    q = select(func.count(Alert.id)).where(Alert.saved_search_id.in_(ids), Alert.seen_at.is_(None))
    if zone is not None:
        q = q.join(Hit, Hit.id == Alert.hit_id).where(Hit.grid_id.in_(zone or [0]))
    return session.scalar(q) or 0
