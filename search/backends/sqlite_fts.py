"""The embedded backend: SQLite FTS5 in the project's database.

The FTS5 table (migration 0003) is contentless and holds the token stream of search.analysis plus
hashed filter tags (sqlite_sql); search_fts_docs keeps what each row was indexed from, which a
contentless table needs to delete a row on SQLite < 3.43; search_fts_meta holds the few values that
ranges and facets read (rowid = hit id, small rows, so lookups stay in the page cache).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from core import db
from core.config import Config
from core.errors import ConfigError, UserError
from core.i18n import N_, Msg
from search.analysis import index_terms, normalize
from search.backends import bulk, sqlite_rank, sqlite_sql
from search.backends.base import IndexUnavailable, ResultHit, SearchParams, SearchResult
from search.query import Query

log = logging.getLogger(__name__)
TABLES = ("search_fts", "search_fts_docs", "search_fts_meta")
BUILD = tuple(t.replace("search_fts", "search_fts_build") for t in TABLES)
FTS_COLUMNS = "title, body, account, reasons, tags"
# Migration 0003's statements plus the `reasons` column of INDEX_VERSION 2 (search.documents): a
# database migrated by 0003 gets these tables from ensure_ready while its index is empty, else from
# `wangxun reindex` (an index with rows and without the column is "old": searchable, not writable).
_CREATE = (
    "CREATE VIRTUAL TABLE {0} USING fts5(title, body, account, reasons, tags, content='', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TABLE {1} (rowid INTEGER PRIMARY KEY, title TEXT, body TEXT, account TEXT, reasons TEXT, tags TEXT)",
    "CREATE TABLE {2} (rowid INTEGER PRIMARY KEY, platform TEXT, source TEXT, status TEXT, "
    "grid_id INTEGER, score REAL, day TEXT, labels TEXT)",
)


OLD_INDEX = (
    "检索索引是旧版本（不含判定依据和类型名称），请运行 `wangxun reindex` 重建；"
    "重建前检索照常，新发现的线索在队列中等待。search index predates this version: run `wangxun reindex`"
)


class SqliteFtsBackend:
    name = "embedded"

    def __init__(self, cfg: Config):
        if not db.is_sqlite(cfg):
            raise ConfigError(
                '[search] backend = "embedded" needs the SQLite database; with PostgreSQL set backend = "elasticsearch"'
            )
        self.cfg = cfg

    # ------------------------------------------------------------------ writing

    def ensure_ready(self) -> None:
        with _conn(self.cfg) as conn:
            if not _exists(conn, TABLES[0]) or not _exists(conn, TABLES[2]):
                raise ConfigError(
                    "the search index tables are missing or from an older version; "
                    "run `wangxun init`, then `wangxun reindex`"
                )
            if not _current(conn):
                raise IndexUnavailable(OLD_INDEX)

    def rebuilding(self) -> bool:
        """True while `reindex` builds a new index (the outbox waits, so no update lands in the old one).

        Build tables whose builder is gone (a reindex killed mid-way) are not a rebuild: they are
        dropped here, so a dead reindex can never hold up indexing."""
        with _conn(self.cfg) as conn:
            if not _exists(conn, BUILD[0]):
                return False
        lock = BuildLock(self.cfg)
        if not lock.try_take():
            return True
        try:
            log.warning("dropping the build tables of a reindex that did not finish (%s)", lock.previous_holder())
            self._drop_build()
        finally:
            lock.release()
        return False

    def rebuild_holder(self) -> str | None:
        """Who is rebuilding right now ("pid 123 since 2026-…"), or None."""
        return BuildLock(self.cfg).holder()

    def _drop_build(self) -> None:
        with _conn(self.cfg) as conn:
            for t in BUILD:
                conn.execute(f"DROP TABLE IF EXISTS {t}")
            conn.commit()

    def index(self, docs: list[dict[str, Any]]) -> None:
        with _conn(self.cfg) as conn:
            try:
                _write(conn, TABLES, docs)
                conn.commit()
            except sqlite3.OperationalError as exc:  # "database is locked" after the busy timeout
                conn.rollback()
                raise IndexUnavailable(str(exc)) from exc

    def delete(self, hit_ids: list[int]) -> None:
        with _conn(self.cfg) as conn:
            try:
                _remove(conn, TABLES, hit_ids)
                conn.commit()
            except sqlite3.OperationalError as exc:
                conn.rollback()
                raise IndexUnavailable(str(exc)) from exc

    def rebuild(self, docs: Iterable[dict[str, Any]], total: int, advance: Callable[[int], None]) -> int:
        """Fill new tables beside the live ones in committed batches, then swap them in one
        transaction, so searches keep working during a reindex of a million hits. Analysis (the
        CPU-bound part) runs in `reindex_workers` processes while this one reads and writes."""
        lock = BuildLock(self.cfg)
        if not lock.try_take():
            raise UserError(f"a reindex is already running ({lock.holder()}); wait for it to finish")
        try:
            return self._rebuild(docs, advance)
        except BrokenProcessPool:
            self._drop_build()
            raise UserError(
                "reindex stopped: an analysis worker process died (killed or out of memory); the live index "
                "is unchanged and hits keep waiting in the outbox; run `wangxun reindex` again"
            ) from None
        except BaseException:
            self._drop_build()  # nothing half-built stays behind for the outbox to wait on
            raise
        finally:
            lock.release()

    def _rebuild(self, docs: Iterable[dict[str, Any]], advance: Callable[[int], None]) -> int:
        batches = bulk.batched(docs, int(self.cfg.search.bulk_size))
        workers = int(self.cfg.search.reindex_workers)
        with bulk.analysis_pool(workers) as pool, _conn(self.cfg) as conn:
            for t in BUILD:
                conn.execute(f"DROP TABLE IF EXISTS {t}")
            for sql in _CREATE:
                conn.execute(sql.format(*BUILD))
            _bulk_load_settings(conn, BUILD[0], on=True)
            conn.commit()
            n = since_commit = 0
            for analysed in bulk.analysed(pool, analyse_batch, batches, ahead=2 * max(1, workers)):
                _insert(conn, BUILD, analysed)
                n += len(analysed)
                since_commit += len(analysed)
                if since_commit >= 20000:  # big transactions let FTS5 write fewer, larger segments
                    conn.commit()
                    since_commit = 0
                advance(len(analysed))
            conn.execute(f"INSERT INTO {BUILD[0]}({BUILD[0]}) VALUES('optimize')")
            _bulk_load_settings(conn, BUILD[0], on=False)
            for old, new in zip(TABLES, BUILD, strict=True):
                conn.execute(f"DROP TABLE IF EXISTS {old}")
                conn.execute(f"ALTER TABLE {new} RENAME TO {old}")
            conn.commit()
        return n

    def count(self) -> int:
        with _conn(self.cfg) as conn:
            return conn.execute(f"SELECT count(*) FROM {TABLES[1]}").fetchone()[0]

    # ------------------------------------------------------------------ reading

    def search(self, query: Query, params: SearchParams) -> SearchResult:
        cap = int(self.cfg.search.track_total_hits)
        window = int(self.cfg.search.rank_window) or 1_000_000_000
        with _conn(self.cfg) as conn:
            current = _current(conn)
        columns = sqlite_sql.TEXT_COLUMNS if current else sqlite_sql.OLD_TEXT_COLUMNS
        plan = sqlite_sql.plan(query, params, window=window, columns=columns)
        if plan.empty:
            return SearchResult(0, True, [], {}, params.page, params.per_page)
        with _conn(self.cfg) as conn:
            try:
                rows = (
                    self._ranked_page(conn, plan, query, cap, columns)
                    if plan.ranked
                    else conn.execute(plan.page_sql, plan.page_args).fetchall()
                )
                total = conn.execute(plan.count_sql(cap), plan.args).fetchone()[0]
                facets = (
                    bulk.window_facets(
                        conn.execute(plan.facet_sql(), plan.args).fetchall(), int(self.cfg.search.facet_size)
                    )
                    if params.facets
                    else {}
                )
            except sqlite3.OperationalError as exc:
                raise IndexUnavailable(str(exc)) from exc
        hits = [ResultHit(id=r[0], score=r[1], doc={}) for r in rows]
        notice = bulk.window_notice(
            total, window, plan.ranked or params.facets, current, Msg(N_("判定依据和类型名称暂不能检索"))
        )
        return SearchResult(
            total=min(total, cap),
            total_is_exact=total <= cap,
            hits=hits,
            facets=facets,
            page=params.page,
            per_page=params.per_page,
            notice=notice,
        )

    def _ranked_page(
        self, conn, plan: sqlite_sql.Plan, query: Query, cap: int, columns: str
    ) -> list[tuple[int, float]]:
        """BM25F over the newest `window` matches (see sqlite_rank for why not FTS5's bm25())."""
        ids = [r[0] for r in conn.execute(plan.window_ids_sql(), plan.args).fetchall()]
        if not ids:
            return []
        texts = []
        stored = ", ".join(columns.strip("{}").split())  # the searched columns, in order
        for chunk in _chunks(ids, 900):
            texts += conn.execute(
                f"SELECT rowid, {stored} FROM {TABLES[1]} WHERE rowid IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
        total_docs = conn.execute(f"SELECT max(rowid) FROM {TABLES[2]}").fetchone()[0] or 1
        terms = []
        for term in query.positive_terms:
            df = conn.execute(sqlite_sql.doc_freq_sql(cap), [sqlite_sql.term_match(term.pattern, columns)]).fetchone()[
                0
            ]
            terms.append((sqlite_rank.surface(term.text), sqlite_rank.idf(total_docs, df)))
        ranked = sqlite_rank.rank(texts, terms)
        return ranked[plan.offset : plan.offset + plan.limit]


def _bulk_load_settings(conn, table: str, on: bool) -> None:
    """While loading: no incremental merges and a 64 MB pending-terms buffer (fewer, larger segments;
    ~1.5x faster), then one 'optimize'. Afterwards FTS5's defaults again, for incremental updates."""
    values = (
        {"automerge": 0, "crisismerge": 64, "hashsize": 64 << 20}
        if on
        else {"automerge": 4, "crisismerge": 16, "hashsize": 1 << 20}
    )
    for key, value in values.items():
        conn.execute(f"INSERT INTO {table}({table}, rank) VALUES (?, ?)", (key, value))


def analyse_batch(docs: list[dict[str, Any]]) -> list[tuple]:
    """Documents → rows for the three tables; runs in worker processes during a reindex."""
    out = []
    for d in docs:
        nt, nb, na = normalize(d.get("title") or ""), normalize(d.get("text") or ""), normalize(d.get("account") or "")
        nr = normalize(d.get("reasons") or "")
        tags = sqlite_sql.doc_tags(d)
        out.append(
            (
                (d["id"], nt, nb, na, nr, tags),
                (d["id"], index_terms(nt), index_terms(nb), index_terms(na), index_terms(nr), tags),
                (
                    d["id"],
                    d.get("platform"),
                    d.get("source"),
                    d.get("status"),
                    d.get("grid_id"),
                    d.get("score"),
                    d.get("day"),
                    ",".join(d.get("labels") or []),
                ),
            )
        )
    return out


def _insert(conn, tables: tuple[str, ...], analysed: list[tuple]) -> None:
    fts, docs, meta = tables
    conn.executemany(f"INSERT INTO {docs}(rowid, {FTS_COLUMNS}) VALUES (?,?,?,?,?,?)", [r[0] for r in analysed])
    conn.executemany(f"INSERT INTO {fts}(rowid, {FTS_COLUMNS}) VALUES (?,?,?,?,?,?)", [r[1] for r in analysed])
    conn.executemany(f"INSERT INTO {meta} VALUES (?,?,?,?,?,?,?,?)", [r[2] for r in analysed])


def _write(conn, tables: tuple[str, ...], docs: list[dict[str, Any]]) -> None:
    """Replace documents: delete what was indexed for these ids, then insert the new ones."""
    _remove(conn, tables, [d["id"] for d in docs])
    _insert(conn, tables, analyse_batch(docs))


class BuildLock:
    """Held by the process building a new index for the whole rebuild: an flock on
    <data_dir>/search-rebuild.lock, which the kernel releases when that process dies however it dies.
    The file also says who holds it (pid, start time), for the messages."""

    def __init__(self, cfg: Config):
        self.path = cfg.data_dir / "search-rebuild.lock"
        self.fd: int | None = None

    def try_take(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._previous = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        os.ftruncate(fd, 0)
        os.pwrite(
            fd, f"pid {os.getpid()} since {dt.datetime.now().astimezone().isoformat(timespec='seconds')}".encode(), 0
        )
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def holder(self) -> str | None:
        """The live holder's pid and start, or None when nobody holds the lock."""
        if self.try_take():
            self.release()
            return None
        try:
            return self.path.read_text(encoding="utf-8").strip() or "another process"
        except OSError:
            return "another process"

    def previous_holder(self) -> str:
        return getattr(self, "_previous", "") or "unknown process"


def _remove(conn, tables: tuple[str, ...], hit_ids: list[int]) -> None:
    """Delete rows the contentless way: repeat the indexed tokens, rebuilt from the stored text."""
    fts, docs, meta = tables
    for chunk in _chunks(hit_ids, 500):
        marks = ",".join("?" * len(chunk))
        old = conn.execute(f"SELECT rowid, {FTS_COLUMNS} FROM {docs} WHERE rowid IN ({marks})", chunk).fetchall()
        if old:
            conn.executemany(
                f"INSERT INTO {fts}({fts}, rowid, {FTS_COLUMNS}) VALUES ('delete',?,?,?,?,?,?)",
                [
                    (i, index_terms(t), index_terms(b), index_terms(a), index_terms(r), tags)
                    for i, t, b, a, r, tags in old
                ],
            )
            conn.execute(f"DELETE FROM {docs} WHERE rowid IN ({marks})", chunk)
        conn.execute(f"DELETE FROM {meta} WHERE rowid IN ({marks})", chunk)


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _current(conn) -> bool:
    """Whether the live index has this version's columns (search.documents.INDEX_VERSION 2: `reasons`).

    An index migration 0003 created and nothing has filled yet is brought up to date here, in one
    transaction; one with rows stays as it is (searchable without the new column) until `wangxun
    reindex` builds the new tables beside it and swaps them in."""
    if _has_column(conn, TABLES[1], "reasons"):
        return True
    if not _exists(conn, TABLES[1]) or conn.execute(f"SELECT 1 FROM {TABLES[1]} LIMIT 1").fetchone():
        return False
    conn.execute("BEGIN IMMEDIATE")
    try:
        if (
            not _has_column(conn, TABLES[1], "reasons")
            and not conn.execute(f"SELECT 1 FROM {TABLES[1]} LIMIT 1").fetchone()
        ):
            for t in TABLES:
                conn.execute(f"DROP TABLE IF EXISTS {t}")
            for sql in _CREATE:
                conn.execute(sql.format(*TABLES))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return True


def _has_column(conn, table: str, column: str) -> bool:
    return any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})").fetchall())


def _exists(conn, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None


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
