"""The one spider: any source of a known kind, driven by its entry in the sources file.

A response is parsed by its kind's parser (crawlers.parsers), in a page worker. Listing pages (search
results, shop listings) return requests for their items and their next page; content pages are
stored through the page store (crawlers.store) and return requests for links matching the source's
`follow` patterns. Captcha pages are never content: the domain is paused and the request retried,
or the crawl stops after too many in a row.

The callback owns each response's journal entry: it ends with the entry closed (stored, or a listing
handed over), left open on purpose (a failed store, a captcha retry) or, when it raises, left open
for the next run.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from crawlers.items import PageItem, fetch_fields, fetch_record
from crawlers.middlewares import EgressRefused
from crawlers.request_meta import CRAWL_SPEC, JOURNAL_FP, OWN_KEYS, SENT_AT
from crawlers.sources import LISTING_KINDS, Source, is_listing
from crawlers.spiders.listing import listing_page
from crawlers.store import PageStore, post_for

GONE_STATUSES = {404: "removed", 410: "removed"}


class SourceSpider(scrapy.Spider):
    name = "wangxun"
    custom_settings = {}

    def __init__(
        self,
        source: Source,
        start_urls: list[str],
        frontier,
        pauses,
        worker=None,
        contexts=None,
        cfg=None,
        pacer=None,
        page_budget=None,
        **kw,
    ):
        super().__init__(name=source.name, **kw)
        self.cfg = cfg
        self.worker = worker  # crawlers.worker.PageWorker: parses, classifies and stores
        self.source = source
        self.seed_urls = start_urls
        self.frontier = frontier
        self.pauses = pauses
        self.contexts = contexts  # crawlers.middlewares.ContextRotator for rendered sources
        # With the shared frontier (crawlers.frontier_redis): the per-site delay and the page budget of
        # all crawl processes; None keeps Scrapy's DOWNLOAD_DELAY and a budget per process.
        self.pacer = pacer
        self.page_budget = page_budget
        self.pages: PageStore | None = None  # set with the crawler

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.pages = PageStore(crawler, spider.frontier, spider.worker)
        return spider

    async def start(self):
        # Resuming: the unfinished requests first, then the seeds; seeds the killed run already
        # scheduled are dropped by the journal-backed duplicate filter, the rest were never reached.
        for fp, spec in list(self.frontier.pending.items()):
            yield self.request(spec, fp=fp)
        for url in self.seed_urls:
            yield self.request({"url": url, "kind": self.source.kind, "depth": 0, "page": 1})

    def request(self, spec: dict[str, Any], fp: str = "") -> scrapy.Request:
        """A request from its journal spec; `fp` marks one re-scheduled from an unfinished run."""
        meta: dict[str, Any] = {CRAWL_SPEC: spec, "handle_httpstatus_list": list(GONE_STATUSES)}
        if fp:
            meta[JOURNAL_FP] = fp
        if self.source.render:
            meta.update(playwright=True, playwright_include_page=True)
            wait_for = self.source.render_wait_for
            if wait_for and (_is_item(spec) or spec["kind"] not in LISTING_KINDS):  # listings wait for "load"
                from scrapy_playwright.page import PageMethod

                meta["playwright_page_methods"] = [PageMethod("wait_for_selector", wait_for)]
        return scrapy.Request(
            spec["url"],
            callback=self.parse_page,
            errback=self.on_error,
            meta=meta,
            priority=spec.get("depth", 0),
            dont_filter=bool(fp),
        )

    async def parse_page(self, response) -> list:
        """A coroutine returning a list, not an async generator: Scrapy then runs the spider
        middlewares over a plain iterable, which cost a tenth of the crawl process's CPU less."""
        spec = response.meta[CRAWL_SPEC]
        page = response.meta.pop("playwright_page", None)
        browser = _BrowserPage(page, self.contexts) if page is not None else None
        try:
            return await self._handle(response, spec, browser)
        finally:
            if browser is not None:
                await browser.release()

    async def _handle(self, response, spec: dict, browser: _BrowserPage | None) -> list:
        fp = response.meta.get(JOURNAL_FP, "")
        if response.status in GONE_STATUSES:
            await self.pages.store(self._item(response, spec, _GonePage(GONE_STATUSES[response.status])))
            return []
        # Parsed in a page worker (another core), while the engine goes on downloading; a static
        # content page is stored there too, in the same call (a rendered one waits for its screenshot).
        store_spec = self._store_spec(response, spec, fp) if browser is None else None
        parsed, outcome = await self.worker.parse_and_store(
            spec["kind"],
            response.url,
            response.body,
            _declared_encoding(response),
            self.source.selectors or None,
            store_spec,
        )
        domain = urlsplit(response.url).hostname or ""
        if parsed.state == "captcha":
            return [self._after_captcha(response, domain)]  # the entry stays open: asked again
        self.pauses.ok(domain)
        if is_listing(spec["kind"], _is_item(spec), parsed):
            self.pages.count_layout(parsed.state)  # a search page that is a shell, or of an unknown layout
            return await self._listing(response, spec, parsed, fp)
        if outcome is not None:
            # Stored already, and its entry closed after the commit (or left open if it failed).
            self.pages.account(outcome, fp, response.url)
            return list(self._follow(response, spec, parsed))
        item = self._item(response, spec, parsed)
        if browser is not None:
            if parsed.state == "ok":
                await self._screenshot_if_hit(item, browser.page)
            await browser.release()  # the store does not need the browser page
        await self.pages.store(item)
        return list(self._follow(response, spec, parsed))

    def _store_spec(self, response, spec: dict, fp: str) -> dict:
        """What the page worker needs to store this response as a page if it is content
        (crawlers.store.store_parsed)."""
        return {
            # A redirected request (Sogou's /link?url=…) is stored under where it landed.
            "url": response.url,
            "is_item": _is_item(spec),
            "source": self.source.name,
            "platform": self.source.platform,
            "depth": spec.get("depth", 0),
            "journal_fp": fp,
            "journal": self.pages.journal_for(fp),
            "fetch": fetch_fields(response),
        }

    async def _screenshot_if_hit(self, item: PageItem, page) -> None:
        """Classify while the browser page is still open; only hits need the (costly) screenshot."""
        item.detection = await self.worker.classify(post_for(item))
        if item.detection.get("labels"):
            item.fetch.screenshot = await page.screenshot(full_page=True, type="png")

    def _after_captcha(self, response, domain: str) -> scrapy.Request:
        self.crawler.stats.inc_value("wangxun/captcha")
        if not self.pauses.captcha(domain, response.meta.get(SENT_AT, 0.0)):
            raise CloseSpider("captcha")
        # Ask again for what was asked, not for the captcha page it was redirected to.
        first = (response.meta.get("redirect_urls") or [response.request.url])[0]
        meta = {k: v for k, v in response.meta.items() if k in OWN_KEYS or k.startswith(("playwright", "handle"))}
        meta.pop("playwright_page", None)
        return response.request.replace(url=first, meta=meta, dont_filter=True)

    async def _listing(self, response, spec: dict, parsed, fp: str) -> list:
        src, depth = self.source, spec.get("depth", 0)
        listing_items = [it for it in parsed.items if it.url]
        out = []
        if src.item_kind and depth < src.max_depth:
            for it in listing_items:
                url = urljoin(response.url, it.url)
                if not src.follow or src.follows(url):
                    out.append(
                        self.request(
                            {
                                "url": url,
                                "kind": src.item_kind,
                                "depth": depth + 1,
                                "item": 1,
                                "account": it.seller or "",
                            }
                        )
                    )
        if parsed.next_page and spec.get("page", 1) < src.max_list_pages:
            out.append(
                self.request({**spec, "url": urljoin(response.url, parsed.next_page), "page": spec.get("page", 1) + 1})
            )
        if src.item_kind:
            self.pages.close(fp, response.url)
        else:
            # The listing is the content (a JSON API): each item is stored as its own page, and the
            # entry closes once all of them are.
            pages = [
                self._item(response, spec, listing_page(it), url=urljoin(response.url, it.url)) for it in listing_items
            ]
            await self.pages.store_all(pages, fp, response.url)
        return out

    def _follow(self, response, spec: dict, parsed):
        src, depth = self.source, spec.get("depth", 0)
        if depth >= src.max_depth or not src.follow:
            return
        for link in parsed.links:
            url = urljoin(response.url, link if isinstance(link, str) else link.get("url", ""))
            if src.follows(url):
                yield self.request(
                    {
                        "url": url,
                        "kind": src.item_kind or src.kind,
                        "depth": depth + 1,
                        "item": 1,
                        "account": parsed.account or spec.get("account", ""),
                    }
                )

    def _item(self, response, spec: dict, parsed, url=None) -> PageItem:
        # A redirected request (Sogou's /link?url=…) is stored under where it landed.
        return PageItem(
            url=url or response.url,
            source=self.source.name,
            platform=self.source.platform,
            kind=spec["kind"],
            parsed=parsed,
            depth=spec.get("depth", 0),
            fetch=fetch_record(response, parsed.text or ""),
            journal_fp=response.meta.get(JOURNAL_FP, ""),
        )

    def on_error(self, failure):
        request = failure.request
        page = request.meta.pop("playwright_page", None)
        if page is not None and self.contexts is not None:
            asyncio.ensure_future(self.contexts.page_done(page))
        refused = bool(failure.check(EgressRefused))  # logged and counted by the egress guard
        skipped = bool(failure.check(IgnoreRequest) and not failure.check(HttpError))  # robots.txt, budgets
        if not skipped:
            self.logger.warning("giving up on %s: %s", request.url, failure.getErrorMessage())
        self.pages.give_up(request.meta.get(JOURNAL_FP, ""), request.url, skipped, refused=refused)


def _is_item(spec: dict) -> bool:
    return bool(spec.get("item"))


class _BrowserPage:
    """A rendered response's browser page, given back once: as soon as the screenshot is taken (the
    store's round trip does not need it), or when the callback ends."""

    def __init__(self, page, contexts):
        self.page = page
        self._contexts = contexts

    async def release(self) -> None:
        page, self.page = self.page, None
        if page is not None:
            await self._contexts.page_done(page)


class _GonePage:
    """A 404/410: the page is gone; stored as page state, never as content."""

    def __init__(self, state: str):
        self.state = state
        self.text = ""
        self.items, self.links, self.next_page, self.account = [], [], None, None


def _declared_encoding(response) -> str | None:
    """The charset the server declared (parsers sniff <meta> and BOMs themselves)."""
    if not isinstance(response, TextResponse):
        return None
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
    if "charset=" in content_type:
        return content_type.split("charset=", 1)[1].split(";")[0].strip() or None
    return None
