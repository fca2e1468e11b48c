"""The page workers: helper processes that parse, classify and store pages for the crawl process.

Why a process: Scrapy's engine is single-threaded Python, and parsing (lxml + text cleaning),
detection and the ORM writes are CPU work too. In one process they take turns on one core; in a
worker process they run on the second core while the engine keeps downloading. The worker is also
where the database is written. Two of them by default, so one can parse while the other waits for
an evidence file's fsync; their write transactions are short (reads, detection and evidence files
come first) and SQLite's write lock plus the evidence chain's append lock keep them in order.

Crash safety: a worker writes a page's done line to the crawl journal right after the page's
transaction committed, and nothing else marks it done. If the crawl process is killed, the workers
see their sockets close (or die with it) and exit; whatever was not committed is fetched again on
resume. Static content pages are parsed and stored in one call (parse_and_store); rendered pages are
stored in a second call, after their screenshot. crawlers.procpool is the plumbing.

`[crawl] worker_processes = 0` runs the same functions on a thread of the crawl process instead
(used by unit tests, and useful where processes are expensive).
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

_state: dict = {}


def _init(cfg, parent_pid: int | None = None) -> None:
    _state["cfg"] = cfg
    _state["detector"] = None
    if parent_pid is not None:
        _die_with_parent(parent_pid)


def _die_with_parent(parent_pid: int) -> None:
    """A killed crawl must not leave workers behind (they would wait forever on their task queue).

    Linux kills us with the parent (PR_SET_PDEATHSIG); a watchdog thread covers other systems and
    the moment before prctl ran. Dying mid-task is safe: an uncommitted transaction rolls back."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="wangxun-parent-watch", daemon=True).start()


def _detector():
    if _state["detector"] is None:
        from detection import Detector

        _state["detector"] = Detector.from_config(_state["cfg"])
    return _state["detector"]


def parse_page(kind: str, url: str, body: bytes, encoding: str | None, selectors: dict | None):
    from crawlers.parsers import parse

    return parse(kind, url, body, encoding=encoding, selectors=selectors)


def classify(post: dict) -> dict:
    return _detector().classify(post)


def store(item) -> str:
    from sqlalchemy.exc import IntegrityError

    from crawlers.frontier import append_done
    from crawlers.pipelines import store_page

    for attempt in range(3):
        try:
            outcome = store_page(_state["cfg"], _detector(), item)
            if item.journal:
                # Straight after the commit, in this process: a kill can hardly fall in between.
                append_done(item.journal, item.frontier_fp, item.fetch.url)
            return outcome
        except IntegrityError:
            # The other worker stored the same page (one URL reached twice) first; the next attempt
            # finds it and records this fetch as unchanged or as a new version.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def parse_and_store(kind: str, url: str, body: bytes, encoding: str | None, selectors: dict | None, spec: dict | None):
    """Parse a page and, when it is content (not a listing, not a captcha wall), store it in the same
    call: one round trip to this process per page instead of two, and the body is sent once.

    `spec` says how to store it (SourceSpider._store_spec); None only parses. Returns the
    parsed page (without its text when stored: the crawl process needs only links and state) and
    the store outcome, or None when nothing was stored. A failed store is reported as
    "error: …", not raised, so the crawl process counts it as the pipeline did."""
    import dataclasses
    import logging

    from crawlers.items import PageItem
    from crawlers.sources import LISTING_KINDS
    from evidence import FetchRecord

    parsed = parse_page(kind, url, body, encoding, selectors)
    if spec is None or parsed.state == "captcha" or (not spec["is_item"] and (parsed.items or kind in LISTING_KINDS)):
        return parsed, None  # the spider decides what happens to captcha walls and listings
    fetch = FetchRecord(body=body, text=parsed.text or "", **spec["fetch"])
    item = PageItem(
        url=url,
        source=spec["source"],
        platform=spec["platform"],
        kind=kind,
        parsed=parsed,
        fetch=fetch,
        frontier_fp=spec["frontier_fp"],
        depth=spec["depth"],
        journal=spec["journal"],
    )
    try:
        outcome = store(item)
    except Exception as exc:  # noqa: BLE001 - one page's failure must not end the crawl
        logging.getLogger(__name__).exception("could not store %s", url)
        outcome = f"error: {type(exc).__name__}: {exc}"
    return dataclasses.replace(parsed, text="", extra={}, images=[]), outcome


def warm_up(_n: int = 0) -> bool:
    """Load the parsers and the detector before the first page needs them."""
    import crawlers.parsers  # noqa: F401

    _detector()
    return True


class PageWorker:
    """The page workers of one crawl: `processes` worker processes, or a thread when 0."""

    def __init__(self, cfg, processes: int):
        self.processes = processes
        if processes > 0:
            from crawlers.procpool import AsyncProcessPool

            self.pool = AsyncProcessPool(processes, initializer=_start, initargs=(cfg, os.getpid()))
        else:
            self.pool = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="wangxun-worker", initializer=_init, initargs=(cfg,)
            )

    def warm_up(self) -> None:
        """Load parsers and detector in every worker (blocks; call while Scrapy starts)."""
        if self.processes > 0:
            self.pool.wait_ready()
        else:
            self.pool.submit(warm_up).result()

    async def call(self, fn, *args):
        if self.processes > 0:
            return await self.pool.call(fn, *args)
        return await asyncio.wrap_future(self.pool.submit(fn, *args))

    def close(self) -> None:
        if self.processes > 0:
            self.pool.close()
        else:
            self.pool.shutdown(wait=True)


def _start(cfg, parent_pid: int) -> None:
    """A worker process's start: its state, its parent watch, and the parsers and detector loaded."""
    _init(cfg, parent_pid)
    warm_up()
