"""关键词监控: saved searches whose new matches become alerts, listed in the web app and sent by
e-mail (SMTP from [alerts]) and/or a webhook (JSON POST, through search/webhooks.py: admins only or
admin-listed hosts, public addresses only unless [alerts] allows more, pinned to the vetted address).

`check_alerts(cfg)` is the scheduled job. An alert is "sent" once every channel of its saved search
accepted it; until then it stays unsent and the next run tries again, so a mail server or webhook
outage loses nothing. Each failure is written to the audit log (action alert_delivery_failed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.client
import logging
import smtplib
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core import db, users, vocabulary
from core.config import Config
from core.errors import UserError
from core.models import Alert, AuditLog, Hit, SavedSearch, SearchOutbox, User, utcnow
from search import webhooks

log = logging.getLogger(__name__)


@dataclasses.dataclass
class AlertsRun:
    created: int  # new alerts
    behind: str | None  # why some hits could not be checked yet (the index is down or blocked), or None


def check_alerts(cfg: Config) -> int:
    """Find new matches of every active saved search, record them as alerts, deliver unsent alerts.
    Returns the number of new alerts."""
    return run_alerts(cfg).created


def run_alerts(cfg: Config) -> AlertsRun:
    """check_alerts, also saying when the index is behind: hits still waiting in the outbox are not
    checked by this run (they will be by a later one, never skipped), and the scheduler records the
    run as failed so the jobs page shows it."""
    from search import outbox

    try:
        drained = outbox.drain_report(cfg)  # match against an index that has everything the crawlers found
        behind = None if drained.ok else f"{drained.left_behind} hit(s) not yet searchable: {drained.reason()}"
    except Exception as exc:  # noqa: BLE001 - a failed drain only narrows what this run can see
        behind = f"the search index could not be updated: {exc}"
    ceiling = _indexed_ceiling(cfg)
    with db.session_scope(cfg) as s:
        searches = [ss.id for ss in s.scalars(select(SavedSearch).where(SavedSearch.active.is_(True)))]
    created = sum(_collect(cfg, ss_id, ceiling) for ss_id in searches)
    for ss_id in searches:
        deliver(cfg, ss_id)
    return AlertsRun(created, behind)


def _indexed_ceiling(cfg: Config) -> int:
    """Largest hit id below which every hit is indexed: hits still waiting in the outbox must not be
    skipped because a later hit moved a saved search's last_hit_id past them."""
    with db.session_scope(cfg) as s:
        waiting = s.scalar(select(func.min(SearchOutbox.hit_id)))
        newest = s.scalar(select(func.max(Hit.id))) or 0
    return newest if waiting is None else min(newest, waiting - 1)


def _collect(cfg: Config, ss_id: int, ceiling: int) -> int:
    import search

    with db.session_scope(cfg) as s:
        ss = s.get(SavedSearch, ss_id)
        owner = s.get(User, ss.user_id)
        zone = users.zone_grid_ids(s, owner) if owner is not None and owner.active else set()
        query, since = ss.query, ss.last_hit_id
    if ceiling <= since:  # nothing newer to look at: still a check, and the page shows when it ran
        _checked(cfg, ss_id)
        return 0
    new_ids: list[int] = []
    page, per_page = 1, int(cfg.search.max_per_page)
    try:
        while True:  # bounded: search() refuses pages beyond track_total_hits
            r = search.search(
                cfg, query, sort="time", page=page, per_page=per_page, grid_ids=zone, facets=False, min_hit_id=since
            )
            new_ids += [h.id for h in r.hits if h.id <= ceiling]
            if len(r.hits) < per_page or page * per_page >= int(cfg.search.track_total_hits):
                break
            page += 1
    except UserError as exc:  # the saved query no longer parses (e.g. a grid was renamed)
        _audit(cfg, "alert_query_failed", ss_id, error=str(exc))
        return 0
    with db.session_scope(cfg) as s:
        existing = set(
            s.scalars(select(Alert.hit_id).where(Alert.saved_search_id == ss_id, Alert.hit_id.in_(new_ids or [0])))
        )
        fresh = [h for h in sorted(set(new_ids)) if h not in existing]
        s.add_all(Alert(saved_search_id=ss_id, hit_id=h) for h in fresh)
        ss = s.get(SavedSearch, ss_id)
        ss.last_hit_id = max(ss.last_hit_id, ceiling)
        ss.last_checked_at = utcnow()
    return len(fresh)


def _checked(cfg: Config, ss_id: int) -> None:
    with db.session_scope(cfg) as s:
        s.get(SavedSearch, ss_id).last_checked_at = utcnow()


def deliver(cfg: Config, ss_id: int) -> int:
    """Send this saved search's unsent alerts over its channels; returns how many were marked sent."""
    with db.session_scope(cfg) as s:
        ss = s.get(SavedSearch, ss_id)
        email = ss.notify_email if cfg.alerts.smtp_host else None
        if not (email or ss.webhook_url):
            return 0
        rows = s.execute(
            select(Alert.id, Hit)
            .join(Hit, Hit.id == Alert.hit_id)
            .where(Alert.saved_search_id == ss_id, Alert.sent_at.is_(None))
            .order_by(Alert.hit_id)
        ).all()
        if not rows:
            return 0
        alert_ids = [a for a, _ in rows]
        payload = _payload(cfg, ss, [h for _, h in rows])
        owner = s.get(User, ss.user_id)
        role = owner.role if owner is not None and owner.active else None  # who may send webhooks is checked now
    try:
        if email:
            send_email(cfg, email, payload)
        if ss.webhook_url:
            webhooks.post(cfg, ss.webhook_url, payload, role)
    except (OSError, smtplib.SMTPException, http.client.HTTPException, ValueError, UserError) as exc:
        _audit(cfg, "alert_delivery_failed", ss_id, error=f"{type(exc).__name__}: {exc}"[:500], alerts=len(alert_ids))
        log.warning("alerts: delivery of saved search %s failed: %s", ss_id, exc)
        return 0
    with db.session_scope(cfg) as s:
        now = utcnow()
        for a in s.scalars(select(Alert).where(Alert.id.in_(alert_ids))):
            a.sent_at = now
    return len(alert_ids)


def _payload(cfg: Config, ss: SavedSearch, hits: list[Hit]) -> dict:
    base = cfg.alerts.base_url.rstrip("/")
    shown = hits[: int(cfg.alerts.max_hits_per_message)]
    return {
        "saved_search": {"id": ss.id, "name": ss.name, "query": ss.query},
        "count": len(hits),
        "hits": [
            {
                "id": h.id,
                "title": h.title,
                "url": h.url,
                "link": f"{base}/hits/{h.id}",
                "labels": list(h.labels or []),
                "score": h.score,
                "platform": h.platform,
                # Local time with its offset ([core] timezone), so a receiver never guesses the zone.
                "detected_at": _local_iso(h.detected_at, cfg.core.timezone),
            }
            for h in shown
        ],
        "alerts_page": f"{base}/alerts",
    }


def send_email(cfg: Config, to: str, payload: dict) -> None:
    a = cfg.alerts
    msg = EmailMessage()
    msg["Subject"] = f"【网巡】关键词监控「{payload['saved_search']['name']}」有 {payload['count']} 条新命中"
    msg["From"] = a.smtp_from
    msg["To"] = to
    lines = [f"查询：{payload['saved_search']['query']}", ""]
    zone = vocabulary.ZONE_NAME.get(cfg.core.timezone, cfg.core.timezone)
    for h in payload["hits"]:
        found = f"发现时间：{_local_text(h['detected_at'])}（{zone}）"
        lines.append(f"- {h['title'] or '(无标题)'}\n  {found}\n  {h['link']}\n  原文：{h['url']}")
    if payload["count"] > len(payload["hits"]):
        lines.append(f"… 另有 {payload['count'] - len(payload['hits'])} 条，请在网巡查看：{payload['alerts_page']}")
    msg.set_content("\n".join(lines))
    smtp_cls = smtplib.SMTP_SSL if a.smtp_ssl else smtplib.SMTP
    with smtp_cls(a.smtp_host, int(a.smtp_port), timeout=float(a.timeout_s)) as smtp:
        if a.smtp_starttls and not a.smtp_ssl:
            smtp.starttls()
        if a.smtp_username:
            smtp.login(a.smtp_username, a.smtp_password)
        smtp.send_message(msg)


def _local_iso(moment: dt.datetime | None, tz: str) -> str | None:
    """A stored (naive UTC) time as ISO 8601 in `tz` with its offset: 2026-12-06T01:30:00+08:00."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.timezone.utc, microsecond=0).astimezone(ZoneInfo(tz)).isoformat()


def _local_text(iso: str | None) -> str:
    return iso[:16].replace("T", " ") if iso else "—"


def _audit(cfg: Config, action: str, ss_id: int, **detail) -> None:
    with db.session_scope(cfg) as s:
        s.add(
            AuditLog(
                action=action,
                object_type="saved_search",
                object_id=str(ss_id),
                detail=detail,
                at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
            )
        )


def last_failure(session, ss_id: int) -> AuditLog | None:
    """The latest delivery failure of a saved search, if any came after its last successful send."""
    return session.scalars(
        select(AuditLog)
        .where(AuditLog.action == "alert_delivery_failed", AuditLog.object_id == str(ss_id))
        .order_by(AuditLog.id.desc())
        .limit(1)
    ).first()
