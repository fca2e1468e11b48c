"""tsvector documents, tsquery expressions and SQL for the PostgreSQL backend, built by pure functions.

A document is one `tsvector` built with the `simple` configuration from the token streams of
search.analysis (the same CJK bigrams and latin words as the embedded backend), one weight per
field: title A, account B, reasons (the concept text) C, text D, in that order, so a text longer
than PostgreSQL's last position (16,383) loses phrase positions only at the end of its text.
`||` numbers the next field's positions after the previous field's last one, so a phrase must stay
inside one field: a phrase of several tokens is asked once per weight ('盗版':A <-> '版书':A | …),
as FTS5 keeps a phrase inside one column. Filters (label, platform, source, status, grid, and the
zone) are position-less tag lexemes ('#t…', which no analysed token can be: tokens are letters and
digits), so a keyword query with filters is one GIN lookup. Dates and scores are columns.

User text never reaches SQL: words become analysed tokens (letters and digits) quoted inside a
tsquery literal that is bound as a parameter, and range values are bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from search.analysis import TermPattern
from search.backends import sqlite_sql
from search.backends.base import SearchParams
from search.query import Query, QueryFilters

TABLE = "search_pg"
BUILD = "search_pg_build"
WEIGHTS = "ABCD"  # title, account, reasons, text (the order of FIELDS)
FIELDS = ("title", "account", "reasons", "text")
ALL = "'#tall'"  # a tag every document carries: the base of filter-only and exclusion-only queries


# Documents are built by the server from the analysed token streams (to_tsvector('simple', …) per
# field), so the CPU of building them is the database server's, not the indexing process's.
def tsvector_sql(ref=lambda name: f"CAST(:{name} AS text)") -> str:
    """The document's tsvector from its four token streams and its tags (`ref` names each value: a
    bound parameter, or a column of the staging table a rebuild loads)."""
    pairs = zip(FIELDS, WEIGHTS, strict=True)
    fields = " || ".join(f"setweight(to_tsvector('simple', {ref(f)}), '{w}')" for f, w in pairs)
    return f"{fields} || CAST({ref('tags')} AS tsvector)"


TSVECTOR_SQL = tsvector_sql()
# A rebuild COPYs analysed rows into this temporary table (in analyse_batch's order), then builds
# the documents from it in one INSERT … SELECT per batch: much faster than one INSERT per row.
STAGE = "wx_search_stage"
STAGE_COLUMNS = (
    "id bigint, title text, account text, reasons text, text text, tags text, platform text, source text, "
    "status text, grid_id integer, score real, day date, labels text"
)


def stage_sql() -> str:
    return f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} ({STAGE_COLUMNS}) ON COMMIT DELETE ROWS"


def load_from_stage_sql(table: str) -> str:
    doc = tsvector_sql(lambda name: f"s.{name}")
    return (
        f"INSERT INTO {table} ({COLUMNS}) SELECT s.id, {doc}, s.platform, s.source, s.status, s.grid_id, "
        f"s.score, s.day, s.labels FROM {STAGE} s"
    )


COLUMNS = "id, tsv, platform, source, status, grid_id, score, day, labels"
VALUES = (
    f"(:id, {TSVECTOR_SQL}, :platform, :source, :status, CAST(:grid_id AS integer), CAST(:score AS real), "
    "CAST(:day AS date), :labels)"
)


def create_sql(table: str) -> list[str]:
    """The table (GIN index separately: created after a bulk load, which is much faster)."""
    return [
        f"CREATE TABLE {table} (id bigint PRIMARY KEY, tsv tsvector NOT NULL, platform text, source text, "
        "status text, grid_id integer, score real, day date, labels text)",
    ]


def gin_sql(table: str) -> str:
    return f"CREATE INDEX {table}_tsv ON {table} USING gin (tsv)"


def insert_sql(table: str, upsert: bool) -> str:
    sql = f"INSERT INTO {table} ({COLUMNS}) VALUES {VALUES}"
    if upsert:
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS.split(", ")[1:])
        sql += f" ON CONFLICT (id) DO UPDATE SET {sets}"
    return sql


def lexeme(token: str) -> str:
    """A quoted tsvector/tsquery lexeme (tokens are letters and digits; quotes and backslashes are
    escaped anyway)."""
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


# Hit ids grow with detection time. Every document also carries the tag of its id's bucket (BUCKET
# ids each), so "the newest matches" is one GIN query (the words and filters AND the newest buckets):
# a GIN index cannot return its matches in id order, and walking the primary key newest first reads
# (and decompresses) every row's tsvector until enough match.
BUCKET = 10000


def bucket_lexeme(bucket: int) -> str:
    return lexeme(f"#b{int(bucket)}")


def tags_tsvector(doc: dict) -> str:
    """The filter tags and the id bucket of a document as a tsvector literal (no positions)."""
    tags = [lexeme("#" + t) for t in sqlite_sql.doc_tags(doc).split()]
    return " ".join([*tags, bucket_lexeme(int(doc["id"]) // BUCKET)])


def tag_lexeme(field: str, value) -> str:
    return lexeme("#" + sqlite_sql.tag(field, value))


def term_query(p: TermPattern) -> str:
    """One word or phrase: a single token anywhere, or consecutive tokens inside one field."""
    if len(p.terms) == 1:
        return lexeme(p.terms[0]) + (":*" if p.prefix else "")
    last = len(p.terms) - 1
    per_field = []
    for w in WEIGHTS:
        parts = [lexeme(t) + ":" + ("*" if p.prefix and k == last else "") + w for k, t in enumerate(p.terms)]
        per_field.append("(" + " <-> ".join(parts) + ")")
    return "(" + " | ".join(per_field) + ")"


def _any(lexemes: list[str]) -> str:
    return lexemes[0] if len(lexemes) == 1 else "(" + " | ".join(lexemes) + ")"


def tag_query(f: QueryFilters, params: SearchParams) -> list[str]:
    parts = []
    for field, values in (
        ("label", f.labels),
        ("platform", f.platforms),
        ("source", f.sources),
        ("status", f.statuses),
    ):
        if values:
            parts.append(_any([tag_lexeme(field, v) for v in values]))
    for ids in (f.grid_ids, params.grid_ids):
        if ids:
            parts.append(_any([tag_lexeme("grid", i) for i in sorted(ids)]))
    return parts


def tsquery(q: Query, params: SearchParams | None = None) -> str | None:
    """The whole query (words, OR groups, exclusions, filter tags) as one tsquery literal, or None
    when nothing narrows the set (every document matches: no words, no filter tags)."""
    params = params or SearchParams()
    parts = []
    for group in q.groups:
        alts = [term_query(t.pattern) for t in group]
        parts.append(alts[0] if len(alts) == 1 else "(" + " | ".join(alts) + ")")
    parts += tag_query(q.filters, params)
    if not parts and not q.excluded:
        return None
    expr = " & ".join(parts) if parts else ALL
    for t in q.excluded:
        expr = f"({expr}) & !{term_query(t.pattern)}"
    return expr


def range_clauses(f: QueryFilters, params: SearchParams) -> tuple[list[str], dict]:
    where, args = [], {}
    if f.date_from:
        where.append("day >= :date_from")
        args["date_from"] = f.date_from
    if f.date_to:
        where.append("day <= :date_to")
        args["date_to"] = f.date_to
    if f.score_min is not None:
        where.append("score >= :score_min")
        args["score_min"] = f.score_min
    if f.score_max is not None:
        where.append("score <= :score_max")
        args["score_max"] = f.score_max
    if params.min_hit_id:
        where.append("id > :min_hit_id")
        args["min_hit_id"] = int(params.min_hit_id)
    return where, args


# Relevance: ts_rank with the field weights of the other backends (title 5, account 2, text and
# reasons 1; PostgreSQL wants them as {D, C, B, A} in 0..1), length-normalised (1 + log of the
# document's length). PostgreSQL keeps no per-term corpus statistics, so there is no idf as in BM25.
RANK_WEIGHTS = "{0.2, 0.2, 0.4, 1.0}"
BUCKET_STEPS = (8,)  # buckets looked at in turn, newest first, before the rest of the table


@dataclass
class Plan:
    where: str
    args: dict
    rank_query: str | None  # the positive words alone, for ts_rank
    ranked: bool
    limit: int
    offset: int
    window: int  # most matches ranked and faceted (newest first)
    empty: bool = False  # a zone with no grids: nothing can match

    @property
    def uses_index(self) -> bool:
        return "q" in self.args

    def newest_sql(self, columns: str, in_buckets: bool) -> str:
        """The newest `:n` matches, with `columns`; `in_buckets`: only in the buckets of `:qb` (the query
        AND some bucket tags). The row's tsvector is read (decompressed) only for the rank, and only for
        the rows kept."""
        where = self.where.replace("CAST(:q AS tsquery)", "CAST(:qb AS tsquery)") if in_buckets else self.where
        inner = f"SELECT {columns.replace(RANK, 'tsv')} FROM {TABLE} WHERE {where} ORDER BY id DESC LIMIT :n"
        if RANK not in columns:
            return inner
        return f"SELECT {columns.replace('tsv', 'w.tsv')} FROM ({inner}) w ORDER BY id DESC"

    def bucket_query(self, buckets: range) -> str:
        """The query AND one of these buckets."""
        return f"({self.args['q']}) & (" + " | ".join(bucket_lexeme(b) for b in buckets) + ")"

    def count_sql(self, in_buckets: bool = False) -> str:
        """Matches counted up to `:cap` (as Elasticsearch's track_total_hits does); `in_buckets`: only
        those of `:qb`."""
        where = self.where.replace("CAST(:q AS tsquery)", "CAST(:qb AS tsquery)") if in_buckets else self.where
        return f"SELECT count(*) FROM (SELECT 1 FROM {TABLE} WHERE {where} LIMIT :cap) s"


PAGE_COLUMNS = "id"
WINDOW_COLUMNS = "id, labels, platform, grid_id, source, day"
RANK = f"ts_rank('{RANK_WEIGHTS}', tsv, CAST(:rq AS tsquery), 1)"
RANKED_WINDOW_COLUMNS = f"{WINDOW_COLUMNS}, {RANK}"


def plan(q: Query, params: SearchParams, window: int) -> Plan:
    where, args = range_clauses(q.filters, params)
    expr = tsquery(q, params)
    if expr is not None:
        where.insert(0, "tsv @@ CAST(:q AS tsquery)")
        args["q"] = expr
    ranked = bool(q.groups) and (q.sort or params.sort) != "time"
    rank_query = None
    if ranked:
        groups = ["(" + " | ".join(term_query(t.pattern) for t in g) + ")" for g in q.groups]
        rank_query = " & ".join(groups)
    empty = (
        params.grid_ids is not None and not params.grid_ids or q.filters.grid_ids is not None and not q.filters.grid_ids
    )
    per_page = max(1, params.per_page)
    return Plan(
        where=" AND ".join(where) or "TRUE",
        args=args,
        rank_query=rank_query,
        ranked=ranked,
        limit=per_page,
        offset=(max(1, params.page) - 1) * per_page,
        window=window,
        empty=empty,
    )
