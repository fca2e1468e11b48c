"""Scrapy settings for one crawl, built from `[crawl]` in config.toml and the source's own limits.

This is the only place Scrapy settings are made; there is no scrapy.cfg and no settings module that
reads files of its own.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from core.chromium import BROWSER_ARGS
from core.config import Config
from core.errors import UserError
from crawlers.egress import EgressGuard, policy_for
from crawlers.sources import Source
from crawlers.store import EGRESS_STAT

# Chromium must not open WebRTC (UDP) connections around the egress proxy.
CRAWL_BROWSER_ARGS = ("--force-webrtc-ip-handling-policy=disable_non_proxied_udp",)


def egress_guard(cfg: Config, source: Source) -> EgressGuard:
    """The crawl's egress guard: the source's policy (crawlers.egress), with a proxy for its browser."""
    guard = EgressGuard(policy_for(source, cfg.crawl.sample_site_url), EGRESS_STAT)
    if source.render:
        from crawlers.egress_proxy import EgressProxy

        guard.proxy = EgressProxy(guard, connect_timeout_s=cfg.crawl.download_timeout_s)
    return guard


def build_settings(cfg: Config, source: Source, shared_frontier: bool = False) -> dict:
    c = cfg.crawl
    guard = egress_guard(cfg, source)
    settings = {
        "BOT_NAME": "wangxun",
        "USER_AGENT": c.user_agent,
        "ROBOTSTXT_OBEY": source.obey_robots,
        "CONCURRENT_REQUESTS": source.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": source.concurrency,
        "DOWNLOAD_DELAY": source.download_delay,
        "AUTOTHROTTLE_ENABLED": c.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(source.download_delay, 0.1),
        "AUTOTHROTTLE_MAX_DELAY": float(c.autothrottle_max_delay_s),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(c.autothrottle_target_concurrency),
        "DOWNLOAD_TIMEOUT": c.download_timeout_s,
        "DOWNLOAD_MAXSIZE": c.max_response_bytes,
        "DOWNLOAD_WARNSIZE": c.max_response_bytes // 2,
        "REDIRECT_MAX_TIMES": c.max_redirects,
        "RETRY_TIMES": c.retry_times,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        # Outputs of one callback processed in parallel: Scrapy starts that many asyncio tasks for every
        # response (its default is 100). The callbacks return only requests (pages are stored in the
        # callback), and scheduling a request never waits, so one task does; 16 cost about 0.1 ms of
        # the crawl process's CPU per response more.
        "CONCURRENT_ITEMS": 1,
        "COOKIES_ENABLED": True,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": cfg.core.log_level if cfg.core.log_level != "INFO" else "WARNING",
        "DUPEFILTER_CLASS": "crawlers.middlewares.JournalDupeFilter",
        "DOWNLOADER_MIDDLEWARES": {
            # First of all (before robots.txt at 100 and the budgets): a refused request costs nothing.
            "crawlers.middlewares.EgressMiddleware": 40,
            # After robots.txt (100) and before retry (550): budgets are spent only on requests that go out.
            "crawlers.middlewares.PoliteDownloaderMiddleware": 560,
            "crawlers.middlewares.RenderMiddleware": 950,
        },
        # Every connection's addresses pass the egress policy (crawlers.middlewares.GuardedResolver).
        "TWISTED_DNS_RESOLVER": "crawlers.middlewares.GuardedResolver",
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "WANGXUN_MAX_RETRY_AFTER": float(c.max_retry_after_s),
        "WANGXUN_EGRESS_GUARD": guard,
    }
    if shared_frontier:
        # One run for the crawl processes of many machines (crawlers.frontier_redis): requests come from
        # the shared queue, and the site's delay is kept across processes by the shared pacer
        # (PoliteDownloaderMiddleware), not per process.
        settings["SCHEDULER"] = "crawlers.scheduler.SharedScheduler"
        settings["DOWNLOAD_DELAY"] = 0
    if source.render:
        settings.update(playwright_settings(cfg, source, guard))
    return settings


def playwright_settings(cfg: Config, source: Source, guard: EgressGuard | None = None) -> dict:
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    launch = {"headless": True, "args": [*BROWSER_ARGS, *CRAWL_BROWSER_ARGS]}
    executable = chromium_executable(cfg)
    if executable:
        launch["executable_path"] = executable
    return {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch,
        # Open pages per context at once; contexts themselves are recycled by ContextRotator.
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": source.concurrency,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": float(cfg.crawl.render_timeout_ms),
        # Every request of a rendered page (navigation and subrequests) passes the egress policy here;
        # redirect hops and the addresses connected to are checked by the guard's proxy.
        "PLAYWRIGHT_ABORT_REQUEST": BrowserRequestFilter(guard) if guard is not None else abort_heavy_request,
    }


def abort_heavy_request(request) -> bool:
    """Fonts and media add nothing to evidence of text offers and cost the most memory."""
    return request.resource_type in ("font", "media")


class BrowserRequestFilter:
    """scrapy-playwright's abort predicate (a page route for every request): heavy resources, and any
    request the egress policy refuses (counted by the guard). A plain object, so Scrapy's deep copy of
    the settings keeps the one guard."""

    def __init__(self, guard: EgressGuard):
        self.guard = guard

    def __deepcopy__(self, memo):
        return self

    def __call__(self, request) -> bool:
        return abort_heavy_request(request) or self.guard.browser_request_refused(request.url)


def chromium_executable(cfg: Config) -> str | None:
    """The browser for rendered sources: Chromium's headless shell when it is installed, else the
    full Chromium; None to let Playwright use its own browser when neither is there.

    The headless shell (Debian's chromium-headless-shell, Chromium's old headless mode) is what
    Playwright itself runs for headless pages. Rendered crawls are CPU-bound, and it needed about a
    third of the full browser's CPU for a sample item page with its full-page screenshot (165 ms
    against 459 ms here): the full browser's new headless mode carries the whole desktop browser."""
    shell, full = cfg.crawl.headless_shell_path, cfg.crawl.chromium_path
    for path in (shell, full):
        if path and Path(path).exists():
            return path
    own = os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or str(Path.home() / ".cache" / "ms-playwright")
    if glob.glob(os.path.join(own, "chromium*")):
        return None
    raise UserError(
        f"no Chromium for rendered sources: neither {shell!r} nor {full!r} exists (settings "
        "crawl.headless_shell_path and crawl.chromium_path) and Playwright's own browser is not installed"
    )
