"""The durable outbox between the hits table and the index.

hits.lifecycle queues a hit in the same transaction that writes it, so a crash or a cluster outage can
never leave a hit unindexed: `drain` indexes what waits and deletes outbox rows only after the backend
confirmed them; on failure the rows stay, with attempts and the last error, for the next run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from sqlalchemy import delete, func, select, update

from core import config, db
from core.config import Config
from core.models import SearchOutbox

log = logging.getLogger(__name__)
OPS = ("index", "delete")


def pending(cfg: Config) -> int:
    with db.session_scope(cfg) as s:
        return s.scalar(select(func.count(SearchOutbox.id))) or 0


@dataclasses.dataclass
class DrainReport:
    """What one drain did. `left_behind` counts the rows that were waiting when it began and still
    wait (hits that arrived during the drain are not counted: they are simply next time's work)."""

    indexed: int = 0
    left_behind: int = 0
    blocked_by: str | None = None  # a live reindex the outbox waits for ("pid 123 since …")
    error: str | None = None  # the index's last answer when rows were left behind

    @property
    def ok(self) -> bool:
        return self.left_behind == 0

    def reason(self) -> str:
        if self.blocked_by:
            return f"a reindex is building a new index ({self.blocked_by}); they go in when it finishes"
        return f"the index did not take them: {self.error}" if self.error else "the index did not take them"


@dataclasses.dataclass
class OutboxStatus:
    """How far the index is behind the database, for the jobs page and the alerts job."""

    waiting: int
    failing: int  # rows whose indexing failed at least once
    oldest_at: dt.datetime | None
    last_error: str | None
    rebuild: str | None  # a live reindex, if one is running

    @property
    def behind(self) -> bool:
        """Hits wait that the index does not have yet (briefly normal after a crawl; with `failing`
        rows or a growing age, the index is down or blocked)."""
        return self.waiting > 0


def drain(cfg: Config, max_batches: int | None = None) -> int:
    """Index waiting hits through the configured backend; returns how many hits were processed."""
    return drain_report(cfg, max_batches).indexed


def drain_report(cfg: Config, max_batches: int | None = None, quick: bool = False) -> DrainReport:
    """Index waiting hits through the configured backend and say what is left and why.

    Stops at the first failure (the cluster is probably down; the rows wait for the next run, with
    attempts and the error). Only rows present when the drain started are taken, so a busy crawler
    cannot keep it running. `quick` (a crawl's last step): short timeouts and no retries, so an
    unreachable cluster delays a crawl's exit by seconds, not minutes; the hits wait either way."""
    from search.backends import get_backend
    from search.backends.base import IndexUnavailable

    if quick:
        timeout = min(5, int(cfg.search.es_request_timeout_s))
        cfg = config.with_overrides(cfg, {"search.es_request_timeout_s": timeout, "search.es_max_retries": 0})
    with db.session_scope(cfg) as s:
        ceiling = s.scalar(select(SearchOutbox.id).order_by(SearchOutbox.id.desc()).limit(1)) or 0
    report = DrainReport()
    try:
        backend = get_backend(cfg)
    except IndexUnavailable as exc:
        report.error = str(exc)
    else:
        if getattr(backend, "rebuilding", lambda: False)():
            # A reindex is building a new index; what waits here goes into that one afterwards.
            report.blocked_by = backend.rebuild_holder() or "a reindex"
        else:
            _drain_rows(cfg, backend, ceiling, max_batches, report)
    report.left_behind = _count_upto(cfg, ceiling)
    return report


def _drain_rows(cfg: Config, backend, ceiling: int, max_batches: int | None, report: DrainReport) -> None:
    from search.backends.base import IndexUnavailable

    batch_size = int(cfg.search.bulk_size)
    batches = after = 0
    while max_batches is None or batches < max_batches:
        rows = _next_batch(cfg, after, ceiling, batch_size)
        if not rows:
            break
        batches += 1
        try:
            report.indexed += _apply(cfg, backend, rows)
        except IndexUnavailable as exc:
            _record_failure(cfg, [r[0] for r in rows], exc)
            # Info, not a warning: the report carries the error and the caller says it once.
            log.info("search outbox: %d hit(s) wait for the index: %s", len(rows), exc)
            report.error = str(exc)
            break
        _delete_rows(cfg, [r[0] for r in rows])
        after = rows[-1][0]


def status(cfg: Config) -> OutboxStatus:
    from search.backends import get_backend

    with db.session_scope(cfg) as s:
        waiting = s.scalar(select(func.count(SearchOutbox.id))) or 0
        failing = s.scalar(select(func.count(SearchOutbox.id)).where(SearchOutbox.attempts > 0)) or 0
        oldest = s.scalar(select(func.min(SearchOutbox.created_at)))
        last_error = s.scalar(
            select(SearchOutbox.last_error).where(SearchOutbox.last_error.is_not(None)).order_by(SearchOutbox.id.desc())
        )
    try:
        backend = get_backend(cfg)
        rebuild = backend.rebuild_holder() if hasattr(backend, "rebuild_holder") else None
    except Exception:  # noqa: BLE001 - a status must not fail on the thing it reports
        rebuild = None
    return OutboxStatus(waiting, failing, oldest if waiting else None, last_error, rebuild)


def _count_upto(cfg: Config, ceiling: int) -> int:
    with db.session_scope(cfg) as s:
        return s.scalar(select(func.count(SearchOutbox.id)).where(SearchOutbox.id <= ceiling)) or 0


def _next_batch(cfg: Config, after: int, ceiling: int, size: int) -> list[tuple[int, int, str]]:
    with db.session_scope(cfg) as s:
        q = (
            select(SearchOutbox.id, SearchOutbox.hit_id, SearchOutbox.op)
            .where(SearchOutbox.id > after, SearchOutbox.id <= ceiling)
            .order_by(SearchOutbox.id)
            .limit(size)
        )
        return [tuple(r) for r in s.execute(q).all()]


def _apply(cfg: Config, backend, rows: list[tuple[int, int, str]]) -> int:
    """The latest op per hit wins; an "index" for a hit that no longer exists becomes a delete."""
    from search.documents import load_docs

    latest: dict[int, str] = {}
    for _row_id, hit_id, op in rows:
        latest[hit_id] = op
    to_index = [h for h, op in latest.items() if op == "index"]
    with db.session_scope(cfg) as s:
        docs = load_docs(s, to_index, cfg.core.timezone)
    found = {d["id"] for d in docs}
    to_delete = [h for h, op in latest.items() if op == "delete" or h not in found]
    backend.ensure_ready()
    if docs:
        backend.index(docs)
    if to_delete:
        backend.delete(to_delete)
    return len(latest)


def _record_failure(cfg: Config, row_ids: list[int], exc: Exception) -> None:
    with db.session_scope(cfg) as s:
        s.execute(
            update(SearchOutbox)
            .where(SearchOutbox.id.in_(row_ids))
            .values(attempts=SearchOutbox.attempts + 1, last_error=str(exc)[:2000])
        )


def _delete_rows(cfg: Config, row_ids: list[int]) -> None:
    with db.session_scope(cfg) as s:
        s.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(row_ids)))
