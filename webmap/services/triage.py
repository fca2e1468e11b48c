"""研判台: the open (new) hits of the district, counted, filtered, sorted and paged in the database, each
row with its text and reasons inline, and bulk confirm, dismiss or 移送 of many hits at once.

No Flask here: the view hands in the query string as a mapping and the user.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, select, update
from sqlalchemy.orm import Session

from core import reasons as reason_list
from core import vocabulary
from core.errors import UserError
from core.i18n import N_, Msg
from core.models import Grid, Hit, User
from hits import clues, neardup
from webmap.services.clock import local_text

SORTS = {"score": Hit.score, "date": Hit.detected_at}
PER_PAGE = (20, 50, 100)
BACKFILL = 20_000  # older hits without a near-duplicate hash, hashed per page load (~0.2 ms each)
MAX_BULK = 500  # hits one bulk action may change (a confirmation page lists them all)
EXCERPT = 300  # characters of a hit's text shown inline
OUTSIDE = "none"  # the grid filter's value for hits outside every grid


class TriageError(UserError):
    """A filter or a bulk action the page cannot run; the message is the user's (Chinese)."""


@dataclass
class TriageQuery:
    label: str | None = None
    platform: str | None = None
    source: str | None = None
    grid: int | str | None = None  # a grid id, OUTSIDE, or None for all
    sort: str = "score"
    order: str = "desc"
    page: int = 1
    per_page: int = 50
    group: bool = True  # near-duplicates (hits.neardup) under one representative

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> TriageQuery:
        q = cls()
        q.label = _choice(args.get("label"), vocabulary.HIT_LABELS, N_("类型"))
        q.platform = _choice(args.get("platform"), vocabulary.PLATFORMS, N_("平台"))
        q.source = (args.get("source") or "").strip()[:60] or None
        grid = (args.get("grid") or "").strip()
        if grid:
            if grid == OUTSIDE:
                q.grid = OUTSIDE
            elif grid.isdigit() and len(grid) < 19:
                q.grid = int(grid)
            else:
                raise TriageError(Msg(N_("网格 %(value)r 不是网格编号"), value=grid[:40]))
        q.sort = _choice(args.get("sort"), tuple(SORTS), N_("排序")) or "score"
        q.order = _choice(args.get("order"), ("asc", "desc"), N_("顺序")) or "desc"
        q.page = _int(args.get("page"), 1, 1, 10**6, N_("页码"))
        q.per_page = _int(args.get("per_page"), 50, min(PER_PAGE), max(PER_PAGE), N_("每页条数"))
        q.group = args.get("group") != "0"
        return q

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query string of this query with `changes` (for links: sort headers, pages)."""
        out = {k: getattr(self, k) for k in ("label", "platform", "source", "grid", "sort", "order", "per_page")}
        out["page"] = self.page
        out["group"] = None if self.group else "0"
        out.update(changes)
        return {k: v for k, v in out.items() if v not in (None, "")}


def _choice(value: str | None, allowed, what: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if value not in allowed:
        raise TriageError(Msg(N_("%(what)s只能是：%(choices)s"), what=Msg(what), choices="、".join(allowed)))
    return value


def _int(value: str | None, default: int, low: int, high: int, what: str) -> int:
    if value in (None, ""):
        return default
    if not str(value).isdigit():
        raise TriageError(Msg(N_("%(what)s须是整数"), what=Msg(what)))
    return max(low, min(high, int(value)))


def _conditions(zone: set[int] | None, q: TriageQuery, skip: str | None = None) -> list:
    """WHERE clauses of the open hits under `q`; `skip` leaves one filter out (for its own counts)."""
    conds = [Hit.status == "new"]
    if zone is not None:
        conds.append(Hit.grid_id.in_(sorted(zone)))
    if q.label and skip != "label":
        conds.append(_has_label(q.label))
    if q.platform and skip != "platform":
        conds.append(Hit.platform == q.platform)
    if q.source and skip != "source":
        conds.append(Hit.source == q.source)
    if q.grid is not None and skip != "grid":
        conds.append(Hit.grid_id.is_(None) if q.grid == OUTSIDE else Hit.grid_id == q.grid)
    return conds


def _order(q: TriageQuery) -> tuple:
    column = SORTS[q.sort]
    return (column.desc(), Hit.id.desc()) if q.order == "desc" else (column.asc(), Hit.id.asc())


def _has_label(label: str):
    # The labels are a JSON list; its text holds each label in quotes (SQLite and PostgreSQL alike).
    return cast(Hit.labels, String).like(f'%"{label}"%')


def page(session: Session, zone: set[int] | None, q: TriageQuery, tz: str) -> dict[str, Any]:
    """One page of open hits (or of near-duplicate groups, one representative each) with the totals
    and the counts each filter would give."""
    total = session.scalar(select(func.count()).select_from(Hit).where(*_conditions(zone, q))) or 0
    sizes: dict[int, int] = {}
    if q.group:
        groups = near_duplicate_groups(session, zone, q)
        reps = list(dict.fromkeys(groups.values()))  # the first of each group, in display order
        for root in groups.values():
            sizes[root] = sizes.get(root, 0) + 1
        shown = len(reps)
    else:
        shown = total
    last = max(1, math.ceil(shown / q.per_page))
    q.page = min(q.page, last)  # a page past the last (a bookmark, fewer hits now) shows the last
    base = select(Hit, Grid.name).join(Grid, Grid.id == Hit.grid_id, isouter=True)
    if q.group:
        ids = reps[(q.page - 1) * q.per_page : q.page * q.per_page]
        found = {hit.id: (hit, grid) for hit, grid in session.execute(base.where(Hit.id.in_(ids))).all()}
        rows = [found[i] for i in ids if i in found]
    else:
        rows = session.execute(
            base.where(*_conditions(zone, q)).order_by(*_order(q)).limit(q.per_page).offset((q.page - 1) * q.per_page)
        ).all()
    out_rows = []
    for hit, grid_name in rows:
        row = _row(hit, grid_name, tz)
        row["group_size"] = sizes.get(hit.id, 1)
        out_rows.append(row)
    return {
        "query": q,
        "total": total,
        "shown": shown,
        "pages": last,
        "rows": out_rows,
        "counts": counts(session, zone, q),
        "labels": vocabulary.HIT_LABEL,
        "platforms": vocabulary.PLATFORM,
        "per_page_choices": PER_PAGE,
    }


def counts(session: Session, zone: set[int] | None, q: TriageQuery) -> dict[str, list[tuple[Any, str, int]]]:
    """For each filter, (value, name, how many open hits it would keep) under the other filters."""
    out: dict[str, list[tuple[Any, str, int]]] = {}
    base = _conditions(zone, q, skip="label")
    out["label"] = [
        (
            label,
            name,
            session.scalar(select(func.count()).select_from(Hit).where(*base, _has_label(label))) or 0,
        )
        for label, name in vocabulary.HIT_LABEL.items()
    ]
    for key, column in (("platform", Hit.platform), ("source", Hit.source)):
        rows = session.execute(
            select(column, func.count()).where(*_conditions(zone, q, skip=key)).group_by(column).order_by(column)
        ).all()
        names = vocabulary.PLATFORM if key == "platform" else {}
        out[key] = [(value, vocabulary.name(names, value) if names else value, n) for value, n in rows]
    rows = session.execute(
        select(Hit.grid_id, Grid.name, func.count())
        .join(Grid, Grid.id == Hit.grid_id, isouter=True)
        .where(*_conditions(zone, q, skip="grid"))
        .group_by(Hit.grid_id, Grid.name)
        .order_by(func.count().desc())
        .limit(30)
    ).all()
    out["grid"] = [(gid if gid is not None else OUTSIDE, name or N_("辖区外或未定位"), n) for gid, name, n in rows]
    return out


def _row(hit: Hit, grid_name: str | None, tz: str) -> dict[str, Any]:
    text = (hit.text or "").strip()
    return {
        "id": hit.id,
        "title": hit.title,
        "account": hit.account,
        "platform": vocabulary.name(vocabulary.PLATFORM, hit.platform),
        "source": hit.source,
        "grid": grid_name,
        "score": round(hit.score or 0, 2),
        "labels": vocabulary.names(vocabulary.HIT_LABEL, hit.labels or []),
        "detected_at": local_text(hit.detected_at, tz),
        "excerpt": text[:EXCERPT] + ("…" if len(text) > EXCERPT else ""),
        "reasons": [
            {
                "text": r.get("text", ""),
                "code": r.get("code"),
                "label": vocabulary.name(vocabulary.HIT_LABEL, r.get("label")),
            }
            for r in reason_list.unique(hit.reasons)
        ],
    }


def near_duplicate_groups(session: Session, zone: set[int] | None, q: TriageQuery) -> dict[int, int]:
    """{hit id: its group's representative} for the open hits under `q`, in display order (the
    representative is the first: the highest score, or the newest). Hashes missing from older rows
    are computed and stored first."""
    conds = _conditions(zone, q)
    missing = session.execute(
        select(Hit.id, Hit.title, Hit.text).where(*conds, Hit.simhash.is_(None)).limit(BACKFILL)
    ).all()
    for hit_id, title, text in missing:
        session.execute(update(Hit).where(Hit.id == hit_id).values(simhash=neardup.simhash(title, text)))
    rows = session.execute(select(Hit.id, Hit.simhash).where(*conds).order_by(*_order(q))).all()
    return neardup.group(rows)


def expand(session: Session, zone: set[int] | None, q: TriageQuery, ids: list[int]) -> list[int]:
    """`ids` with every member of each one's near-duplicate group (as the list under `q` showed it)."""
    groups = near_duplicate_groups(session, zone, q)
    members: dict[int, list[int]] = {}
    for hit_id, root in groups.items():
        members.setdefault(root, []).append(hit_id)
    out: list[int] = []
    for hit_id in ids:
        out += members.get(groups.get(hit_id, hit_id), [hit_id])
    return list(dict.fromkeys(out))


# ---------------------------------------------------------------- bulk actions

ACTIONS = {a: vocabulary.AUDIT_ACTION[a] for a in ("confirm", "dismiss", "transfer")}  # their one name


@dataclass
class Bulk:
    action: str
    hit_ids: list[int]
    reason: str = ""  # dismiss: why; confirm: a note
    authority: str = ""  # transfer: the receiving authority

    @classmethod
    def from_form(cls, form: Mapping[str, Any], hit_ids: list[int]) -> Bulk:
        action = (form.get("action") or "").strip()
        if action not in ACTIONS:
            choices = clues.join_list([Msg(a) for a in ACTIONS.values()])
            raise TriageError(Msg(N_("请选择操作：%(choices)s"), choices=choices))
        ids = list(dict.fromkeys(hit_ids))
        if not ids:
            raise TriageError(Msg(N_("请先勾选要处理的发现")))
        if len(ids) > MAX_BULK:
            raise TriageError(Msg(N_("一次最多处理 %(max)s 条，已选 %(count)s 条"), max=MAX_BULK, count=len(ids)))
        bulk = cls(action, ids, (form.get("reason") or "").strip(), (form.get("authority") or "").strip())
        if action == "dismiss" and not bulk.reason:
            raise TriageError(Msg(N_("批量排除须填写理由（对每一条都记录）")))
        if action == "transfer" and not bulk.authority:
            raise TriageError(Msg(N_("批量移送须填写接收单位")))
        return bulk

    @property
    def name(self) -> str:
        return ACTIONS[self.action]


def preview(session: Session, bulk: Bulk, tz: str) -> list[dict[str, Any]]:
    """The hits a bulk action would change, for the confirmation that says how many."""
    rows = session.execute(
        select(Hit, Grid.name).join(Grid, Grid.id == Hit.grid_id, isouter=True).where(Hit.id.in_(bulk.hit_ids))
    ).all()
    by_id = {hit.id: _row(hit, grid, tz) for hit, grid in rows}
    return [by_id[i] for i in bulk.hit_ids if i in by_id]


def apply(session: Session, user: User, bulk: Bulk) -> list[int]:
    """Run the action on every hit, all or nothing: the first hit that cannot take it (already triaged,
    no grid to route to) stops the whole action with its reason, and nothing is changed."""
    done = []
    for hit_id in bulk.hit_ids:
        try:
            if bulk.action == "confirm":
                done.append(clues.confirm_hit(session, hit_id, user, note=bulk.reason or None).id)
            elif bulk.action == "dismiss":
                clues.dismiss_hit(session, hit_id, user, bulk.reason)
                done.append(hit_id)
            else:
                done.append(clues.transfer_hit(session, hit_id, user, bulk.authority, bulk.reason or None).id)
        except clues.NotInZone:
            raise
        except UserError as exc:
            raise TriageError(
                Msg(N_("发现 #%(id)s：%(error)s；本次批量操作未做任何更改"), id=hit_id, error=exc.message)
            ) from None
    return done
