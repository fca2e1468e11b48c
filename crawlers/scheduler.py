"""Scrapy's scheduler on the shared frontier (`[crawl] frontier = "redis"`, crawlers.frontier_redis).

New requests are not queued in this process: the duplicate filter (crawlers.middlewares.
JournalDupeFilter) schedules them in the run's shared queue, and this process takes its next request
from there when its own queue is empty. Its own queue holds only what belongs to requests it already
took: retries, captcha retries and redirects (they carry the journal fingerprint).

When the engine runs out of work (spider_idle) the scheduler keeps the spider open while the run is
not over: it asks the shared queue again every TICK_S seconds (another process may schedule more
requests, or die and leave its in-flight requests to be reclaimed), and ends the crawl ("finished")
once the frontier says the whole run is over. The same loop renews the process's heartbeat.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.core.scheduler import Scheduler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro

from crawlers.request_meta import JOURNAL_FP

log = logging.getLogger(__name__)
TICK_S = 0.2


class SharedScheduler(Scheduler):
    def open(self, spider):
        from twisted.internet import task

        result = super().open(spider)
        self.frontier = spider.frontier
        self.waiting = False  # the engine had nothing to do at its last spider_idle
        self.closing = False
        self.ticks = 0
        heartbeat_s = self.frontier.heartbeat_ms / 1000
        self.renew_every = max(1, int(min(1.0, heartbeat_s / 3) / TICK_S))
        self.crawler.signals.connect(self._idle, signal=signals.spider_idle)
        self.loop = task.LoopingCall(self._tick)
        self.loop.start(TICK_S, now=False)
        return result

    def close(self, reason: str):
        if self.loop.running:
            self.loop.stop()
        return super().close(reason)

    def enqueue_request(self, request) -> bool:
        origin = request.meta.get(JOURNAL_FP)
        if origin:
            # This process's own: a request it popped, a retry, or a redirect. A redirect target is
            # followed by one request of the run only (popped requests are dont_filter, so Scrapy's
            # duplicate filter would not see their redirects).
            fp = self.df.fingerprinter.fingerprint(request).hex()
            if fp != origin and not self.frontier.claim_redirect(fp, origin):
                self.df.log(request, self.spider)
                return False  # request_dropped: the page store closes the request that redirected
            return super().enqueue_request(request)
        if request.dont_filter:
            return super().enqueue_request(request)
        if self.df.request_seen(request):  # already scheduled by this run (any process)
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/shared")  # now in the shared queue
        return True

    def next_request(self):
        request = super().next_request()
        if request is None and not self.frontier.over and not self.closing:
            request = self._pop()
        return request

    def _pop(self):
        from redis import RedisError

        try:
            got = self.frontier.pop()
        except RedisError as exc:
            # Redis away for a moment: no request now (the engine and the ticks ask again) rather than
            # an error in the engine's loop; the in-flight requests stay listed, so nothing is lost.
            self.stats.inc_value("wangxun/frontier_unreachable")
            log.warning("shared frontier unreachable: %s", exc)
            return None
        if got is None:
            return None
        self.waiting = False
        fp, spec = got
        self.stats.inc_value("scheduler/dequeued/shared")
        return self.spider.request(spec, fp=fp)

    def _idle(self, spider=None) -> None:
        """The engine has nothing to do: more work from the run, or the end of the run."""
        from redis import RedisError

        if self.frontier.over or self.closing:
            return  # the engine closes the spider ("finished")
        request = self._pop()
        if request is not None:
            self.crawler.engine.crawl(request)
            raise DontCloseSpider
        try:
            if self.frontier.tick(idle=True):
                return
        except RedisError as exc:  # not over while it cannot be known: the ticks ask again
            log.warning("shared frontier unreachable: %s", exc)
        self.waiting = True
        raise DontCloseSpider

    def _tick(self) -> None:
        self.ticks += 1
        if self.closing:
            return
        try:
            if self.waiting:
                request = self._pop()
                if request is not None:
                    self.crawler.engine.crawl(request)
                elif self.frontier.tick(idle=True):
                    self._finish()
            elif self.ticks % self.renew_every == 0:
                self.frontier.tick(idle=False)
        except Exception:  # noqa: BLE001 - Redis unreachable for a moment: the next tick tries again
            log.exception("shared frontier: tick failed")

    def _finish(self) -> None:
        self.closing = True
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="finished"))
