"""A zone-scoped search: the index narrows, the database decides.

The index learns a hit's grid through the outbox, so for a while after a hit is reassigned (longer if
the index is failing) it still files the hit under its old grid. A grid manager's search must never
show a hit outside the zone, so for a zone-scoped search (`grid_ids` given) the backend, whichever it
is, is asked for every match inside the zone *as the index sees it* (up to track_total_hits, ids
only), and the database then keeps the hits whose current grid is in the zone. Totals, pages and facet
counts are computed from the kept ids, so they agree with the hits shown; a hit moved *into* the zone
appears once the outbox has indexed it.

Cost: one backend request for up to track_total_hits ids (two for relevance order on the embedded
backend when there are more matches than rank_window: ranked ids, then all ids newest first), one
primary-key read of the hits table per 900 ids, and one more for the facets. bench/search_bench.py
measures it ("zone" lines).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from core import db
from core.config import Config
from core.i18n import Msg
from core.models import Hit
from search.backends.base import ResultHit, SearchBackend, SearchParams, SearchResult
from search.query import Query

CHUNK = 900  # ids per IN list (SQLite's bound-parameter limit is far above, PostgreSQL's too)


@dataclasses.dataclass
class Candidates:
    """Matches in the zone as the database sees it: `ordered` in the requested order (relevance may
    cover only the embedded backend's rank window), `total` of them all, exact when the index counted
    no more than track_total_hits."""

    ordered: list[ResultHit]
    total: int
    exact: bool
    notice: Msg | None = None


def candidates(cfg: Config, backend: SearchBackend, q: Query, params: SearchParams) -> Candidates:
    """Every match of the query inside the zone (index first, then the database), in order."""
    cap = int(cfg.search.track_total_hits)
    wide = dataclasses.replace(params, page=1, per_page=cap, facets=False, highlight=False)
    first = backend.search(q, wide)
    every = [h.id for h in first.hits]
    if len(first.hits) < min(first.total, cap):  # relevance only ranks a window: count the rest by time
        by_time = backend.search(dataclasses.replace(q, sort="time"), dataclasses.replace(wide, sort="time"))
        every = [h.id for h in by_time.hits]
    zone = set(params.grid_ids or ())
    if q.filters.grid_ids is not None:  # the user's own grid filter is decided by the database too
        zone &= set(q.filters.grid_ids)
    with db.session_scope(cfg) as s:
        grids = current_grids(s, set(every) | {h.id for h in first.hits})
    kept = {hit_id for hit_id, grid_id in grids.items() if grid_id in zone}
    return Candidates(
        ordered=[h for h in first.hits if h.id in kept],
        total=sum(1 for hit_id in every if hit_id in kept),
        exact=first.total_is_exact and first.total <= cap,
        notice=first.notice,
    )


def search(cfg: Config, backend: SearchBackend, q: Query, params: SearchParams) -> SearchResult:
    """One page of a zone-scoped search, with totals and facets counted from the database.

    Facets count what the backend's own facets count: every match (Elasticsearch), or the newest
    rank_window matches (the embedded and postgres backends, whose notice says so when there are more)."""
    found = candidates(cfg, backend, q, params)
    start = (max(1, params.page) - 1) * params.per_page
    facets: dict[str, list] = {}
    if params.facets and found.ordered:
        window = int(cfg.search.rank_window) if backend.name in ("embedded", "postgres") else 0
        ids = sorted((h.id for h in found.ordered), reverse=True)[: window or None]  # newest first
        with db.session_scope(cfg) as s:
            facets = facet_counts(facet_rows(s, ids), cfg.core.timezone, int(cfg.search.facet_size))
    return SearchResult(
        total=found.total,
        total_is_exact=found.exact,
        hits=found.ordered[start : start + params.per_page],
        facets=facets,
        page=params.page,
        per_page=params.per_page,
        notice=found.notice,
    )


_HITS = Hit.__table__
FACET_COLUMNS = (
    _HITS.c.grid_id,
    _HITS.c.labels,
    _HITS.c.platform,
    _HITS.c.source,
    _HITS.c.published_at,
    _HITS.c.detected_at,
)


def current_grids(session: Session, hit_ids: Iterable[int]) -> dict[int, int | None]:
    """hit id -> its grid in the database now, for the hits that still exist (plain rows by primary key,
    in bounded IN lists)."""
    return {hit_id: row[0] for hit_id, row in _rows(session, hit_ids, FACET_COLUMNS[:1]).items()}


def facet_rows(session: Session, hit_ids: Iterable[int]) -> list[tuple]:
    """The facet columns (grid, labels, platform, source, published, detected) of these hits."""
    return list(_rows(session, hit_ids, FACET_COLUMNS).values())


def _rows(session: Session, hit_ids: Iterable[int], columns) -> dict[int, tuple]:
    ids = sorted(hit_ids)
    out: dict[int, tuple] = {}
    conn = session.connection()
    if conn.dialect.name == "postgresql":  # one array parameter: no statement with thousands of them
        ids_param = bindparam("ids", ids, type_=ARRAY(BigInteger))
        rows = conn.execute(select(_HITS.c.id, *columns).where(_HITS.c.id == any_(ids_param))).all()
        return {row[0]: tuple(row[1:]) for row in rows}
    for i in range(0, len(ids), CHUNK):
        rows = conn.execute(select(_HITS.c.id, *columns).where(_HITS.c.id.in_(ids[i : i + CHUNK]))).all()
        out.update((row[0], tuple(row[1:])) for row in rows)
    return out


def facet_counts(rows: Iterable[tuple], tz: str, size: int) -> dict[str, list[tuple[str, int]]]:
    """The facets the backends return (label, platform, grid, source: largest first; day: the latest
    31 days in date order), counted from the database's rows (facet_rows)."""
    counts: dict[str, Counter] = {name: Counter() for name in ("label", "platform", "grid", "source", "day")}
    for grid_id, labels, platform, source, published_at, detected_at in rows:
        counts["label"].update(labels or ())
        counts["platform"][platform] += 1
        if grid_id is not None:
            counts["grid"][str(grid_id)] += 1
        counts["source"][source] += 1
        day = _local_day(published_at or detected_at, tz)
        if day:
            counts["day"][day] += 1
    out: dict[str, list[Any]] = {
        name: [(str(v), c) for v, c in counter.most_common(size) if v is not None]
        for name, counter in counts.items()
        if name != "day"
    }
    out["day"] = sorted(counts["day"].items())[-31:]
    return out


def _local_day(moment: dt.datetime | None, tz: str) -> str | None:
    """The hit's local day, as search.documents gives it to the index (stored times are naive UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(_tz(tz)).date().isoformat()


@lru_cache(maxsize=8)
def _tz(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
