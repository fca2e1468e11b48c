"""SQL and FTS5 MATCH expressions for the embedded backend, built by pure functions.

Keyword filters (label, platform, source, status, grid, zone) are hashed "tag" tokens in the index's
`tags` column, so a filtered keyword query is one intersection of doclists inside FTS5, with no row
lookups; only ranges (date, score) read the slim search_fts_meta table. User text never reaches SQL
or the MATCH syntax as typed: words become analysed tokens (letters and digits only) inside
double-quoted FTS5 strings, and range values are bound parameters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from search.analysis import TermPattern
from search.backends.base import SearchParams
from search.query import Query, QueryFilters

TEXT_COLUMNS = "{title body account reasons}"  # reasons: the concept text of search.documents.concepts
OLD_TEXT_COLUMNS = "{title body account}"  # an index built before INDEX_VERSION 2 (searchable until reindexed)
ALL = "tall"  # a tag every document carries: the base of filter-only and exclusion-only queries
META_COLUMNS = "m.labels, m.platform, m.grid_id, m.source, m.day"


def tag(field: str, value) -> str:
    """An opaque index token for field=value: hex, so any source name is safe in MATCH."""
    return "t" + hashlib.blake2b(f"{field}\x1f{value}".encode(), digest_size=8).hexdigest()


def doc_tags(doc: dict) -> str:
    tags = [
        ALL,
        tag("platform", doc.get("platform")),
        tag("source", doc.get("source")),
        tag("status", doc.get("status")),
    ]
    tags += [tag("label", x) for x in doc.get("labels") or []]
    if doc.get("grid_id") is not None:
        tags.append(tag("grid", doc["grid_id"]))
    return " ".join(tags)


def fts_string(p: TermPattern) -> str:
    """One FTS5 phrase: "t1 t2 …", with a trailing * when the last token is a prefix."""
    body = " ".join(t.replace('"', '""') for t in p.terms)
    return f'"{body}"' + ("*" if p.prefix else "")


def _any(tokens: list[str]) -> str:
    quoted = [f'"{t}"' for t in tokens]
    return quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"


def tag_expression(f: QueryFilters, params: SearchParams) -> str | None:
    parts = []
    for field, values in (
        ("label", f.labels),
        ("platform", f.platforms),
        ("source", f.sources),
        ("status", f.statuses),
    ):
        if values:
            parts.append(_any([tag(field, v) for v in values]))
    for ids in (f.grid_ids, params.grid_ids):
        if ids:
            parts.append(_any([tag("grid", i) for i in sorted(ids)]))
    return "tags : (" + " AND ".join(parts) + ")" if parts else None


def match_expression(q: Query, params: SearchParams | None = None, columns: str = TEXT_COLUMNS) -> str:
    """({title body account reasons} : (words)) AND tags : (filters) NOT {…} : exclusion …"""
    params = params or SearchParams()
    parts = []
    if q.groups:
        groups = []
        for group in q.groups:
            alts = [fts_string(t.pattern) for t in group]
            groups.append(alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")")
        parts.append(f"{columns} : (" + " AND ".join(groups) + ")")
    tags = tag_expression(q.filters, params)
    if tags:
        parts.append(tags)
    expr = " AND ".join(parts) if parts else f'tags : "{ALL}"'
    for t in q.excluded:
        expr = f"({expr}) NOT {columns} : {fts_string(t.pattern)}"
    return expr


def term_match(p: TermPattern, columns: str = TEXT_COLUMNS) -> str:
    """One term alone, for its document frequency."""
    return f"{columns} : {fts_string(p)}"


def doc_freq_sql(cap: int) -> str:
    """Rows containing a term, counted up to cap + 1 (enough for an idf, bounded in time)."""
    return f"SELECT count(*) FROM (SELECT rowid FROM search_fts WHERE search_fts MATCH ? LIMIT {int(cap) + 1})"


def range_clauses(f: QueryFilters, params: SearchParams) -> tuple[list[str], list]:
    where, args = [], []
    if f.date_from:
        where.append("m.day >= ?")
        args.append(f.date_from.isoformat())
    if f.date_to:
        where.append("m.day <= ?")
        args.append(f.date_to.isoformat())
    if f.score_min is not None:
        where.append("m.score >= ?")
        args.append(f.score_min)
    if f.score_max is not None:
        where.append("m.score <= ?")
        args.append(f.score_max)
    if params.min_hit_id:
        where.append("search_fts.rowid > ?")
        args.append(int(params.min_hit_id))
    return where, args


@dataclass
class Plan:
    match: str
    ranges: list[str]
    range_args: list
    ranked: bool
    limit: int
    offset: int
    window: int  # most matches ranked and faceted (newest first)
    empty: bool = False  # a zone with no grids: nothing can match

    @property
    def source(self) -> str:
        join = " CROSS JOIN search_fts_meta m ON m.rowid = search_fts.rowid" if self._needs_meta else ""
        where = " AND ".join(["search_fts MATCH ?", *self.ranges])
        return f"FROM search_fts{join} WHERE {where}"

    @property
    def _needs_meta(self) -> bool:
        return any(r.startswith("m.") for r in self.ranges)

    @property
    def args(self) -> list:
        return [self.match, *self.range_args]

    def _window(self, columns: str, size: int) -> str:
        # Walking the index newest-first lets SQLite stop early: every query is bounded however
        # common its words are (hit ids grow with detection time).
        return f"SELECT {columns} {self.source} ORDER BY search_fts.rowid DESC LIMIT {int(size)}"

    @property
    def page_sql(self) -> str:
        """Newest first. Ranked pages use window_ids_sql and sqlite_rank instead."""
        return f"SELECT search_fts.rowid, NULL {self.source} ORDER BY search_fts.rowid DESC LIMIT ? OFFSET ?"

    @property
    def page_args(self) -> list:
        return [*self.args, self.limit, self.offset]

    def window_ids_sql(self) -> str:
        return self._window("search_fts.rowid", self.window)

    def count_sql(self, cap: int) -> str:
        # Counting stops just past the cap, as Elasticsearch's track_total_hits does.
        return f"SELECT count(*) FROM (SELECT search_fts.rowid {self.source} LIMIT {int(cap) + 1})"

    def facet_sql(self) -> str:
        inner = self._window("search_fts.rowid AS id", self.window)
        return f"SELECT {META_COLUMNS} FROM ({inner}) w CROSS JOIN search_fts_meta m ON m.rowid = w.id"


def plan(q: Query, params: SearchParams, window: int, columns: str = TEXT_COLUMNS) -> Plan:
    ranges, range_args = range_clauses(q.filters, params)
    empty = (
        params.grid_ids is not None and not params.grid_ids or q.filters.grid_ids is not None and not q.filters.grid_ids
    )
    ranked = bool(q.groups) and (q.sort or params.sort) != "time"
    per_page = max(1, params.per_page)
    return Plan(
        match=match_expression(q, params, columns),
        ranges=ranges,
        range_args=range_args,
        ranked=ranked,
        limit=per_page,
        offset=(max(1, params.page) - 1) * per_page,
        window=window,
        empty=empty,
    )
