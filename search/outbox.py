"""The durable outbox between the hits table and the index.

hits.lifecycle queues a hit in the same transaction that writes it, so a crash or a cluster outage can
never leave a hit unindexed: `drain` indexes what waits and deletes outbox rows only after the backend
confirmed them; on failure the rows stay, with attempts and the last error, for the next run.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, func, select, update

from core import db
from core.config import Config
from core.models import SearchOutbox

log = logging.getLogger(__name__)
OPS = ("index", "delete")


def pending(cfg: Config) -> int:
    with db.session_scope(cfg) as s:
        return s.scalar(select(func.count(SearchOutbox.id))) or 0


def drain(cfg: Config, max_batches: int | None = None) -> int:
    """Index waiting hits through the configured backend; returns how many hits were processed.

    Stops at the first failure (the cluster is probably down; the rows wait for the next run).
    Only rows present when the drain started are taken, so a busy crawler cannot keep it running."""
    from search.backends import get_backend
    from search.backends.base import IndexUnavailable

    backend = get_backend(cfg)
    if getattr(backend, "rebuilding", lambda: False)():
        return 0  # a reindex is building a new index; what waits here goes into that one afterwards
    batch_size = int(cfg.search.bulk_size)
    with db.session_scope(cfg) as s:
        ceiling = s.scalar(select(SearchOutbox.id).order_by(SearchOutbox.id.desc()).limit(1)) or 0
    done = batches = 0
    after = 0
    while max_batches is None or batches < max_batches:
        rows = _next_batch(cfg, after, ceiling, batch_size)
        if not rows:
            break
        batches += 1
        try:
            done += _apply(cfg, backend, rows)
        except IndexUnavailable as exc:
            _record_failure(cfg, [r[0] for r in rows], exc)
            log.warning("search outbox: %d hit(s) wait for the index: %s", len(rows), exc)
            break
        _delete_rows(cfg, [r[0] for r in rows])
        after = rows[-1][0]
    return done


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
