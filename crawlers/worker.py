"""The page workers: helper processes that parse, classify and store pages for the crawl process.

Why a process: Scrapy's engine is single-threaded Python, and parsing (lxml + text cleaning),
detection and the database writes are CPU work too. In one process they take turns on one core; in a
worker process they run on the second core while the engine keeps downloading. Two of them by
default, so one can parse while the other waits for an evidence file's fsync. Storing a page, and
closing its journal entry after the commit, is crawlers.store's; this module is the process around
it: start-up (state, warm-up), dying with the crawl, and the functions the pool calls.

If the crawl process is killed, the workers see their sockets close (or die with it) and exit;
whatever was not committed is fetched again on resume. Static content pages are parsed and stored in
one call (parse_and_store); rendered pages are stored in a second call, after their screenshot.
crawlers.procpool is the plumbing.

`[crawl] worker_processes = 0` runs the same functions on a thread of the crawl process instead
(used by unit tests, and useful where processes are expensive).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from crawlers import store
from crawlers.store import Outcome

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


# ---------------------------------------------------------------- what the pool calls


def classify(post: dict) -> dict:
    return _detector().classify(post)


def store_item(item) -> Outcome:
    return store.store_item(_state["cfg"], _detector(), item)


def parse_and_store(kind: str, url: str, body: bytes, encoding: str | None, selectors: dict | None, spec: dict | None):
    """Parse a page and, when it is content (not a listing, not a captcha wall), store it in the same
    call: one round trip to this process per page instead of two, and the body is sent once.

    `spec` says how to store it (crawlers.store.store_parsed); None only parses. Returns the parsed
    page (without its text when stored: the crawl process needs only links and state) and the store
    Outcome, or None when nothing was stored."""
    from crawlers.parsers import parse

    parsed = parse(kind, url, body, encoding=encoding, selectors=selectors)
    if spec is None or not store.is_content(kind, parsed, spec["is_item"]):
        return parsed, None  # the spider decides what happens to captcha walls and listings
    outcome = store.store_parsed(_state["cfg"], _detector(), kind, parsed, body, spec)
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

    async def parse_and_store(self, kind, url, body, encoding, selectors, spec):
        return await self._call(parse_and_store, kind, url, body, encoding, selectors, spec)

    async def classify(self, post: dict) -> dict:
        return await self._call(classify, post)

    async def store(self, item) -> Outcome:
        return await self._call(store_item, item)

    async def _call(self, fn, *args):
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
