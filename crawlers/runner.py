"""Run one crawl of one source in this process and summarise it.

One crawl per process: Twisted's reactor cannot be restarted, so `python -m crawlers SOURCE` and
`wangxun crawl SOURCE` each run exactly one, and the scheduler starts crawls as subprocesses.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import time

from core import db
from core.config import Config
from crawlers import live_progress
from crawlers.frontier import Frontier
from crawlers.politeness import AccountBudget, DomainPauses
from crawlers.runlock import RunLock
from crawlers.sources import Source, get_source, start_urls
from crawlers.store import EGRESS_STAT, PAGES_STAT, SKIPPED_STAT, Outcome
from crawlers.worker import PageWorker

log = logging.getLogger(__name__)
# Scrapy's finish reasons → the summary's state. Only a finished run closes its journal (the next run
# re-visits everything); the others leave it open, so the next run resumes where this one stopped.
STATES = {
    "finished": "finished",
    "budget": "budget",
    "captcha": "captcha",
    "shutdown": "killed",
    "disk_full": "disk_full",
}
EXIT_CODES = {"finished": 0, "budget": 0, "captcha": 3, "disk_full": 5, "killed": 130}


def run_crawl(cfg: Config, source_name: str, fresh: bool = False) -> dict:
    """Crawl `source_name` to the end (or budget, captcha stop, shutdown); returns the summary."""
    source = get_source(cfg, source_name)
    db.upgrade(cfg)
    directory = cfg.data_dir / "crawl" / source.name
    shared = cfg.crawl.frontier == "redis"
    # A second crawl of this source on this machine stops at the lock, naming the first; with the shared
    # frontier it joins the first one's run instead (crawlers.frontier_redis).
    with contextlib.nullcontext() if shared else RunLock(directory, source.name):
        frontier = _open_frontier(cfg, source, directory, fresh)
        worker = PageWorker(cfg, processes=int(cfg.crawl.worker_processes))
        try:
            crawler, process = _make_crawler(cfg, source, frontier, worker)
            worker.warm_up()  # the workers load parsers and detector while Scrapy was set up
            with _progress(crawler, source, live_progress.progress_path(cfg, source.name)) as progress:
                process.start()
        finally:
            worker.close()
        stats = crawler.stats.get_stats()
        state = STATES.get(stats.get("finish_reason", ""), "error")
        if state == "finished":
            frontier.end(state)
        else:
            # Stopped early (budget, captcha, Ctrl-C): the next run picks up where this one stopped.
            frontier.close()
    summary = _summary(source, stats, state, frontier)
    live_progress.write(
        live_progress.progress_path(cfg, source.name),
        **{k: summary[k] for k in ("source", "pages", "hits", "elapsed_s", "state")},
        started_at=progress.started_at,
        pid=os.getpid(),
    )
    summary["cpu_s"] = _cpu_seconds()
    summary.update(_drain(cfg))
    if state == "disk_full":
        # Writing the anchor would fail the same way; the next crawl's anchor covers these records.
        summary["anchor"] = {"error": "not anchored: the disk is full (the next crawl anchors the head)"}
    else:
        summary["anchor"] = _anchor(cfg, source)
    return summary


def _open_frontier(cfg: Config, source: Source, directory, fresh: bool):
    if cfg.crawl.frontier == "redis":
        from crawlers.frontier_redis import RedisFrontier

        return RedisFrontier(cfg.crawl.redis_url, source.name, float(cfg.crawl.redis_heartbeat_s)).open(fresh=fresh)
    return Frontier(directory).open(fresh=fresh)


def _anchor(cfg: Config, source: Source) -> dict:
    """Sign the evidence chain's head after the crawl (evidence.anchor), so the records it added can
    be neither deleted nor rewritten unnoticed. Never fails the crawl: without a key (or with a chain
    that no longer matches its last anchor) the summary says why, and the nightly verify job fails."""
    from evidence.anchor import try_anchor

    result = try_anchor(cfg, f"crawl:{source.name}")
    if "error" in result:
        log.warning("evidence head not anchored: %s", result["error"])
    return result


def _make_crawler(cfg: Config, source: Source, frontier: Frontier, worker: PageWorker):
    from scrapy.crawler import CrawlerProcess

    from crawlers.middlewares import ContextRotator
    from crawlers.settings import build_settings
    from crawlers.spiders.source import SourceSpider

    process = CrawlerProcess(build_settings(cfg, source, shared_frontier=frontier.shared))
    crawler = process.create_crawler(SourceSpider)
    contexts = ContextRotator(source.name, cfg.crawl.pages_per_browser_context) if source.render else None
    backoff, in_row = float(cfg.crawl.captcha_backoff_s), int(cfg.crawl.captcha_max_in_row)
    shared = {}
    if frontier.shared:
        # Politeness of all crawl processes of this Redis: pauses, account budgets, the site's delay and
        # the run's page budget.
        from crawlers import frontier_redis as fr

        url = cfg.crawl.redis_url
        pauses = fr.SharedDomainPauses(url, backoff, in_row)
        budget = fr.SharedAccountBudget(url, cfg.core.timezone)
        shared = {"pacer": fr.SharedPacer(url), "page_budget": fr.SharedPageBudget(frontier)}
    else:
        pauses = DomainPauses(backoff, in_row)
        budget = AccountBudget(cfg.data_dir / "crawl" / "account_budget.json", cfg.core.timezone)
    process.crawl(
        crawler,
        source=source,
        start_urls=start_urls(source, cfg),
        frontier=frontier,
        pauses=pauses,
        worker=worker,
        contexts=contexts,
        budget=budget,
        cfg=cfg,
        **shared,
    )
    return crawler, process


class _progress:
    """A rich progress bar on stderr showing stored pages (silent when stderr is no terminal), and the
    progress file other processes read (crawlers.live_progress: the demo, the jobs page). It reads the
    crawl's counts twice a second rather than being called per page."""

    FILE_EVERY = 4  # ticks (2 s) between progress-file writes

    def __init__(self, crawler, source: Source, path):
        from scrapy import signals

        from core.progress import make_progress

        self.crawler = crawler
        self.source = source.name
        self.path = path
        self.ticks = 0
        self.started_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        self.bar = make_progress()
        self.task = self.bar.add_task(f"crawl {source.name}", total=source.page_budget)
        self.loop = None
        crawler.signals.connect(self._start, signal=signals.spider_opened)
        crawler.signals.connect(self._stop, signal=signals.spider_closed)

    def _start(self, *args, **kwargs):
        from twisted.internet import task

        self.loop = task.LoopingCall(self._update)
        self.loop.start(0.5, now=False)

    def _update(self):
        pages = int(self.crawler.stats.get_value(PAGES_STAT, 0))
        self.bar.update(self.task, completed=pages)
        if self.ticks % self.FILE_EVERY == 0:
            live_progress.write(
                self.path,
                source=self.source,
                pages=pages,
                hits=int(self.crawler.stats.get_value(Outcome.HIT.stat, 0)),
                elapsed_s=round(time.monotonic() - self.t0, 1),
                started_at=self.started_at,
                pid=os.getpid(),
                state="running",
            )
        self.ticks += 1

    def _stop(self, *args, **kwargs):
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self._update()  # the final count

    def __enter__(self):
        self.t0 = time.monotonic()
        self._update()  # the file exists (0 pages) from the start
        self.bar.start()
        return self

    def __exit__(self, *exc):
        self.bar.stop()


def _summary(source: Source, stats: dict, state: str, frontier: Frontier) -> dict:
    get = lambda key: int(stats.get(key, 0))  # noqa: E731
    summary = {
        "source": source.name,
        "pages": get(PAGES_STAT),
        "new_versions": get(Outcome.NEW_VERSION.stat) + get(Outcome.HIT.stat),
        "unchanged": get(Outcome.UNCHANGED.stat),
        "hits": get(Outcome.HIT.stat),
        "gone": get(Outcome.GONE.stat),
        # Pages (stored or listings) that no known layout reads, and script shells that need render = true.
        "unknown_layout": get(Outcome.UNKNOWN_LAYOUT.stat),
        "needs_render": get(Outcome.NEEDS_RENDER.stat),
        # Pages not stored, requests given up, and callbacks that raised (Scrapy counts those apart).
        "errors": get(Outcome.FAILED.stat) + get("spider_exceptions/count"),
        # Pages not stored because the disk filled up (the crawl stopped at the first; state disk_full).
        "disk_full": get(Outcome.DISK_FULL.stat),
        "captcha": get("wangxun/captcha"),
        "skipped": get(SKIPPED_STAT),
        # Requests, connections and browser subrequests the source's egress policy refused (never sent).
        "egress_refused": get(EGRESS_STAT),
        "requests": int(stats.get("downloader/request_count", 0)),
        "elapsed_s": round(float(stats.get("elapsed_time_seconds", 0.0)), 3),
        "state": state,
        "resumed": frontier.resumed,
        "run": frontier.run_id,
    }
    if getattr(frontier, "shared", False):
        summary["frontier"] = "redis"
        summary["worker"] = frontier.worker  # host:pid:… in the run's Redis keys
    if not source.obey_robots:
        summary["robots_override_reason"] = source.robots_override_reason
    return summary


def _cpu_seconds() -> dict:
    """CPU time of this process and of its finished children (the page worker, the browser)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"crawl": round(me.ru_utime + me.ru_stime, 2), "children": round(kids.ru_utime + kids.ru_stime, 2)}


def _drain(cfg: Config) -> dict:
    """Index the hits this crawl queued. Quick: an unreachable cluster delays the crawl's exit by
    seconds, not minutes; whatever is not indexed waits in the outbox, and `index_error` says why."""
    from search import outbox

    try:
        report = outbox.drain_report(cfg, quick=True)
    except Exception as exc:  # noqa: BLE001 - indexing is best effort; the hits are safe in the outbox
        return {"indexed": 0, "index_error": str(exc)[:200]}
    out = {"indexed": report.indexed}
    if not report.ok:
        out["index_error"] = f"{report.left_behind} hit(s) wait in the outbox: {report.reason()}"[:300]
    return out
