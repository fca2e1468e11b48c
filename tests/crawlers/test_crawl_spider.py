"""The spider's callback on real sample-site pages (fetched once, fed as Scrapy responses)."""

from __future__ import annotations

import asyncio
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
from crawlers.items import PageItem
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


def response_for(url, spec, redirect_urls=None, cls=HtmlResponse):
    with urllib.request.urlopen(url) as r:
        body, final, headers = r.read(), r.geturl(), dict(r.headers)
    meta = {"wx": spec, "wx_fp": "fp-1"}
    if redirect_urls:
        meta["redirect_urls"] = redirect_urls
    request = Request(url, meta=meta)
    return cls(final, body=body, headers=headers, request=request, status=200)


def run(spider, response):
    return asyncio.run(spider.parse_page(response))


def test_search_results_become_article_requests_and_the_next_page(site, tmp_path):
    spider = make_spider(tmp_path)
    url = f"{site.url}/weixin?type=2&query={quote('跟团')}&page=1"
    out = run(spider, response_for(url, {"url": url, "kind": "sogou_weixin_search", "depth": 0, "page": 1}))
    articles = [r for r in out if r.meta["wx"]["kind"] == "wechat_article"]
    pages = [r for r in out if r.meta["wx"]["kind"] == "sogou_weixin_search"]
    assert len(articles) == 10 and all("/link?url=" in r.url for r in articles)
    assert all(r.meta["wx"]["depth"] == 1 and r.meta["wx"]["account"] for r in articles)
    assert len(pages) == 1 and pages[0].meta["wx"]["page"] == 2 and "page=2" in pages[0].url
    assert not any(isinstance(o, PageItem) for o in out)  # listings are not content


def test_last_allowed_search_page_does_not_ask_for_more(site, tmp_path):
    spider = make_spider(tmp_path, max_list_pages=1)
    url = f"{site.url}/weixin?type=2&query={quote('跟团')}&page=1"
    out = run(spider, response_for(url, {"url": url, "kind": "sogou_weixin_search", "depth": 0, "page": 1}))
    assert all(r.meta["wx"]["kind"] == "wechat_article" for r in out)


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
    with db.session_scope(cfg) as s:
        page = s.scalar(select(Page))
        version = s.scalar(select(PageVersion))
        evidence = s.scalar(select(Evidence))
        assert page.url == url and version.title == post["title"] and version.text
        assert evidence.url == first and evidence.final_url == url and evidence.status == 200
    assert run(spider, response_for(url, {"url": first, "kind": "wechat_article", "depth": 1}, [first])) == []
    assert spider.crawler.stats.get_value("wangxun/unchanged") == 1
    assert spider.crawler.stats.get_value("wangxun/pages") == 2


def test_a_failed_store_is_reported_not_raised(site, tmp_path, cfg, monkeypatch):
    from crawlers import pipelines

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pipelines, "append_record", broken)
    post = next(p for p in site.posts if p["channel"] == "wechat" and "unlicensed_travel" in p["expected_labels"])
    url = site.url_for(post)
    spider = make_spider(tmp_path, cfg)
    response = response_for(url, {"url": url, "kind": "wechat_article", "depth": 1})
    assert run(spider, response) == []
    assert spider.crawler.stats.get_value("wangxun/errors") == 1
    assert response.meta["wx_unfinished"]  # its journal entry stays open: fetched again on resume
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


def test_captcha_pauses_the_domain_retries_the_original_and_stops_after_n(site, tmp_path):
    spider = make_spider(tmp_path)
    asked = f"{site.url}/weixin?type=2&query=x&page=1"
    wall = f"{site.url}/antispider/?from=%2Fweixin"
    spec = {"url": asked, "kind": "sogou_weixin_search", "depth": 0, "page": 1}
    [retry] = run(spider, response_for(wall, spec, [asked]))
    assert retry.url == asked and retry.dont_filter and retry.meta["wx_fp"] == "fp-1"
    assert spider.pauses.remaining("127.0.0.1") > 0
    spider.pauses.until.clear()
    response = response_for(wall, spec, [asked])
    response.meta["wx_sent"] = spider.pauses.clock() + 1  # sent after the pause: a new captcha
    with pytest.raises(CloseSpider) as stop:
        run(spider, response)
    assert stop.value.reason == "captcha"


def test_api_listing_items_are_items_when_the_source_has_no_item_kind(site, tmp_path):
    spider = make_spider(tmp_path, kind="shop_listing", item_kind="", platform="shop")
    url = f"{site.url}/kongfz/search?keyword={quote('影印')}&page=1"
    spec = {"url": url, "kind": "shop_listing", "depth": 0, "page": 1}
    out = run(spider, response_for(url, spec, cls=TextResponse))
    items = [o for o in out if isinstance(o, PageItem)]
    assert items and all("/kongfz/book/" in i.url and i.parsed.title for i in items)
    assert [i.last_of_response for i in items] == [False] * (len(items) - 1) + [True]
    assert len({i.parsed.content_fingerprint() for i in items}) == len(items)


def test_profile_lists_articles_to_follow(site, tmp_path):
    account = next(p["account"]["id"] for p in site.posts if p["channel"] == "wechat")
    spider = make_spider(tmp_path, kind="wechat_article")
    url = f"{site.url}/profile/{account}"
    out = run(spider, response_for(url, {"url": url, "kind": "wechat_article", "depth": 0, "page": 1}))
    articles = [r for r in out if isinstance(r, Request) and "/s/" in r.url]
    assert articles and all(r.meta["wx"]["depth"] == 1 for r in articles)


def test_shop_items_reached_from_a_listing_are_content_not_listings(site, tmp_path, cfg):
    spider = make_spider(
        tmp_path, cfg, kind="shop_listing", item_kind="shop_listing", platform="shop", follow=["/shop/item/"]
    )
    url = f"{site.url}/shop/search?q={quote('电子版')}"
    out = run(spider, response_for(url, {"url": url, "kind": "shop_listing", "depth": 0, "page": 1}))
    assert out and all(isinstance(r, Request) and "/shop/item/" in r.url and r.meta["wx"]["item"] for r in out)
    first = out[0]
    assert run(spider, response_for(first.url, first.meta["wx"])) == []
    with db.session_scope(cfg) as s:
        version = s.scalar(select(PageVersion))
        assert version.title and version.price is not None
