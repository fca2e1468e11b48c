"""SQL for the embedded backend, built by pure functions (unit-tested without a database).

User text never reaches SQL or the FTS5 MATCH syntax as typed: words become analysed tokens (letters
and digits only) inside double-quoted FTS5 strings, and every filter value is a bound parameter.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from search.analysis import TermPattern
from search.backends.base import SearchParams
from search.query import Filters, Query

# Column weights for bm25 (title, body, account): a keyword in the title matters most.
BM25 = "bm25(search_fts, 5.0, 1.0, 2.0)"
WHEN = "coalesce(h.published_at, h.detected_at)"


def fts_string(p: TermPattern) -> str:
    """One FTS5 phrase: "t1 t2 …", with a trailing * when the last token is a prefix."""
    body = " ".join(t.replace('"', '""') for t in p.terms)
    return f'"{body}"' + ("*" if p.prefix else "")


def match_expression(q: Query) -> str | None:
    """(a OR b) AND c NOT d — None when the query has no positive words."""
    if not q.groups:
        return None
    parts = []
    for group in q.groups:
        alts = [fts_string(t.pattern) for t in group]
        parts.append(alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")")
    expr = " AND ".join(parts)
    for t in q.excluded:
        expr = f"({expr}) NOT {fts_string(t.pattern)}"
    return expr


def exclusion_expression(q: Query) -> str | None:
    """For a query of exclusions only: what to leave out."""
    if q.groups or not q.excluded:
        return None
    return " OR ".join(fts_string(t.pattern) for t in q.excluded)


def filter_clauses(f: Filters, params: SearchParams, offset_min: int) -> tuple[list[str], list]:
    where: list[str] = []
    args: list = []

    def any_of(column: str, values) -> None:
        values = list(values)
        where.append(f"{column} IN ({','.join('?' * len(values))})" if values else "0")
        args.extend(values)

    if f.labels:
        where.append("EXISTS (SELECT 1 FROM json_each(h.labels) WHERE json_each.value IN "
                     f"({','.join('?' * len(f.labels))}))")
        args.extend(f.labels)
    if f.platforms:
        any_of("h.platform", f.platforms)
    if f.sources:
        any_of("h.source", f.sources)
    if f.statuses:
        any_of("h.status", f.statuses)
    if f.grid_ids is not None:
        any_of("h.grid_id", sorted(f.grid_ids))
    if params.grid_ids is not None:
        any_of("h.grid_id", sorted(params.grid_ids))
    if f.date_from:
        where.append(f"{WHEN} >= ?")
        args.append(_utc_text(f.date_from, offset_min))
    if f.date_to:
        where.append(f"{WHEN} < ?")
        args.append(_utc_text(f.date_to + dt.timedelta(days=1), offset_min))
    if f.score_min is not None:
        where.append("h.score >= ?")
        args.append(f.score_min)
    if f.score_max is not None:
        where.append("h.score <= ?")
        args.append(f.score_max)
    if params.min_hit_id:
        where.append("h.id > ?")
        args.append(params.min_hit_id)
    return where, args


def _utc_text(day: dt.date, offset_min: int) -> str:
    """Local midnight of `day` as the UTC text SQLAlchemy stores (lexical order = time order)."""
    utc = dt.datetime.combine(day, dt.time()) - dt.timedelta(minutes=offset_min)
    return utc.strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Plan:
    source: str  # FROM … (the full-text index joined to hits, or hits alone)
    where: str
    args: list
    ranked: bool
    text: bool  # the query has words (the index drives the scan)
    limit: int
    offset: int
    window: int  # most matches ranked, counted and faceted (newest first), like track_total_hits
    offset_min: int = 0

    def _window_sql(self, columns: str) -> str:
        """The newest `window` matches. Walking the index in rowid order lets SQLite stop early,
        which bounds every query however common its words are (hit ids grow with detection time)."""
        order = "search_fts.rowid DESC" if self.text else "h.id DESC"
        return f"SELECT {columns} {self.source}{self.where} ORDER BY {order} LIMIT {int(self.window)}"

    @property
    def page_sql(self) -> str:
        if self.ranked:
            inner = self._window_sql(f"h.id AS id, {BM25} AS rank")
            return f"SELECT id, rank FROM ({inner}) ORDER BY rank, id DESC LIMIT ? OFFSET ?"
        order = "search_fts.rowid DESC" if self.text else "h.id DESC"
        return f"SELECT h.id, NULL {self.source}{self.where} ORDER BY {order} LIMIT ? OFFSET ?"

    @property
    def page_args(self) -> list:
        return [*self.args, self.limit, self.offset]

    def count_sql(self, cap: int) -> str:
        # Counting stops just past the cap, as Elasticsearch's track_total_hits does.
        return f"SELECT count(*) FROM (SELECT 1 {self.source}{self.where} LIMIT {int(cap) + 1})"

    def facet_sqls(self, size: int) -> dict[str, str]:
        m = "(" + self._window_sql(f"h.labels AS labels, h.platform AS platform, h.grid_id AS grid_id, "
                                   f"h.source AS source, {WHEN} AS at") + ") m"
        n = int(size)
        return {
            "label": f"SELECT j.value, count(*) FROM {m}, json_each(m.labels) j GROUP BY 1 ORDER BY 2 DESC LIMIT {n}",
            "platform": f"SELECT platform, count(*) FROM {m} GROUP BY 1 ORDER BY 2 DESC LIMIT {n}",
            "grid": f"SELECT grid_id, count(*) FROM {m} GROUP BY 1 ORDER BY 2 DESC LIMIT {n}",
            "source": f"SELECT source, count(*) FROM {m} GROUP BY 1 ORDER BY 2 DESC LIMIT {n}",
            "day": (f"SELECT date(at, '{self.offset_min:+d} minutes'), count(*) FROM {m} "
                    "GROUP BY 1 ORDER BY 1 DESC LIMIT 31"),
        }


def plan(q: Query, params: SearchParams, offset_min: int, window: int) -> Plan:
    where, args = filter_clauses(q.filters, params, offset_min)
    match = match_expression(q)
    if match is not None:
        # CROSS JOIN keeps the full-text index as the outer loop: a filter on an indexed hits column
        # must not make SQLite scan hits and probe the index row by row.
        source = "FROM search_fts CROSS JOIN hits h ON h.id = search_fts.rowid"
        where.insert(0, "search_fts MATCH ?")
        args.insert(0, match)
    else:
        source = "FROM hits h"
        excl = exclusion_expression(q)
        if excl is not None:
            where.append("h.id NOT IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?)")
            args.append(excl)
    ranked = match is not None and (q.sort or params.sort) != "time"
    per_page = max(1, params.per_page)
    return Plan(source=source, where=(" WHERE " + " AND ".join(where)) if where else "", args=args,
                ranked=ranked, text=match is not None, limit=per_page,
                offset=(max(1, params.page) - 1) * per_page, window=window, offset_min=offset_min)
