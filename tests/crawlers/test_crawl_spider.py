"""The spider's callback on real sample-site pages (fetched once, fed as Scrapy responses)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest
from scrapy import Request
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from core import db
from core.models import Evidence, Page, PageVersion
from crawlers.frontier import Frontier
from crawlers.politeness import DomainPauses
from crawlers.sources import build_source
from crawlers.spiders.source import SourceSpider
from crawlers.worker import PageWorker
from samplesite.server import start


@pytest.fixture(scope="module")
def site():
    with start() as s:
        yield s


def make_spider(tmp_path, cfg=None, **fields):
    table = {
        "name": "t",
        "kind": "sogou_weixin_search",
        "item_kind": "wechat_article",
        "platform": "wechat",
        "start_urls": ["http://127.0.0.1/"],
        "max_list_pages": 2,
        **fields,
    }
    crawler = get_crawler(SourceSpider)
    spider = SourceSpider.from_crawler(
        crawler,
        source=build_source(table),
        start_urls=[],
        frontier=Frontier(tmp_path / "j").open(),
        cfg=cfg,
        worker=PageWorker(cfg, processes=0),
        pauses=DomainPauses(captcha_backoff_s=5, captcha_max_in_row=2),
    )
    crawler.spider = spider
    crawler.stats.open_spider()
    return spider


def response_for(url, spec, redirect_urls=None, cls=HtmlResponse, fp="fp-1"):
    """A response to a request whose journal entry is `fp` (opened in the spider's journal)."""
    with urllib.request.urlopen(url) as r:
        body, final, headers, status = r.read(), r.geturl(), dict(r.headers), r.status
    meta = {"crawl_spec": spec, "journal_fp": fp}
    if redirect_urls:
        meta["redirect_urls"] = redirect_urls
    request = Request(url, meta=meta)
    return cls(final, body=body, headers=headers, request=request, status=status)


def run(spider, response):
    fp = response.meta["journal_fp"]
    if fp not in spider.frontier.seen:
        assert spider.frontier.enqueued(fp, response.meta["crawl_spec"])
    return asyncio.run(spider.parse_page(response))


def done_lines(spider) -> list[str]:
    """The journal entries closed so far, one fingerprint per done line, in order."""
    lines = [json.loads(line) for line in spider.frontier.path.read_text(encoding="utf-8").splitlines()]
    return [rec["fp"] for rec in lines if rec["op"] == "done"]


def test_search_results_become_article_requests_and_the_next_page(site, tmp_path):
    spider = make_spider(tmp_path)
    url = f"{site.url}/weixin?type=2&query={quote('跟团')}&page=1"
    out = run(spider, response_for(url, {"url": url, "kind": "sogou_weixin_search", "depth": 0, "page": 1}))
    articles = [r for r in out if r.meta["crawl_spec"]["kind"] == "wechat_article"]
    pages = [r for r in out if r.meta["crawl_spec"]["kind"] == "sogou_weixin_search"]
    assert len(articles) == 10 and all("/link?url=" in r.url for r in articles)
    assert all(r.meta["crawl_spec"]["depth"] == 1 and r.meta["crawl_spec"]["account"] for r in articles)
    assert len(pages) == 1 and pages[0].meta["crawl_spec"]["page"] == 2 and "page=2" in pages[0].url
    assert all(isinstance(o, Request) for o in out)  # listings are not content
    assert done_lines(spider) == ["fp-1"]  # the listing is finished once its requests are handed over


def test_last_allowed_search_page_does_not_ask_for_more(site, tmp_path):
    spider = make_spider(tmp_path, max_list_pages=1)
    url = f"{site.url}/weixin?type=2&query={quote('跟团')}&page=1"
    out = run(spider, response_for(url, {"url": url, "kind": "sogou_weixin_search", "depth": 0, "page": 1}))
    assert all(r.meta["crawl_spec"]["kind"] == "wechat_article" for r in out)


def test_article_is_stored_by_the_worker_under_its_final_url(site, tmp_path, cfg):
    """A static content page is parsed and stored in one page-worker call; the spider only counts
    the outcome (no item), and the evidence keeps the URL that was asked (before the redirect)."""
    post = next(
        p
        for p in site.posts
        if p["channel"] == "wechat" and p.get("status", "ok") == "ok" and "unlicensed_travel" in p["expected_labels"]
    )
    url = site.url_for(post)
    first = f"{site.url}/link?url=token"
    spider = make_spider(tmp_path, cfg)
    assert run(spider, response_for(url, {"url": first, "kind": "wechat_article", "depth": 1}, [first])) == []
    assert spider.crawler.stats.get_value("wangxun/hits") == 1
    assert done_lines(spider) == ["fp-1"] and spider.frontier.pending == {}  # closed once, by the worker
    with db.session_scope(cfg) as s:
        page = s.scalar(select(Page))
        version = s.scalar(select(PageVersion))
        evidence = s.scalar(select(Evidence))
        assert page.url == url and version.title == post["title"] and version.text
        assert evidence.url == first and evidence.final_url == url and evidence.status == 200
    again = response_for(url, {"url": first, "kind": "wechat_article", "depth": 1}, [first], fp="fp-2")
    assert run(spider, again) == []
    assert spider.crawler.stats.get_value("wangxun/unchanged") == 1
    assert spider.crawler.stats.get_value("wangxun/pages") == 2
    assert done_lines(spider) == ["fp-1", "fp-2"]


def test_a_failed_store_is_reported_not_raised(site, tmp_path, cfg, monkeypatch):
    from crawlers import store

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "append_record", broken)
    post = next(p for p in site.posts if p["channel"] == "wechat" and "unlicensed_travel" in p["expected_labels"])
    url = site.url_for(post)
    spider = make_spider(tmp_path, cfg)
    response = response_for(url, {"url": url, "kind": "wechat_article", "depth": 1})
    assert run(spider, response) == []
    assert spider.crawler.stats.get_value("wangxun/errors") == 1
    assert done_lines(spider) == [] and "fp-1" in spider.frontier.pending  # fetched again on resume
    with db.session_scope(cfg) as s:
        assert s.scalar(select(Page)) is None  # all or nothing


def test_deleted_article_is_an_item_with_its_state(site, tmp_path, cfg):
    post = next(p for p in site.posts if p.get("status") == "deleted")
    url = site.url_for(post)
    spider = make_spider(tmp_path, cfg)
    assert run(spider, response_for(url, {"url": url, "kind": "wechat_article", "depth": 1})) == []
    assert spider.crawler.stats.get_value("wangxun/gone") == 1
    with db.session_scope(cfg) as s:
        assert s.scalar(select(Page.state)) == "deleted"
    assert done_lines(spider) == ["fp-1"]


def test_a_404_is_stored_as_a_removed_page(site, tmp_path, cfg):
    url = f"{site.url}/s/no-such-article"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(url)
    request = Request(
        url, meta={"crawl_spec": {"url": url, "kind": "wechat_article", "depth": 1}, "journal_fp": "fp-1"}
    )
    response = HtmlResponse(url, body=missing.value.read(), request=request, status=missing.value.code)
    spider = make_spider(tmp_path, cfg)
    assert run(spider, response) == []
    assert spider.crawler.stats.get_value("wangxun/gone") == 1 and done_lines(spider) == ["fp-1"]
    with db.session_scope(cfg) as s:
        assert s.scalar(select(Page.state)) == "removed"


def test_requests_given_up_or_dropped_as_redirect_duplicates_are_closed(tmp_path):
    from scrapy import signals
    from twisted.python.failure import Failure

    spider = make_spider(tmp_path)
    for fp in ("gave-up", "dropped"):
        spider.frontier.enqueued(fp, {"url": f"http://127.0.0.1/{fp}", "kind": "wechat_article"})
    request = spider.request({"url": "http://127.0.0.1/gave-up", "kind": "wechat_article"}, fp="gave-up")
    failure = Failure(ConnectionRefusedError("refused"))
    failure.request = request
    spider.on_error(failure)
    redirect = spider.request({"url": "http://127.0.0.1/dropped", "kind": "wechat_article"}, fp="dropped")
    spider.crawler.signals.send_catch_log(signals.request_dropped, request=redirect, spider=spider)
    assert done_lines(spider) == ["gave-up", "dropped"] and spider.frontier.pending == {}
    assert spider.crawler.stats.get_value("wangxun/errors") == 1


def test_captcha_pauses_the_domain_retries_the_original_and_stops_after_n(site, tmp_path):
    spider = make_spider(tmp_path)
    asked = f"{site.url}/weixin?type=2&query=x&page=1"
    wall = f"{site.url}/antispider/?from=%2Fweixin"
    spec = {"url": asked, "kind": "sogou_weixin_search", "depth": 0, "page": 1}
    [retry] = run(spider, response_for(wall, spec, [asked]))
    assert retry.url == asked and retry.dont_filter and retry.meta["journal_fp"] == "fp-1"
    assert spider.pauses.remaining("127.0.0.1") > 0
    spider.pauses.until.clear()
    response = response_for(wall, spec, [asked])
    response.meta["crawl_sent_at"] = spider.pauses.clock() + 1  # sent after the pause: a new captcha
    with pytest.raises(CloseSpider) as stop:
        run(spider, response)
    assert stop.value.reason == "captcha"


def test_api_listing_items_are_stored_as_pages_when_the_source_has_no_item_kind(site, tmp_path, cfg):
    spider = make_spider(tmp_path, cfg, kind="shop_listing", item_kind="", platform="shop")
    url = f"{site.url}/kongfz/search?keyword={quote('影印')}&page=1"
    spec = {"url": url, "kind": "shop_listing", "depth": 0, "page": 1}
    out = run(spider, response_for(url, spec, cls=TextResponse))
    assert all(r.meta["crawl_spec"]["page"] > 1 for r in out)  # at most the next listing page, no items
    with db.session_scope(cfg) as s:
        pages = s.scalars(select(Page)).all()
        versions = s.scalars(select(PageVersion)).all()
    assert pages and all("/kongfz/book/" in p.url for p in pages) and all(v.title for v in versions)
    assert len(versions) == len(pages) == spider.crawler.stats.get_value("wangxun/pages")
    assert done_lines(spider) == ["fp-1"]  # once, after the last item's commit


def test_profile_lists_articles_to_follow(site, tmp_path):
    account = next(p["account"]["id"] for p in site.posts if p["channel"] == "wechat")
    spider = make_spider(tmp_path, kind="wechat_article")
    url = f"{site.url}/profile/{account}"
    out = run(spider, response_for(url, {"url": url, "kind": "wechat_article", "depth": 0, "page": 1}))
    articles = [r for r in out if isinstance(r, Request) and "/s/" in r.url]
    assert articles and all(r.meta["crawl_spec"]["depth"] == 1 for r in articles)


def test_shop_items_reached_from_a_listing_are_content_not_listings(site, tmp_path, cfg):
    spider = make_spider(
        tmp_path, cfg, kind="shop_listing", item_kind="shop_listing", platform="shop", follow=["/shop/item/"]
    )
    url = f"{site.url}/shop/search?q={quote('电子版')}"
    out = run(spider, response_for(url, {"url": url, "kind": "shop_listing", "depth": 0, "page": 1}))
    assert out and all(isinstance(r, Request) and "/shop/item/" in r.url and r.meta["crawl_spec"]["item"] for r in out)
    first = out[0]
    assert run(spider, response_for(first.url, first.meta["crawl_spec"])) == []
    with db.session_scope(cfg) as s:
        version = s.scalar(select(PageVersion))
        assert version.title and version.price is not None
