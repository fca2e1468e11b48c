"""Scrapy plumbing for the frontier journal (scheduling), politeness, browser-context recycling and
the egress policy.

Everything reads its shared state from the spider (`spider.frontier`, `spider.pauses`,
`spider.contexts`, `spider.budget`), so one crawl process has one of each. Journal entries are
opened here (the duplicate filter) and closed only by the page store (crawlers.store). The egress
guard (crawlers.egress.EgressGuard) comes in the settings (EGRESS_GUARD), since the resolver is made
before the spider.
"""

from __future__ import annotations

import asyncio
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.downloadermiddlewares import cookies as scrapy_cookies
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.dupefilters import BaseDupeFilter
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached
from tldextract import TLDExtract
from twisted.internet.interfaces import IHostnameResolver, IResolutionReceiver
from zope.interface import implementer

from crawlers.egress import DEFAULT_PORTS
from crawlers.request_meta import BUDGETED, CRAWL_SPEC, JOURNAL_FP, SENT_AT

# The setting that carries the crawl's crawlers.egress.EgressGuard.
EGRESS_GUARD = "WANGXUN_EGRESS_GUARD"

# Scrapy's cookies middleware asks tldextract whether a cookie's domain is a public suffix. Out of
# the box tldextract downloads the Public Suffix List from publicsuffix.org (and GitHub) on first use,
# which stalls or fails on an intranet machine and is a request nobody configured. Use the snapshot
# bundled with tldextract instead, never fetched and never cached to disk (Scrapy has no setting for
# this; tests/security/test_tldextract_offline.py fails if a crawl looks anything up on the network).
OFFLINE_PUBLIC_SUFFIXES = TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
scrapy_cookies._split_domain = OFFLINE_PUBLIC_SUFFIXES  # noqa: SLF001 - the one instance Scrapy's module uses


class JournalDupeFilter(BaseDupeFilter):
    """Scrapy's duplicate filter, backed by the frontier journal so it survives a kill.

    A request passing the filter is written to the journal (that is the moment it is scheduled).
    Redirect targets inherit the journal entry of the request they came from (JOURNAL_FP), so the
    entry closes when the page it led to is handled; a redirect this run already followed is dropped,
    and the page store closes its entry (the request_dropped signal)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.fingerprinter = crawler.request_fingerprinter

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def request_seen(self, request: Request) -> bool:
        frontier = self.crawler.spider.frontier
        fp = self.fingerprinter.fingerprint(request).hex()
        if JOURNAL_FP in request.meta:  # a redirect of a journaled request
            return not frontier.claim_redirect(fp, request.meta[JOURNAL_FP])
        spec = {**request.meta.get(CRAWL_SPEC, {}), "url": request.url}
        if not frontier.enqueued(fp, spec):
            return True
        request.meta[JOURNAL_FP] = fp
        return False

    def log(self, request: Request, spider=None) -> None:
        """Scrapy calls this for each filtered request; counted as its own filter counts them."""
        self.crawler.stats.inc_value("dupefilter/filtered")


class PoliteDownloaderMiddleware:
    """Pauses (captcha, 429/503 Retry-After) and budgets, checked as each request goes out.

    429/503 pause the domain for Retry-After (capped at `[crawl] max_retry_after_s`) and are
    retried here, before RetryMiddleware would give up on them as errors."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("WANGXUN_MAX_RETRY_AFTER")
        self.max_slowdown_retries = 4 * crawler.settings.getint("RETRY_TIMES")
        self.requests_by_domain: dict[str, int] = {}
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request, spider=None):
        spider = self.crawler.spider
        domain = urlsplit(request.url).hostname or ""
        await spider.pauses.wait(domain)
        if not request.meta.get(BUDGETED):
            # With the shared frontier a request fetched again after its process died has paid already.
            if spider.page_budget is None or spider.page_budget.first_payment(request.meta.get(JOURNAL_FP, "")):
                self._take_budget(spider, request, domain)
            request.meta[BUDGETED] = True
        if spider.pacer is not None:
            # The shared frontier: the site's delay holds across all crawl processes (Scrapy's
            # DOWNLOAD_DELAY, per process, is off then); a pause that began meanwhile is waited out.
            await spider.pacer.wait_turn(domain, spider.source.download_delay)
            await spider.pauses.wait(domain)
        request.meta[SENT_AT] = spider.pauses.clock()
        return None

    def _take_budget(self, spider, request, domain: str) -> None:
        # Per process (or, with the shared frontier, per run session of all processes): a run stopped
        # by its budget resumes next time with a fresh one.
        if spider.page_budget is not None:
            if not spider.page_budget.take(domain, spider.source.page_budget):
                self._close("budget")
                raise IgnoreRequest(f"page budget of {domain} spent")
        else:
            used = self.requests_by_domain.get(domain, 0)
            if used >= spider.source.page_budget:
                self._close("budget")
                raise IgnoreRequest(f"page budget of {domain} spent")
            self.requests_by_domain[domain] = used + 1
        account = request.meta.get(CRAWL_SPEC, {}).get("account")
        if account and spider.source.account_budget:
            key = f"{spider.source.platform}:{account}"
            if not spider.budget.take(key, spider.source.account_budget):
                self.crawler.stats.inc_value("wangxun/account_budget_spent")
                raise IgnoreRequest(f"today's budget for account {account} is spent")

    def _close(self, reason: str) -> None:
        if not self.closing:
            self.closing = True
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    def process_response(self, request, response, spider=None):
        if response.status not in (429, 503) or request.meta.get("dont_retry"):
            return response
        domain = urlsplit(request.url).hostname or ""
        wait = retry_after_seconds(response.headers.get(b"Retry-After"), default=5.0)
        self.crawler.spider.pauses.pause(domain, min(wait, self.max_wait))
        self.crawler.stats.inc_value(f"wangxun/backoff_{response.status}")
        # "Slow down" is not a failure: every retry waits as long as the site asked, so these get
        # more attempts than errors do before the page is given up.
        retry = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=f"HTTP {response.status}",
            max_retry_times=self.max_slowdown_retries,
        )
        return retry or response


def retry_after_seconds(value: bytes | None, default: float) -> float:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return default
    text = value.decode("latin-1").strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - time.time())
    except (TypeError, ValueError):
        return default


class ContextRotator:
    """Sends rendered pages to browser contexts of at most `per_context` pages each, and closes a
    context once all its pages are done. Long crawls in one context grow Chromium's memory without
    bound (a known scrapy-playwright problem); fresh contexts keep it flat."""

    def __init__(self, source_name: str, per_context: int):
        self.prefix = source_name
        self.per_context = per_context
        self.generation = 0
        self.assigned: dict[str, int] = {}
        self.finished: dict[str, int] = {}
        self.closed = 0

    def current(self) -> str:
        return f"{self.prefix}-{self.generation}"

    def assign(self) -> str:
        name = self.current()
        self.assigned[name] = self.assigned.get(name, 0) + 1
        if self.assigned[name] >= self.per_context:
            self.generation += 1
        return name

    async def page_done(self, page) -> None:
        """Close the page and, if it was the last one of a retired context, the context too."""
        context = page.context
        name = getattr(page, "_crawl_context", None)  # set by RenderMiddleware when the page came back
        if not page.is_closed():
            await page.close()
        if name not in self.assigned:
            return
        self.finished[name] = self.finished.get(name, 0) + 1
        if name != self.current() and self.finished[name] >= self.assigned[name]:
            self.assigned.pop(name)
            self.finished.pop(name)
            self.closed += 1
            await context.close()


class RenderMiddleware:
    """Assigns each rendered request its browser context as it goes out (so a retry never reopens
    a context that was already closed) and tags the page with it once the handler created it."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        if request.meta.get("playwright"):
            request.meta.pop("playwright_page", None)
            request.meta["playwright_context"] = self.crawler.spider.contexts.assign()
        return None

    def process_response(self, request, response, spider=None):
        page = request.meta.get("playwright_page")
        if page is not None:
            page._crawl_context = request.meta.get("playwright_context")
            if response.status >= 300 and response.status not in request.meta.get("handle_httpstatus_list", ()):
                # Retried or filtered as an HTTP error: the callback will not see this page.
                request.meta.pop("playwright_page", None)
                asyncio.ensure_future(self.crawler.spider.contexts.page_done(page))
        return response

    def process_exception(self, request, exception, spider=None):
        page = request.meta.pop("playwright_page", None)
        if page is not None:
            page._crawl_context = request.meta.get("playwright_context")
            asyncio.ensure_future(self.crawler.spider.contexts.page_done(page))
        return None


class EgressRefused(IgnoreRequest):
    """A request the source's egress policy refuses (crawlers.egress); counted, never fetched."""


class EgressMiddleware:
    """The egress policy on every request the crawl makes: start URLs, links, listing items, redirects,
    meta refreshes, retries and robots.txt (it runs before RobotsTxtMiddleware and the budgets, so a
    refused request spends nothing). Names and address literals are checked here; the address a name
    resolves to is checked when connecting (GuardedResolver; the proxy for rendered pages), and the
    address a response came from once more (`response.ip_address`).

    Rendered requests get the crawl's egress proxy in their browser context's options, so Chromium
    itself (redirect hops, scripts, images, frames) connects only through the policy."""

    def __init__(self, crawler):
        self.guard = crawler.settings.get(EGRESS_GUARD)
        if self.guard is None:
            raise NotConfigured
        self.guard.stats = crawler.stats
        if self.guard.proxy is not None:
            crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)
            crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def _spider_opened(self, *args, **kwargs) -> None:
        await self.guard.proxy.start()

    async def _spider_closed(self, *args, **kwargs) -> None:
        await self.guard.proxy.close()

    def process_request(self, request, spider=None):
        reason = self.guard.request_refusal(request.url, urlparse_cached(request))
        if reason is not None:
            raise EgressRefused(f"egress refused: {request.url}: {reason}")
        if self.guard.proxy is not None and request.meta.get("playwright"):
            request.meta["playwright_context_kwargs"] = {"proxy": {"server": self.guard.proxy.url}}
        return None

    def process_response(self, request, response, spider=None):
        ip = getattr(response, "ip_address", None)
        if ip is None or "playwright" in response.flags:  # the browser's peer is the proxy, which checked
            return response
        parts = urlparse_cached(request)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 80)
        reason = self.guard.address_refusal(ip, port)
        if reason is not None:
            self.guard.refuse(request.url, f"answered from {ip}: {reason}")
            raise EgressRefused(f"egress refused: {request.url} answered from {ip}: {reason}")
        return response


@implementer(IHostnameResolver)
class GuardedResolver:
    """The crawl's name resolver (TWISTED_DNS_RESOLVER): Scrapy's caching resolver, whose answers must
    pass the egress policy for the port being connected to. A name with any refused answer resolves
    to nothing, so the connection is never attempted (the request fails, and its retry is refused by
    EgressMiddleware). Every TCP connection of the static crawl resolves its host here, address
    literals included, so this checks the address actually connected to."""

    def __init__(self, reactor, guard, cache_size: int):
        from scrapy.resolver import CachingHostnameResolver

        self.reactor = reactor
        self.guard = guard
        self.inner = CachingHostnameResolver(reactor, cache_size)

    @classmethod
    def from_crawler(cls, crawler, reactor):
        settings = crawler.settings  # Scrapy passes the CrawlerProcess: only its settings are there
        cache = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, settings.get(EGRESS_GUARD), cache)

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def resolveHostName(  # noqa: N802 - Twisted's interface
        self, resolutionReceiver, hostName, portNumber=0, addressTypes=None, transportSemantics="TCP"
    ):
        receiver = resolutionReceiver
        if self.guard is not None:
            receiver = _Vetting(resolutionReceiver, self.guard, hostName, portNumber)
        return self.inner.resolveHostName(receiver, hostName, portNumber, addressTypes, transportSemantics)


@implementer(IResolutionReceiver)
class _Vetting:
    """Holds a resolution's answers back until all are in, then passes them on only if every one is
    allowed."""

    def __init__(self, receiver, guard, host: str, port: int):
        self.receiver, self.guard, self.host, self.port = receiver, guard, host, port
        self.addresses = []

    def resolutionBegan(self, resolution) -> None:  # noqa: N802
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address) -> None:  # noqa: N802
        self.addresses.append(address)

    def resolutionComplete(self) -> None:  # noqa: N802
        for address in self.addresses:
            reason = self.guard.policy.address_refusal(address.host, self.port)
            if reason is not None:
                self.guard.refuse_target(self.host, self.port, f"{self.host} resolves to {address.host}: {reason}")
                break
        else:
            for address in self.addresses:
                self.receiver.addressResolved(address)
        self.receiver.resolutionComplete()
