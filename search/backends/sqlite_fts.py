"""The embedded backend: SQLite FTS5 in the project's database.

The FTS5 table (migration 0003) is contentless and holds the token stream of search.analysis;
search_fts_docs keeps the normalised text each row was indexed from, which is what a contentless
table needs to delete a row on SQLite < 3.43. Filters, sorting by time and facets read the hits table
joined on rowid = hit id, so a status change needs no reindex here.
"""
from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from core import db
from core.config import Config
from core.errors import ConfigError
from search.backends import sqlite_sql
from search.analysis import index_terms, normalize
from search.backends.base import IndexUnavailable, ResultHit, SearchParams, SearchResult
from search.query import Query

log = logging.getLogger(__name__)
TABLE, DOCS = "search_fts", "search_fts_docs"
BUILD_TABLE, BUILD_DOCS = "search_fts_build", "search_fts_build_docs"
FTS_COLUMNS = "title, body, account"
_CREATE_FTS = ("CREATE VIRTUAL TABLE {t} USING fts5(title, body, account, content='', "
               "tokenize='unicode61 remove_diacritics 0')")
_CREATE_DOCS = "CREATE TABLE {t} (rowid INTEGER PRIMARY KEY, title TEXT, body TEXT, account TEXT)"


class SqliteFtsBackend:
    name = "embedded"

    def __init__(self, cfg: Config):
        if not db.is_sqlite(cfg):
            raise ConfigError("[search] backend = \"embedded\" needs the SQLite database; with PostgreSQL "
                              "set backend = \"elasticsearch\"")
        self.cfg = cfg

    # ------------------------------------------------------------------ writing

    def ensure_ready(self) -> None:
        with _conn(self.cfg) as conn:
            if not _exists(conn, TABLE):
                raise ConfigError("the search index table is missing; run `wangxun init` to upgrade the database")

    def rebuilding(self) -> bool:
        """True while `reindex` builds a new index (the outbox waits, so no update lands in the old one)."""
        with _conn(self.cfg) as conn:
            return _exists(conn, BUILD_TABLE)

    def index(self, docs: list[dict[str, Any]]) -> None:
        with _conn(self.cfg) as conn:
            try:
                _write(conn, TABLE, DOCS, docs)
                conn.commit()
            except sqlite3.OperationalError as exc:  # "database is locked" after the busy timeout
                conn.rollback()
                raise IndexUnavailable(str(exc)) from exc

    def delete(self, hit_ids: list[int]) -> None:
        with _conn(self.cfg) as conn:
            try:
                _remove(conn, TABLE, DOCS, hit_ids)
                conn.commit()
            except sqlite3.OperationalError as exc:
                conn.rollback()
                raise IndexUnavailable(str(exc)) from exc

    def rebuild(self, docs: Iterable[dict[str, Any]], total: int, advance: Callable[[int], None]) -> int:
        """Fill a new table beside the live one in committed batches, then swap them in one transaction,
        so searches keep working during a reindex of a million hits. Analysis (the CPU-bound part)
        runs in `reindex_workers` processes while this one reads and writes the database."""
        rows = ((d["id"], d.get("title") or "", d.get("text") or "", d.get("account") or "") for d in docs)
        batches = _batched(rows, int(self.cfg.search.bulk_size))
        workers = int(self.cfg.search.reindex_workers)
        with _analysis_pool(workers) as pool, _conn(self.cfg) as conn:
            for t in (BUILD_TABLE, BUILD_DOCS):
                conn.execute(f"DROP TABLE IF EXISTS {t}")
            conn.execute(_CREATE_FTS.format(t=BUILD_TABLE))
            conn.execute(_CREATE_DOCS.format(t=BUILD_DOCS))
            conn.commit()
            n = since_commit = 0
            for analysed in (pool.imap(analyse_batch, batches) if pool else map(analyse_batch, batches)):
                _insert(conn, BUILD_TABLE, BUILD_DOCS, analysed)
                n += len(analysed)
                since_commit += len(analysed)
                if since_commit >= 20000:  # big transactions let FTS5 write fewer, larger segments
                    conn.commit()
                    since_commit = 0
                advance(len(analysed))
            conn.execute(f"INSERT INTO {BUILD_TABLE}({BUILD_TABLE}) VALUES('optimize')")
            conn.execute(f"DROP TABLE {TABLE}")
            conn.execute(f"DROP TABLE {DOCS}")
            conn.execute(f"ALTER TABLE {BUILD_TABLE} RENAME TO {TABLE}")
            conn.execute(f"ALTER TABLE {BUILD_DOCS} RENAME TO {DOCS}")
            conn.commit()
        return n

    def count(self) -> int:
        with _conn(self.cfg) as conn:
            return conn.execute(f"SELECT count(*) FROM {DOCS}").fetchone()[0]

    # ------------------------------------------------------------------ reading

    def search(self, query: Query, params: SearchParams) -> SearchResult:
        cap = int(self.cfg.search.track_total_hits)
        plan = sqlite_sql.plan(query, params, _utc_offset_minutes(self.cfg), window=cap)
        with _conn(self.cfg) as conn:
            try:
                rows = conn.execute(plan.page_sql, plan.page_args).fetchall()
                total = conn.execute(plan.count_sql(cap), plan.args).fetchone()[0]
                facets = (_facets(conn, plan, int(self.cfg.search.facet_size))
                          if params.facets else {})
            except sqlite3.OperationalError as exc:
                raise IndexUnavailable(str(exc)) from exc
        hits = [ResultHit(id=r[0], score=(-r[1] if r[1] is not None else None), doc={}) for r in rows]
        return SearchResult(total=min(total, cap), total_is_exact=total <= cap, hits=hits,
                            facets=facets, page=params.page, per_page=params.per_page,
                            notice=None if total <= cap else
                            f"匹配超过 {cap} 条：按相关度排序和分类统计只看最新的 {cap} 条，请加筛选条件缩小范围")


def _facets(conn, plan: sqlite_sql.Plan, size: int) -> dict[str, list[tuple[str, int]]]:
    out = {}
    for name, sql in plan.facet_sqls(size).items():
        out[name] = [(str(v), c) for v, c in conn.execute(sql, plan.args).fetchall() if v is not None]
    if "day" in out:  # latest days, shown in date order
        out["day"] = sorted(out["day"])
    return out


def analyse_batch(rows: list[tuple[int, str, str, str]]) -> list[tuple]:
    """(id, title, text, account) → (id, normalised ×3, token streams ×3); runs in worker processes."""
    out = []
    for i, t, b, a in rows:
        nt, nb, na = normalize(t), normalize(b), normalize(a)
        out.append((i, nt, nb, na, index_terms(nt), index_terms(nb), index_terms(na)))
    return out


def _insert(conn, table: str, docs_table: str, analysed: list[tuple]) -> None:
    conn.executemany(f"INSERT INTO {docs_table}(rowid, title, body, account) VALUES (?,?,?,?)",
                     [r[:4] for r in analysed])
    conn.executemany(f"INSERT INTO {table}(rowid, {FTS_COLUMNS}) VALUES (?,?,?,?)",
                     [(r[0], *r[4:]) for r in analysed])


def _write(conn, table: str, docs_table: str, docs: list[dict[str, Any]]) -> None:
    """Replace documents: delete what was indexed for these ids, then insert the new text."""
    _remove(conn, table, docs_table, [d["id"] for d in docs])
    _insert(conn, table, docs_table, analyse_batch(
        [(d["id"], d.get("title") or "", d.get("text") or "", d.get("account") or "") for d in docs]))


def _batched(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _analysis_pool:
    """A process pool for analysis, or None for workers <= 1.

    Forked before the pool's workers ever see a database connection use: they only analyse text.
    (spawn would re-import the caller's main module, which breaks scripts without a main guard.)"""

    def __init__(self, workers: int):
        self.pool = None
        if workers > 1:
            import multiprocessing

            self.pool = multiprocessing.get_context("fork").Pool(workers)

    def __enter__(self):
        return self.pool

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()


def _remove(conn, table: str, docs_table: str, hit_ids: list[int]) -> None:
    """Delete rows the contentless way: repeat the indexed tokens, rebuilt from the stored text."""
    for chunk in _chunks(hit_ids, 500):
        marks = ",".join("?" * len(chunk))
        old = conn.execute(f"SELECT rowid, title, body, account FROM {docs_table} WHERE rowid IN ({marks})",
                           chunk).fetchall()
        if not old:
            continue
        conn.executemany(f"INSERT INTO {table}({table}, rowid, {FTS_COLUMNS}) VALUES ('delete',?,?,?,?)",
                         [(i, index_terms(t), index_terms(b), index_terms(a)) for i, t, b, a in old])
        conn.execute(f"DELETE FROM {docs_table} WHERE rowid IN ({marks})", chunk)


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _exists(conn, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None


def _utc_offset_minutes(cfg: Config) -> int:
    """Days (facets, date filters) are local days in [core] timezone, as patrol staff count them."""
    from zoneinfo import ZoneInfo

    offset = dt.datetime.now(ZoneInfo(cfg.core.timezone)).utcoffset() or dt.timedelta(0)
    return int(offset.total_seconds() // 60)


class _conn:
    """A pooled DB-API connection, rolled back if left mid-transaction, returned to the pool on exit."""

    def __init__(self, cfg: Config):
        self.conn = db.raw_connection(cfg)

    def __enter__(self):
        return self.conn

    def __exit__(self, *exc):
        try:
            self.conn.rollback()
        finally:
            self.conn.close()
