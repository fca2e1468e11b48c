"""What the two database backends (embedded SQLite FTS5, PostgreSQL full-text search) share when they
build an index in bulk and count facets: batches, a process pool for the CPU-bound analysis, and
the facet counts of a window of matches."""

from __future__ import annotations

import collections
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from core.i18n import N_, Msg


def batched(items: Iterable, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def analysed(pool, analyse: Callable[[list], Any], batches, ahead: int):
    """Analysed batches in order, with at most `ahead` in flight: Pool.imap would read the whole
    hits table into memory while the workers catch up."""
    if pool is None:
        yield from map(analyse, batches)
        return
    pending: collections.deque = collections.deque()
    for batch in batches:
        pending.append(pool.submit(analyse, batch))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


class analysis_pool:
    """A process pool for analysis, or None for workers <= 1.

    concurrent.futures rather than multiprocessing.Pool: when a worker dies, Pool quietly starts
    another and the dead one's task never answers, so a reindex waited forever; the executor fails
    every waiting future with BrokenProcessPool instead. Forked before the workers ever use a
    database connection: they only analyse text. (spawn would re-import the caller's main module,
    which breaks scripts without a main guard.)"""

    def __init__(self, workers: int):
        self.pool = None
        if workers > 1:
            import multiprocessing

            from core.children import die_with_parent

            # A killed reindex must not leave workers behind: forked, they hold its build lock (the
            # inherited flock) until they notice, so the next drain would wait on an orphan.
            self.pool = ProcessPoolExecutor(
                workers, mp_context=multiprocessing.get_context("fork"), initializer=die_with_parent
            )

    def __enter__(self):
        return self.pool

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def window_facets(rows: Iterable[tuple], size: int) -> dict[str, list[tuple[str, int]]]:
    """Facet counts of a window's rows (labels "a,b", platform, grid id, source, day), in one pass:
    label, platform, grid, source largest first; day the latest 31 days in date order."""
    counts = {name: Counter() for name in ("label", "platform", "grid", "source", "day")}
    for labels, platform, grid_id, source, day in rows:
        counts["label"].update(labels.split(",") if labels else ())
        counts["platform"][platform] += 1
        if grid_id is not None:
            counts["grid"][str(grid_id)] += 1
        counts["source"][source] += 1
        if day:
            counts["day"][str(day)] += 1
    out = {
        name: [(str(v), c) for v, c in counter.most_common(size) if v is not None]
        for name, counter in counts.items()
        if name != "day"
    }
    out["day"] = sorted(counts["day"].items())[-31:]
    return out


def window_notice(total: int, window: int, windowed: bool, current: bool, stale: Msg) -> Msg | None:
    """What a result page says about itself: relevance and facets read only the newest `window`
    matches (`windowed`: the page ranks or counts facets), and an index of another version cannot
    take new hits (`stale` says what that costs on this backend)."""
    many = (
        Msg(N_("匹配较多：相关度排序和分类统计只看最新的 %(window)s 条，可加筛选条件或按时间排序"), window=window)
        if total > window and windowed
        else None
    )
    if current:
        return many
    old = Msg(N_("检索索引是旧版本，%(what)s（请管理员运行 wangxun reindex）"), what=stale)
    return Msg(N_("%(first)s；%(second)s"), first=old, second=many) if many else old
