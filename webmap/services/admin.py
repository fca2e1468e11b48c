"""执法全过程记录 search for admins: who did what to which object, when and from where."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import vocabulary
from core.i18n import N_, Msg
from core.models import AuditLog, Grid, User
from hits.clues import join_parts
from webmap.services import ledgers
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
    rows = list(rows)
    grids = _grid_names(session, rows)
    entries = [_entry(a, tz, grids) for a in rows]
    return {"entries": entries, "total": total, "page": page, "pages": max(1, -(-total // q.per_page))}


def _entry(a: AuditLog, tz: str, grids: dict[int, str]) -> dict[str, Any]:
    items = detail_items(a.detail or {}, grids)
    return {
        "id": a.id,
        "at": local_text(a.at, tz, "%Y-%m-%d %H:%M:%S"),
        "username": a.username or "—",
        "action": a.action,
        "action_name": vocabulary.name(ACTION_NAMES, a.action),
        "object_type": a.object_type or "",
        "object_name": vocabulary.name(vocabulary.OBJECT_TYPE, a.object_type),
        "object_id": a.object_id or "",
        "detail": a.detail or {},
        # The details as "name: value" pairs for the page; the raw JSON only for a title/toggle.
        "detail_items": items,
        "detail_text": detail_text(items),
        "detail_json": json.dumps(a.detail, ensure_ascii=False, sort_keys=True, default=str) if a.detail else "",
        "ip": a.ip or "",
    }


def usernames(session: Session) -> list[str]:
    return list(session.scalars(select(User.username).order_by(User.username)))


# ---------------------------------------------------------------- details in words

# Detail fields holding ids of one kind of object: the page may link each (kind, ids).
ID_FIELDS = {
    "hit_id": "hit",
    "hit_ids": "hit",
    "clue_id": "clue",
    "venue_id": "venue",
    "inspection_id": "inspection",
    "grid_id": "grid",
    "from_grid": "grid",
    "to_grid": "grid",
}
# Detail fields whose values are codes of a vocabulary.
CODE_FIELDS = {
    "routed": vocabulary.ROUTED,
    "outcome": vocabulary.CLUE_OUTCOME,
    "via": vocabulary.PAGE,
    "format": vocabulary.EXPORT_FORMAT,
    "field": vocabulary.SETTING,
}
# A search or export's filters: each key by name, each value through its vocabulary.
FILTER_FIELD = {
    **vocabulary.FACET,
    "status": N_("状态"),
    "date_from": N_("起始日期"),
    "date_to": N_("截止日期"),
    "score_min": N_("最低置信度"),
    "score_max": N_("最高置信度"),
    "q": N_("检索词"),
    "category": N_("类别"),
    "grade": N_("风险等级"),
    "result": N_("检查结果"),
    "inspector": N_("检查人员"),
    "expiry": N_("许可证到期"),
    "sort": N_("排序"),
    "order": N_("顺序"),
    "days": N_("天数"),
    "subject": N_("检查对象"),
    "per_page": N_("每页条数"),
}
FILTER_CODES = {
    "label": vocabulary.HIT_LABEL_SHORT,
    "platform": vocabulary.PLATFORM,
    "status": vocabulary.HIT_STATUS,
    "grade": vocabulary.GRADE,
    "order": {"asc": N_("升序"), "desc": N_("降序")},
    "subject": ledgers.SUBJECTS,
    "expiry": ledgers.EXPIRY_FILTERS,
    "sort": {**ledgers.INSPECTION_SORTS, **ledgers.VENUE_SORTS},
}
# What a failed login's status number meant (webmap.auth.authenticate).
LOGIN_STATUS = {200: N_("用户名或密码错误"), 401: N_("用户名或密码错误"), 429: N_("失败次数过多，已暂时锁定")}


def detail_items(detail: dict[str, Any], grids: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """An audit entry's details as the page lists them: each field by its Chinese name (a message id
    of core.vocabulary.AUDIT_FIELD) with its value in words (a Msg or text), codes named from the
    vocabulary, grids by name; `ref` = (kind, ids) for fields that carry object ids (the page links
    them). Empty values are left out."""
    grids = grids or {}
    items = []
    for key, value in detail.items():
        if value in (None, "", [], {}):
            continue
        ref = None
        if key in ID_FIELDS:
            ids = value if isinstance(value, list) else [value]
            ref = (ID_FIELDS[key], [i for i in ids if isinstance(i, int)])
            if ID_FIELDS[key] == "grid":
                shown: Any = "、".join(f"{grids.get(i, '')}#{i}" if grids.get(i) else f"#{i}" for i in ids)
            else:
                shown = "、".join(f"#{i}" for i in ids)
        elif key in ("old", "new") and detail.get("field") == "locale":
            shown = vocabulary.name(vocabulary.LANGUAGE, str(value))
        elif key in CODE_FIELDS:
            shown = Msg(vocabulary.name(CODE_FIELDS[key], str(value)))
        elif key == "status" and isinstance(value, int):
            shown = Msg(LOGIN_STATUS.get(value, str(value)))
        elif key == "result":
            shown = Msg(str(value))  # inspection results are stored as their Chinese words
        elif key == "filters" and isinstance(value, dict):
            shown = filters_text(value)
        elif isinstance(value, bool):
            shown = Msg(N_("是") if value else N_("否"))
        elif isinstance(value, (list, tuple)):
            shown = "、".join(str(v) for v in value)
        elif isinstance(value, dict):
            shown = "，".join(f"{k} {v}" for k, v in value.items())
        else:
            shown = str(value)
        name = Msg(vocabulary.name(vocabulary.AUDIT_FIELD, key))
        items.append({"key": key, "name": name, "value": shown, "ref": ref})
    return items


def detail_text(items: list[dict[str, Any]]) -> Msg:
    """The detail items as one sentence: "名称：值；名称：值" (— when there are none)."""
    return join_parts([Msg(N_("%(field)s：%(value)s"), field=i["name"], value=i["value"]) for i in items])


def filters_text(filters: dict[str, Any]) -> Msg | str:
    """A search's or export's filters as "名称 值" pairs joined by "，"; none as 无."""
    parts = []
    for key, value in filters.items():
        if value in (None, "", [], {}):
            continue
        names = FILTER_CODES.get(key)
        values = value if isinstance(value, list) else str(value).split(",") if names else [value]
        shown = [Msg(vocabulary.name(names, str(v))) if names else str(v) for v in values]
        field = Msg(vocabulary.name(FILTER_FIELD, key))
        parts.append(Msg(N_("%(field)s：%(value)s"), field=field, value=_join_values(shown)))
    if not parts:
        return Msg(N_("无"))
    out = parts[0]
    for part in parts[1:]:
        out = Msg(N_("%(first)s，%(rest)s"), first=out, rest=part)
    return out


def _join_values(values: list) -> Msg | str:
    if len(values) == 1:
        return values[0]
    out = values[0]
    for value in values[1:]:
        out = Msg(N_("%(first)s、%(rest)s"), first=out, rest=value)
    return out


def _grid_names(session: Session, rows: list[AuditLog]) -> dict[int, str]:
    ids = set()
    for a in rows:
        for key in ("grid_id", "from_grid", "to_grid"):
            value = (a.detail or {}).get(key)
            if isinstance(value, int):
                ids.add(value)
    if not ids:
        return {}
    return dict(session.execute(select(Grid.id, Grid.name).where(Grid.id.in_(ids))).all())
