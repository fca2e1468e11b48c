"""The PostgreSQL backend: full-text search in the project's PostgreSQL database.

One table, `search_pg`, owned and (re)built by this backend (no migration): the hit id, one
`tsvector` of the analysed fields with a weight per field and the filter tags (postgres_sql), a GIN
index on it, and the few values that ranges and facets read (platform, source, status, grid, score,
local day, labels). Keyword queries, filters and the zone are one tsquery answered by the GIN index;
results are walked newest first and stop after the page; totals are exact up to track_total_hits;
relevance (BM25F, search.backends.sqlite_rank, as the embedded backend) and facets look at the
newest rank_window matches.

`wangxun reindex` builds `search_pg_build` beside the live table (loaded in committed batches, GIN
index built after the load, ANALYZEd) and swaps it in one transaction, so searches keep working.
The builder holds a PostgreSQL advisory lock for the whole rebuild (released by the server when its
connection ends, however the process dies, on whichever machine it ran); the outbox waits while a
live builder holds it, and a build table without a live builder is dropped by the next drain.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import queue
import socket
import threading
from collections.abc import Callable, Iterable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError

from core import db
from core.config import Config
from core.errors import ConfigError, UserError
from core.i18n import N_, Msg
from search.analysis import ANALYZER_VERSION, index_terms
from search.backends import bulk
from search.backends import postgres_sql as sql
from search.backends.base import IndexUnavailable, ResultHit, SearchParams, SearchResult
from search.documents import INDEX_VERSION
from search.query import Query

log = logging.getLogger(__name__)
# Any fixed 64-bit number: it names "the search index rebuild" among PostgreSQL advisory locks
# (evidence.chain uses another). Advisory locks are per database.
REBUILD_LOCK = 8608757566982480744  # b"wxsearch"
CREATE_LOCK = REBUILD_LOCK + 1
VERSION = f"wangxun search index: index_version={INDEX_VERSION} analyzer_version={ANALYZER_VERSION} bucket={sql.BUCKET}"
OLD_INDEX = (
    "检索索引是旧版本，请运行 `wangxun reindex` 重建；重建前检索照常，新发现的线索在队列中等待。"
    "search index predates this version: run `wangxun reindex`"
)
BUILD_MEMORY = "256MB"  # maintenance_work_mem for building the GIN index once after a bulk load


def _unavailable(exc: Exception) -> IndexUnavailable:
    return IndexUnavailable(f"PostgreSQL search: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")


class PostgresFtsBackend:
    name = "postgres"

    def __init__(self, cfg: Config):
        if db.get_engine(cfg).dialect.name != "postgresql":
            raise ConfigError(
                '[search] backend = "postgres" needs a PostgreSQL database ([core] database_url = '
                'postgresql+psycopg://…); with SQLite set backend = "embedded"'
            )
        self.cfg = cfg
        self.engine = db.get_engine(cfg)

    # ------------------------------------------------------------------ setup

    def ensure_ready(self) -> None:
        """Create the table and its GIN index when missing; refuse writes into an index built by
        another version while it holds rows (it keeps answering searches until `wangxun reindex`)."""
        if not self._prepare():
            raise IndexUnavailable(OLD_INDEX)

    def _prepare(self) -> bool:
        """Create the table when missing (under a lock: crawls may race here), or replace an empty one
        of another version; False when the live table is of another version and holds rows."""
        try:
            with self.engine.begin() as conn:
                if _version(conn, sql.TABLE) == VERSION:
                    return True
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CREATE_LOCK})
                version = _version(conn, sql.TABLE)
                if version == VERSION:
                    return True
                if version is not None:
                    if conn.execute(text(f"SELECT 1 FROM {sql.TABLE} LIMIT 1")).first():
                        return False
                    conn.execute(text(f"DROP TABLE {sql.TABLE}"))
                for statement in sql.create_sql(sql.TABLE):
                    conn.execute(text(statement))
                conn.execute(text(sql.gin_sql(sql.TABLE)))
                conn.execute(text(f"COMMENT ON TABLE {sql.TABLE} IS '{VERSION}'"))
                return True
        except (OperationalError, InterfaceError) as exc:
            raise _unavailable(exc) from exc

    def rebuilding(self) -> bool:
        """True while `reindex` builds a new table (the outbox waits, so no update lands in the old one).

        A build table without its builder (a reindex killed mid-way, on any machine) is not a rebuild:
        it is dropped here, so a dead reindex can never hold up indexing."""
        try:
            with self.engine.begin() as conn:
                if not _exists(conn, sql.BUILD):
                    return False
                if not conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": REBUILD_LOCK}).scalar():
                    return True
                log.warning("dropping the build table of a reindex that did not finish (%s)", _comment(conn, sql.BUILD))
                conn.execute(text(f"DROP TABLE IF EXISTS {sql.BUILD}"))
                return False
        except (OperationalError, InterfaceError) as exc:
            raise _unavailable(exc) from exc

    def rebuild_holder(self) -> str | None:
        """Who is rebuilding right now ("pid 123 on host since 2026-…"), or None."""
        with self.engine.begin() as conn:
            if not _exists(conn, sql.BUILD):
                return None
            if conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": REBUILD_LOCK}).scalar():
                return None  # nobody holds it (the lock ends with this transaction)
            return _comment(conn, sql.BUILD) or "another process"

    # ------------------------------------------------------------------ writing

    def index(self, docs: list[dict[str, Any]]) -> None:
        rows = [_row(r) for r in analyse_batch(sorted(docs, key=lambda d: d["id"]))]
        try:
            with self.engine.begin() as conn:
                conn.execute(text(sql.insert_sql(sql.TABLE, upsert=True)), rows)
        except (OperationalError, InterfaceError) as exc:
            raise _unavailable(exc) from exc

    def delete(self, hit_ids: list[int]) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(text(f"DELETE FROM {sql.TABLE} WHERE id = ANY(:ids)"), {"ids": sorted(hit_ids)})
        except (OperationalError, InterfaceError) as exc:
            raise _unavailable(exc) from exc

    def rebuild(self, docs: Iterable[dict[str, Any]], total: int, advance: Callable[[int], None]) -> int:
        """Fill a new table beside the live one in committed batches, index it, then swap it in one
        transaction, so searches keep working during a reindex of a million hits. Analysis runs in
        `reindex_workers` processes; the database server builds the tsvectors."""
        try:
            conn = self.engine.connect()
        except (OperationalError, InterfaceError) as exc:
            raise _unavailable(exc) from exc
        try:
            if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": REBUILD_LOCK}).scalar():
                conn.rollback()
                raise UserError(f"a reindex is already running ({self.rebuild_holder()}); wait for it to finish")
            conn.commit()
            try:
                return self._rebuild(conn, docs, advance)
            except BrokenProcessPool:
                self._drop_build(conn)
                raise UserError(
                    "reindex stopped: an analysis worker process died (killed or out of memory); the live index "
                    "is unchanged and hits keep waiting in the outbox; run `wangxun reindex` again"
                ) from None
            except BaseException:
                self._drop_build(conn)  # nothing half-built stays behind for the outbox to wait on
                raise
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": REBUILD_LOCK})
                conn.commit()
        finally:
            conn.close()

    def _drop_build(self, conn) -> None:
        try:
            conn.rollback()
            conn.execute(text(f"DROP TABLE IF EXISTS {sql.BUILD}"))
            conn.commit()
        except Exception:  # noqa: BLE001 - the next drain drops it (its builder is gone then)
            log.warning("could not drop %s; the next drain will", sql.BUILD, exc_info=True)

    def _rebuild(self, conn, docs: Iterable[dict[str, Any]], advance: Callable[[int], None]) -> int:
        holder = (
            f"pid {os.getpid()} on {socket.gethostname()} since {dt.datetime.now().astimezone():%Y-%m-%d %H:%M:%S%z}"
        )
        conn.execute(text(f"DROP TABLE IF EXISTS {sql.BUILD}"))
        for statement in sql.create_sql(sql.BUILD):
            conn.execute(text(statement))
        conn.execute(text(f"COMMENT ON TABLE {sql.BUILD} IS '{holder}'"))
        conn.commit()
        workers = int(self.cfg.search.reindex_workers)
        n = 0
        with bulk.analysis_pool(workers) as pool, _Loader(self.cfg, max(1, workers)) as loader:
            batches = bulk.batched(docs, int(self.cfg.search.bulk_size))
            for rows in bulk.analysed(pool, analyse_batch, batches, ahead=2 * max(1, workers)):
                loader.put(rows)
                n += len(rows)
                advance(len(rows))
        conn.execute(text(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'"))
        conn.execute(text(sql.gin_sql(sql.BUILD)))
        conn.commit()
        conn.execute(text(f"ANALYZE {sql.BUILD}"))  # the planner's statistics, before it serves a query
        conn.commit()
        # The swap: one transaction; a search running now finishes on the old table, the next one
        # (waiting on the table lock for these few statements) reads the new one.
        conn.execute(text(f"DROP TABLE IF EXISTS {sql.TABLE}"))
        conn.execute(text(f"ALTER TABLE {sql.BUILD} RENAME TO {sql.TABLE}"))
        conn.execute(text(f"ALTER INDEX {sql.BUILD}_pkey RENAME TO {sql.TABLE}_pkey"))
        conn.execute(text(f"ALTER INDEX {sql.BUILD}_tsv RENAME TO {sql.TABLE}_tsv"))
        conn.execute(text(f"COMMENT ON TABLE {sql.TABLE} IS '{VERSION}'"))
        conn.commit()
        return n

    def count(self) -> int:
        self._prepare()
        with self.engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {sql.TABLE}")).scalar())

    # ------------------------------------------------------------------ reading

    def search(self, query: Query, params: SearchParams) -> SearchResult:
        cap = int(self.cfg.search.track_total_hits)
        window = int(self.cfg.search.rank_window) or 1_000_000_000
        plan = sql.plan(query, params, window=window)
        if plan.empty:
            return SearchResult(0, True, [], {}, params.page, params.per_page)
        current = self._prepare()
        try:
            with self.engine.begin() as conn:
                # Every query is planned with its own tsquery: a generic plan (psycopg prepares a
                # statement run five times) cannot tell a word in half the hits from a rare one.
                conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
                top = conn.execute(text(f"SELECT max(id) FROM {sql.TABLE}")).scalar() or 0
                if plan.uses_index:
                    # GIN bitmaps only: the planner does not count decompressing a tsvector, so it would
                    # otherwise filter rows read by primary key or in table order, which costs far more.
                    conn.execute(text("SET LOCAL enable_indexscan = off"))
                    conn.execute(text("SET LOCAL enable_seqscan = off"))
                window_rows: list = []
                every: int | None = None  # the number of matches, when a walk found them all
                if plan.ranked:
                    rank = {"rq": plan.rank_query}
                    window_rows = self._newest(conn, plan, top, window, sql.RANKED_WINDOW_COLUMNS, rank)
                    ranked = sorted(((r[0], float(r[6])) for r in window_rows), key=lambda x: (-x[1], -x[0]))
                    rows = ranked[plan.offset : plan.offset + plan.limit]
                    every = len(window_rows) if len(window_rows) < window else None
                else:
                    if params.facets:
                        window_rows = self._newest(conn, plan, top, window, sql.WINDOW_COLUMNS)
                        every = len(window_rows) if len(window_rows) < window else None
                    wanted = plan.offset + plan.limit
                    newest = self._newest(conn, plan, top, wanted, sql.PAGE_COLUMNS)
                    rows = [(r[0], None) for r in newest[plan.offset :]]
                    every = len(newest) if len(newest) < wanted else every
                # Counted only when no walk saw every match (a zone's wide search, a rare word: never).
                total = every if every is not None else self._count(conn, plan, top, cap + 1)
        except (OperationalError, InterfaceError) as exc:
            raise _unavailable(exc) from exc
        facets = (
            bulk.window_facets([tuple(r[1:6]) for r in window_rows], int(self.cfg.search.facet_size))
            if params.facets
            else {}
        )
        notice = bulk.window_notice(
            total, window, plan.ranked or params.facets, current, Msg(N_("新发现的线索暂不能检索"))
        )
        return SearchResult(
            total=min(total, cap),
            total_is_exact=total <= cap,
            hits=[ResultHit(id=i, score=s, doc={}) for i, s in rows],
            facets=facets,
            page=params.page,
            per_page=params.per_page,
            notice=notice,
        )

    def _newest(self, conn, plan: sql.Plan, top: int, n: int, columns: str, extra: dict | None = None) -> list:
        """The newest `n` matches (`top`: the highest id). With words or filter tags: the query AND the
        newest buckets of ids (sql.BUCKET_STEPS), then the rest of the table, each one GIN lookup that
        reads only the matching rows (sql.BUCKET). Without: the primary key, newest first."""
        args = {**plan.args, **(extra or {})}
        if not plan.uses_index:
            return conn.execute(text(plan.newest_sql(columns, in_buckets=False)), {**args, "n": n}).all()
        out: list = []
        hi = top // sql.BUCKET  # the newest bucket not looked at yet
        for step in sql.BUCKET_STEPS:
            if hi < 0 or len(out) >= n:
                return out
            buckets = range(hi, max(-1, hi - step), -1)
            qb = plan.bucket_query(buckets)
            out += conn.execute(
                text(plan.newest_sql(columns, in_buckets=True)), {**args, "qb": qb, "n": n - len(out)}
            ).all()
            hi -= step
        if hi >= 0 and len(out) < n:  # the rest: every match, of which those below the buckets seen
            below = (hi + 1) * sql.BUCKET
            rest = conn.execute(text(plan.newest_sql(columns, in_buckets=False)), {**args, "n": n}).all()
            out += [r for r in rest if r[0] < below][: n - len(out)]
        return out

    def _count(self, conn, plan: sql.Plan, top: int, cap: int) -> int:
        """Matches, counted up to `cap`: in the newest buckets first (a very common word or filter
        reaches the cap there without the GIN index decoding all its matches), else in the whole
        table at once (measured on a million hits: faster than going on bucket by bucket)."""
        if not plan.uses_index:
            return int(conn.execute(text(plan.count_sql()), {**plan.args, "cap": cap}).scalar())
        hi = top // sql.BUCKET
        qb = plan.bucket_query(range(hi, max(-1, hi - sql.BUCKET_STEPS[0]), -1))
        newest = int(conn.execute(text(plan.count_sql(True)), {**plan.args, "qb": qb, "cap": cap}).scalar())
        if newest >= cap or hi < sql.BUCKET_STEPS[0]:  # the cap, or those buckets were the whole table
            return newest
        return int(conn.execute(text(plan.count_sql()), {**plan.args, "cap": cap}).scalar())


class _Loader:
    """Loads analysed rows into the build table from `threads` threads, each on a connection of its own,
    while this process reads and analyses the next ones: the database server builds the tsvectors (in
    one server process per connection, not in this one) and the work overlaps. Each batch is COPYed
    into a temporary table and turned into documents by one INSERT … SELECT, committed. The first
    error stops the rebuild."""

    def __init__(self, cfg: Config, threads: int):
        self.cfg = cfg
        self.queue: queue.Queue = queue.Queue(maxsize=2 * threads)
        self.error: BaseException | None = None
        self.threads = [
            threading.Thread(target=self._run, name=f"search-rebuild-loader-{k}", daemon=True) for k in range(threads)
        ]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def put(self, rows: list[tuple]) -> None:
        while True:
            if self.error is not None:
                raise self.error
            try:
                self.queue.put(rows, timeout=1)
                return
            except queue.Full:
                continue

    def __exit__(self, exc_type, exc, tb):
        for _ in self.threads:
            self.queue.put(None)  # each loader stops after what is queued (or at once after an error)
        for t in self.threads:
            t.join()
        if exc_type is None and self.error is not None:
            raise self.error

    def _run(self) -> None:
        raw = db.raw_connection(self.cfg)  # COPY needs the driver's cursor
        try:
            cur = raw.cursor()
            cur.execute(sql.stage_sql())
            load = sql.load_from_stage_sql(sql.BUILD)
            while (rows := self.queue.get()) is not None:
                if self.error is not None:
                    continue
                with cur.copy(f"COPY {sql.STAGE} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cur.execute(load)
                raw.commit()  # the staging rows go with the commit (ON COMMIT DELETE ROWS)
            cur.execute(f"DROP TABLE IF EXISTS {sql.STAGE}")
            raw.commit()
        except BaseException as exc:  # noqa: BLE001 - handed to the rebuild, which raises it
            self.error = self.error or exc
            while self.queue.get() is not None:  # let the producer finish; it raises on its next put
                pass
        finally:
            raw.close()


def analyse_batch(docs: list[dict[str, Any]]) -> list[tuple]:
    """Documents → rows of the table (token streams for the server's to_tsvector); runs in worker
    processes during a reindex."""
    return [
        (
            d["id"],
            index_terms(d.get("title")),
            index_terms(d.get("account")),
            index_terms(d.get("reasons")),
            index_terms(d.get("text")),
            sql.tags_tsvector(d),
            d.get("platform"),
            d.get("source"),
            d.get("status"),
            d.get("grid_id"),
            d.get("score"),
            d.get("day"),
            ",".join(d.get("labels") or []),
        )
        for d in docs
    ]


_ROW_KEYS = ("id", "title", "account", "reasons", "text", "tags", "platform", "source", "status", "grid_id", "score",
             "day", "labels")  # fmt: skip


def _row(values: tuple) -> dict[str, Any]:
    return dict(zip(_ROW_KEYS, values, strict=True))


def _exists(conn, table: str) -> bool:
    return conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}).scalar()


def _comment(conn, table: str) -> str | None:
    return conn.execute(text("SELECT obj_description(to_regclass(:t), 'pg_class')"), {"t": table}).scalar()


def _version(conn, table: str) -> str | None:
    """The table's version comment; None when the table does not exist ("" for one without a comment)."""
    if not _exists(conn, table):
        return None
    return _comment(conn, table) or ""
