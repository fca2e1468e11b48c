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
    from_where: str
    args: list
    ranked: bool
    order: str
    limit: int
    offset: int
    offset_min: int = 0
    facet_names: tuple = field(default=("label", "platform", "grid", "source", "day"))

    @property
    def page_sql(self) -> str:
        rank = BM25 if self.ranked else "NULL"
        return f"SELECT h.id, {rank} AS rank {self.from_where} ORDER BY {self.order} LIMIT ? OFFSET ?"

    @property
    def page_args(self) -> list:
        return [*self.args, self.limit, self.offset]

    def count_sql(self, cap: int) -> str:
        # Counting stops just past the cap, as Elasticsearch's track_total_hits does.
        return f"SELECT count(*) FROM (SELECT 1 {self.from_where} LIMIT {int(cap) + 1})"

    def facet_sqls(self, size: int) -> dict[str, str]:
        fw, n = self.from_where, int(size)
        day = f"date({WHEN}, '{self.offset_min:+d} minutes')"
        return {
            "label": ("SELECT j.value, count(*) FROM (SELECT h.labels AS labels "
                      f"{fw}) m, json_each(m.labels) j GROUP BY j.value ORDER BY 2 DESC LIMIT {n}"),
            "platform": f"SELECT h.platform, count(*) {fw} GROUP BY 1 ORDER BY 2 DESC LIMIT {n}",
            "grid": f"SELECT h.grid_id, count(*) {fw} GROUP BY 1 ORDER BY 2 DESC LIMIT {n}",
            "source": f"SELECT h.source, count(*) {fw} GROUP BY 1 ORDER BY 2 DESC LIMIT {n}",
            "day": f"SELECT {day}, count(*) {fw} GROUP BY 1 ORDER BY 1 DESC LIMIT 31",
        }


def plan(q: Query, params: SearchParams, offset_min: int) -> Plan:
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
    order = "rank, h.id DESC" if ranked else "h.detected_at DESC, h.id DESC"
    fw = source + (" WHERE " + " AND ".join(where) if where else "")
    per_page = max(1, params.per_page)
    return Plan(from_where=fw, args=args, ranked=ranked, order=order, limit=per_page,
                offset=(max(1, params.page) - 1) * per_page, offset_min=offset_min)
