"""The one spider: any source of a known kind, driven by its entry in the sources file.

A response is parsed by its kind's parser (crawlers.parsers). Listing pages (search results, shop
listings) yield requests for their items and their next page; content pages yield a PageItem for the
pipeline and requests for links matching the source's `follow` patterns. Captcha pages are never
content: the domain is paused and the request retried, or the crawl stops after too many in a row.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from crawlers import worker as tasks
from crawlers.items import PageItem, fetch_fields, fetch_record
from crawlers.pipelines import account_for
from crawlers.sources import LISTING_KINDS, Source
from crawlers.spiders.listing import listing_page

GONE_STATUSES = {404: "removed", 410: "removed"}


class SourceSpider(scrapy.Spider):
    name = "wangxun"
    custom_settings = {}

    def __init__(
        self, source: Source, start_urls: list[str], frontier, pauses, worker=None, contexts=None, cfg=None, **kw
    ):
        super().__init__(name=source.name, **kw)
        self.cfg = cfg
        self.worker = worker  # crawlers.worker.PageWorker: parses, classifies and stores
        self.source = source
        self.seed_urls = start_urls
        self.frontier = frontier
        self.pauses = pauses
        self.contexts = contexts  # crawlers.middlewares.ContextRotator for rendered sources

    async def start(self):
        # Resuming: the unfinished requests first, then the seeds; seeds the killed run already
        # scheduled are dropped by the journal-backed duplicate filter, the rest were never reached.
        for fp, spec in list(self.frontier.pending.items()):
            yield self.request(spec, fp=fp)
        for url in self.seed_urls:
            yield self.request({"url": url, "kind": self.source.kind, "depth": 0, "page": 1})

    def request(self, spec: dict[str, Any], fp: str = "") -> scrapy.Request:
        """A request from its journal spec; `fp` marks one re-scheduled from an unfinished run."""
        meta: dict[str, Any] = {"wx": spec, "handle_httpstatus_list": list(GONE_STATUSES)}
        if fp:
            meta["wx_fp"] = fp
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
        wx = response.meta["wx"]
        page = response.meta.pop("playwright_page", None)
        try:
            return await self._handle(response, wx, page)
        finally:
            if page is not None:
                await self.contexts.page_done(page)

    async def _handle(self, response, wx: dict, page) -> list:
        if response.status in GONE_STATUSES:
            return [self._item(response, wx, _GonePage(GONE_STATUSES[response.status]))]
        # Parsed in the page worker (another core), while the engine goes on downloading; a static
        # content page is stored there too, in the same call (a rendered one waits for its screenshot).
        spec = self._store_spec(response, wx) if page is None else None
        parsed, stored = await self.worker.call(
            tasks.parse_and_store,
            wx["kind"],
            response.url,
            response.body,
            _declared_encoding(response),
            self.source.selectors or None,
            spec,
        )
        domain = urlsplit(response.url).hostname or ""
        if parsed.state == "captcha":
            return [self._after_captcha(response, domain)]
        self.pauses.ok(domain)
        # Pages reached as a listing's items are content even when their kind also reads listings
        # (shop_listing parses both a search and an item page).
        if not _is_item(wx) and (parsed.items or wx["kind"] in LISTING_KINDS):
            return list(self._listing(response, wx, parsed))
        if stored is not None:
            # Stored already: accounted for here instead of yielding an item, whose trip through
            # Scrapy's middlewares and item pipeline cost more than the bookkeeping itself.
            item = PageItem(
                url=response.url,
                source=self.source.name,
                platform=self.source.platform,
                kind=wx["kind"],
                parsed=parsed,
                fetch=None,
                depth=wx.get("depth", 0),
                frontier_fp=response.meta.get("wx_fp", ""),
            )
            if not account_for(self, item, stored):
                self.logger.warning("not stored: %s (%s)", response.url, stored)
                response.meta["wx_unfinished"] = True  # its journal entry stays open
            return list(self._follow(response, wx, parsed))
        item = self._item(response, wx, parsed)
        if page is not None and parsed.state == "ok":
            await self._screenshot_if_hit(item, page)
        return [item, *self._follow(response, wx, parsed)]

    def _store_spec(self, response, wx: dict) -> dict:
        """What the page worker needs to store this response as a page if it is content."""
        fp = response.meta.get("wx_fp", "")
        return {
            "is_item": _is_item(wx),
            "source": self.source.name,
            "platform": self.source.platform,
            "depth": wx.get("depth", 0),
            "frontier_fp": fp,
            "journal": str(self.frontier.path) if fp else "",
            "fetch": fetch_fields(response),
        }

    async def _screenshot_if_hit(self, item: PageItem, page) -> None:
        """Classify while the browser page is still open; only hits need the (costly) screenshot."""
        from crawlers.pipelines import post_for

        item.detection = await self.worker.call(tasks.classify, post_for(item))
        if item.detection.get("labels"):
            item.fetch.screenshot = await page.screenshot(full_page=True, type="png")

    def _after_captcha(self, response, domain: str) -> scrapy.Request:
        self.crawler.stats.inc_value("wangxun/captcha")
        if not self.pauses.captcha(domain, response.meta.get("wx_sent", 0.0)):
            raise CloseSpider("captcha")
        # Ask again for what was asked, not for the captcha page it was redirected to.
        first = (response.meta.get("redirect_urls") or [response.request.url])[0]
        meta = {k: v for k, v in response.meta.items() if k.startswith(("wx", "playwright", "handle"))}
        meta.pop("playwright_page", None)
        return response.request.replace(url=first, meta=meta, dont_filter=True)

    def _listing(self, response, wx: dict, parsed):
        src, depth = self.source, wx.get("depth", 0)
        listing_items = [it for it in parsed.items if it.url]
        if not src.item_kind:
            # The listing is the content (a JSON API): store each item as its own page.
            for i, it in enumerate(listing_items):
                page = listing_page(it)
                yield self._item(
                    response, wx, page, url=urljoin(response.url, it.url), last=i == len(listing_items) - 1
                )
        elif depth < src.max_depth:
            for it in listing_items:
                url = urljoin(response.url, it.url)
                if not src.follow or src.follows(url):
                    yield self.request(
                        {"url": url, "kind": src.item_kind, "depth": depth + 1, "item": 1, "account": it.seller or ""}
                    )
        if parsed.next_page and wx.get("page", 1) < src.max_list_pages:
            yield self.request({**wx, "url": urljoin(response.url, parsed.next_page), "page": wx.get("page", 1) + 1})

    def _follow(self, response, wx: dict, parsed):
        src, depth = self.source, wx.get("depth", 0)
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
                        "account": parsed.account or wx.get("account", ""),
                    }
                )

    def _item(self, response, wx, parsed, url=None, last=True) -> PageItem:
        # A redirected request (Sogou's /link?url=…) is stored under where it landed.
        page_url = url or response.url
        return PageItem(
            url=page_url,
            source=self.source.name,
            platform=self.source.platform,
            kind=wx["kind"],
            parsed=parsed,
            depth=wx.get("depth", 0),
            fetch=fetch_record(response, parsed.text or ""),
            frontier_fp=response.meta.get("wx_fp", ""),
            last_of_response=last,
        )

    def on_error(self, failure):
        request = failure.request
        page = request.meta.pop("playwright_page", None)
        if page is not None and self.contexts is not None:
            asyncio.ensure_future(self.contexts.page_done(page))
        if failure.check(IgnoreRequest) and not failure.check(HttpError):  # robots.txt, budgets
            self.crawler.stats.inc_value("wangxun/skipped")
        else:
            self.crawler.stats.inc_value("wangxun/errors")
            self.logger.warning("giving up on %s: %s", request.url, failure.getErrorMessage())
        self.frontier.done(request.meta.get("wx_fp", ""), request.url)


def _is_item(spec: dict) -> bool:
    return bool(spec.get("item"))


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
