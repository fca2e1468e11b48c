"""Full-text search over hits: one query language, two backends (embedded SQLite FTS5, Elasticsearch).

    from search import search, index_hits, reindex, parse_query, get_backend
    result = search(cfg, '盗版 -招聘 platform:shop', sort="time", grid_ids=None)

Both backends return hit ids, totals and facets; documents and highlight snippets are filled in here
from the database with the shared analysis, so results look the same whichever backend answered.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from core import db, progress, vocabulary
from core.config import Config
from core.errors import UserError
from core.models import Grid
from grids import tree
from search import zone
from search.backends import get_backend
from search.backends.base import IndexUnavailable, ResultHit, SearchParams, SearchResult, Snippet
from search.documents import iter_all_docs, load_docs
from search.highlight import snippets_for, snippets_from_fragments
from search.query import Query, merge_filters
from search.query import parse_query as _parse

__all__ = [
    "get_backend",
    "index_hits",
    "search",
    "matching_ids",
    "reindex",
    "parse_query",
    "SearchResult",
    "ResultHit",
    "Snippet",
    "Query",
    "IndexUnavailable",
]


def parse_query(text: str, cfg: Config | None = None) -> Query:
    if cfg is None:
        return _parse(text)
    return _parse(text, max_length=int(cfg.search.max_query_length), max_terms=int(cfg.search.max_query_terms))


def index_hits(cfg: Config, hit_ids: list[int]) -> int:
    """Index these hits now (raises IndexUnavailable when the backend is down); returns how many."""
    backend = get_backend(cfg)
    backend.ensure_ready()
    with db.session_scope(cfg) as s:
        docs = load_docs(s, list(hit_ids), cfg.core.timezone)
    if docs:
        backend.index(docs)
    gone = sorted(set(hit_ids) - {d["id"] for d in docs})
    if gone:
        backend.delete(gone)
    return len(docs)


def search(
    cfg: Config,
    query: str | Query,
    *,
    filters: dict[str, Any] | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    grid_ids: set[int] | None = None,
    facets: bool = True,
    min_hit_id: int = 0,
) -> SearchResult:
    """Run a patrol staff query. `grid_ids` scopes to a zone (None = everything): the database, not the
    index, decides which hits are in it (search.zone). UserError on bad input."""
    q = parse_query(query, cfg) if isinstance(query, str) else query
    merge_filters(q, filters)
    if sort not in (None, "relevance", "time"):
        raise UserError(f"排序方式只能是 relevance 或 time，不是 {sort!r}")
    per_page = max(1, min(int(per_page), int(cfg.search.max_per_page)))
    page = max(1, int(page))
    if page * per_page > int(cfg.search.track_total_hits):
        raise UserError(f"只能翻到前 {cfg.search.track_total_hits} 条结果，请增加筛选条件缩小范围")
    params = SearchParams(
        sort=q.sort or sort or "relevance",
        page=page,
        per_page=per_page,
        grid_ids=None if grid_ids is None else set(grid_ids),
        facets=facets,
        min_hit_id=min_hit_id,
    )
    if q.dropped_all_words:
        return SearchResult(0, True, [], {}, page, per_page, notice=q.notice)
    with db.session_scope(cfg) as s:
        _resolve_grids(s, q)
    backend = get_backend(cfg)
    result = backend.search(q, params) if params.grid_ids is None else zone.search(cfg, backend, q, params)
    result.notice = result.notice or q.notice
    _fill(cfg, result, q)
    return result


def matching_ids(
    cfg: Config,
    query: str,
    *,
    filters: dict[str, Any] | None = None,
    sort: str | None = None,
    grid_ids: set[int] | None = None,
    limit: int,
) -> list[int]:
    """The ids of the first `limit` matches in the result's order (for exports), in one request to the
    backend; a zone-scoped search keeps only the hits the database puts in the zone."""
    q = parse_query(query, cfg)
    merge_filters(q, filters)
    if sort not in (None, "relevance", "time"):
        raise UserError(f"排序方式只能是 relevance 或 time，不是 {sort!r}")
    if q.dropped_all_words:
        return []
    limit = max(0, min(int(limit), int(cfg.search.track_total_hits)))
    params = SearchParams(
        sort=q.sort or sort or "relevance",
        per_page=max(1, limit),
        grid_ids=None if grid_ids is None else set(grid_ids),
        facets=False,
        highlight=False,
    )
    with db.session_scope(cfg) as s:
        _resolve_grids(s, q)
    backend = get_backend(cfg)
    hits = backend.search(q, params).hits if grid_ids is None else zone.candidates(cfg, backend, q, params).ordered
    return [h.id for h in hits][:limit]


def _resolve_grids(session, q: Query) -> None:
    """Grid codes or names (网格/街道/区县) → the ids of those grids and all grids under them."""
    if not q.filters.grids:
        return
    found: set[int] = set()
    for value in q.filters.grids:
        ids = set(session.scalars(select(Grid.id).where(or_(Grid.code == value, Grid.name == value))))
        if not ids:
            raise UserError(f"没有找到网格或区县 {value!r}（请填写网格编码或名称）")
        found |= ids
    q.filters.grid_ids = tree.descendants(session, found)


def _fill(cfg: Config, result: SearchResult, q: Query) -> None:
    """Documents, highlight snippets and grid names from the database (current status included).
    Snippets come from the backend's own highlights when it made them (Elasticsearch), else from
    search.highlight over the hit's text."""
    patterns = [t.pattern for t in q.positive_terms]
    with db.session_scope(cfg) as s:
        docs = {d["id"]: d for d in load_docs(s, [h.id for h in result.hits])}
        grid_ids = [int(v) for v, _ in result.facets.get("grid", []) if str(v).isdigit()]
        names = dict(s.execute(select(Grid.id, Grid.name).where(Grid.id.in_(grid_ids))).all()) if grid_ids else {}
    kept = []
    for h in result.hits:
        doc = docs.get(h.id)
        if doc is None:  # deleted from the database, not yet from the index
            continue
        h.snippets = snippets_for(doc, patterns) if h.highlights is None else snippets_from_fragments(doc, h.highlights)
        doc.pop("text", None)
        doc.pop("reasons", None)  # the indexed concept text; reason_names and reason_codes stay
        h.doc = doc
        kept.append(h)
    result.hits = kept
    result.facets = {
        name: [{"value": str(v), "label": _facet_label(name, str(v), names), "count": c} for v, c in values]
        for name, values in result.facets.items()
    }


# Facet values shown by their vocabulary names (short label names: the facet panel is narrow).
FACET_NAMES = {"label": vocabulary.HIT_LABEL_SHORT, "platform": vocabulary.PLATFORM, "status": vocabulary.HIT_STATUS}


def _facet_label(name: str, value: str, grid_names: dict[int, str]) -> str:
    if name == "grid":
        return grid_names.get(int(value), value) if value.isdigit() else value
    if name in FACET_NAMES:
        return vocabulary.name(FACET_NAMES[name], value)
    return value


def reindex(cfg: Config, progress_bar: bool = True) -> int:
    """Rebuild the whole index from the database and switch to it; the outbox is left to drain after."""
    from sqlalchemy import func

    from core.models import Hit

    backend = get_backend(cfg)
    with db.session_scope(cfg) as s:
        total = s.scalar(select(func.count(Hit.id))) or 0
    with db.session_scope(cfg) as s:
        if progress_bar:
            with progress.make_progress() as bar:
                task = bar.add_task("重建索引 reindex", total=total)
                return backend.rebuild(iter_all_docs(s, tz=cfg.core.timezone), total, lambda n: bar.advance(task, n))
        return backend.rebuild(iter_all_docs(s, tz=cfg.core.timezone), total, lambda n: None)
