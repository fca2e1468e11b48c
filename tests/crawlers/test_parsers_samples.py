"""The parsers on the pages the bundled sample site serves (copies of the real structures), on
generic selectors, and the content fingerprint's notion of "same content"."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from crawlers.parsers import parse
from samplesite.app import SiteState, create_app
from samplesite.content import ContentStore, paragraphs

HOST = "http://127.0.0.1:8765"
CST = dt.timezone(dt.timedelta(hours=8))
GONE = {"deleted": "deleted", "violation": "removed", "expired": "expired", "unavailable": "unavailable"}


@pytest.fixture(scope="module")
def site():
    store = ContentStore.load()
    app = create_app(SiteState(store=store))
    return app.test_client(), store


def fetch(client, path: str) -> bytes:
    response = client.get(path, base_url=HOST)
    assert response.status_code == 200, path
    return response.data


def posts(store, channel, **where):
    return [
        p
        for p in store.channel(channel)
        if all(p.get(k, "ok" if k == "status" else None) == v for k, v in where.items())
    ]


# --- WeChat -----------------------------------------------------------------------------------------


def test_every_sample_wechat_article_parses_exactly(site):
    client, store = site
    articles = posts(store, "wechat", status="ok")
    assert {p.get("markup", "normal") for p in articles} >= {"normal", "malformed", "large"}
    for post in articles:
        url = f"{HOST}/s/{post['key']}"
        page = parse("wechat_article", url, fetch(client, f"/s/{post['key']}"))
        assert page.state == "ok", post["id"]
        assert page.title == post["title"], post["id"]
        assert page.account == post["account"]["name"], post["id"]
        assert page.author == post["author"], post["id"]
        assert page.published_at == dt.datetime.fromtimestamp(post["published_at"], CST), post["id"]
        first = re.sub(r"<[^>]+>", "", paragraphs(post)[0])  # the malformed template lets markup through
        assert first.split()[0] in page.text, post["id"]
        assert "window." not in page.text and "function" not in page.text, post["id"]


@pytest.mark.parametrize("status", sorted(GONE))
def test_sample_wechat_gone_pages(site, status):
    client, store = site
    for post in posts(store, "wechat", status=status):
        page = parse("wechat_article", f"{HOST}/s/{post['key']}", fetch(client, f"/s/{post['key']}"))
        assert page.state == GONE[status], post["id"]
        assert page.extra["message"]


def test_sample_wechat_profile_lists_articles_and_next_page(site):
    client, store = site
    account_id = next(iter(sorted(store.accounts())))
    history = store.by_account(account_id)
    page = parse("wechat_article", f"{HOST}/profile/{account_id}", fetch(client, f"/profile/{account_id}"))
    assert page.state == "ok" and page.extra["page_type"] == "profile"
    assert page.account == store.accounts()[account_id]["name"]
    assert [item.title for item in page.items] == [p["title"] for p in history[:10]]
    assert page.items[0].url == f"{HOST}/s/{history[0]['key']}"
    assert page.items[0].published_at == dt.datetime.fromtimestamp(history[0]["published_at"], CST)
    assert page.items[0].account == page.account
    if len(history) > 10:
        assert page.next_page == f"{HOST}/profile/{account_id}?page=2"
    else:
        assert page.next_page is None


# --- Sogou ------------------------------------------------------------------------------------------


def test_sample_sogou_search(site):
    client, store = site
    hits = store.search("wechat", "苏州")
    assert len(hits) > 10
    page = parse(
        "sogou_weixin_search",
        f"{HOST}/weixin?type=2&query=苏州",
        fetch(client, "/weixin?type=2&query=%E8%8B%8F%E5%B7%9E"),
    )
    assert page.state == "ok" and len(page.items) == 10
    assert [item.title for item in page.items] == [p["title"] for p in hits[:10]]
    assert [item.account for item in page.items] == [p["account"]["name"] for p in hits[:10]]
    assert page.items[0].published_at == dt.datetime.fromtimestamp(hits[0]["published_at"], CST)
    assert all(item.url.startswith(f"{HOST}/link?url=") for item in page.items)
    assert page.next_page.startswith(f"{HOST}/weixin?") and "page=2" in page.next_page
    assert page.extra["total_results"] == len(hits)


def test_sample_sogou_no_results_and_captcha(site):
    client, _ = site
    empty = parse("sogou_weixin_search", f"{HOST}/weixin?query=zzzz", fetch(client, "/weixin?type=2&query=zzzzqqq"))
    assert empty.state == "empty" and empty.items == []
    path = "/antispider/?from=%2Fweixin"
    wall = parse("sogou_weixin_search", HOST + path, fetch(client, path))
    assert wall.state == "captcha"


# --- Shops ------------------------------------------------------------------------------------------


def test_sample_shop_search_and_item(site):
    client, store = site
    hits = store.search("shop", "")
    page = parse("shop_listing", f"{HOST}/shop/search?q=", fetch(client, "/shop/search?q="))
    assert page.state == "ok" and page.extra["format"] == "taobao_g_page_config"
    assert len(page.items) == min(20, len(hits))
    first, post = page.items[0], hits[0]
    assert first.title == post["title"] and first.price == pytest.approx(float(post["price"]))
    assert first.seller == post["account"]["name"] and first.location == post["location"]
    assert first.url == f"{HOST}/shop/item/{post['key']}"
    assert page.next_page == f"{HOST}/shop/search?q=&s=20"

    item = parse("shop_listing", first.url, fetch(client, f"/shop/item/{post['key']}"))
    assert item.state == "ok" and item.extra["format"] == "item_detail"
    assert item.title == post["title"]
    assert item.price == pytest.approx(float(post["price"]))
    assert item.account == post["account"]["name"]
    assert item.seller_location == post["location"]
    assert paragraphs(post)[0] in item.text


def test_sample_kongfz_api_and_book_page(site):
    client, store = site
    path = "/kongfz/search?keyword=&page=1"
    page = parse("shop_listing", HOST + path, fetch(client, path))
    hits = store.search("kongfz", "")
    assert page.state == "ok" and page.extra["format"] == "kongfz_search_api"
    assert len(page.items) == min(20, len(hits))
    first, post = page.items[0], hits[0]
    assert first.title == post["title"] and first.price == pytest.approx(float(post["price"]))
    assert first.seller == post["account"]["name"] and first.extra["isbn"] == post["book"]["isbn"]
    assert page.next_page == f"{HOST}/kongfz/search?keyword=&page=2"

    path = first.url.removeprefix(HOST)
    book = parse("shop_listing", first.url, fetch(client, path))
    assert book.state == "ok"
    assert book.title == post["title"] and book.price == pytest.approx(float(post["price"]))
    assert book.account == post["account"]["name"] and book.seller_location == post["account"]["area"]
    assert book.extra["isbn"] == post["book"]["isbn"] and book.extra["press"] == post["book"]["press"]


def test_sample_goofish_item_api_json(site):
    client, store = site
    post = store.channel("goofish")[0]
    path = f"/api/goofish/item/{post['key']}"
    page = parse("shop_listing", HOST + path, fetch(client, path))
    assert page.state == "ok" and page.title == post["title"]
    assert page.price == pytest.approx(float(post["price"])) and page.account == post["account"]["name"]
    assert page.seller_location == post["location"]
    assert page.published_at == dt.datetime.fromtimestamp(post["published_at"], CST)


ITEM_PAGE = """<html><head><title>【包邮】旅游攻略书 影印版-某书店</title>
<meta property="og:title" content="旅游攻略书 影印版"><meta property="product:price:amount" content="19.90"></head>
<body><main><h2>商品详情</h2><p>卖家：苏州某书店</p><p>所在地：江苏 苏州</p>
<p>全新影印，清晰。</p></main></body></html>"""


def test_shop_item_page_without_known_markers_uses_metadata_and_labels():
    page = parse("shop_listing", "https://shop.example.com/item/1", ITEM_PAGE.encode())
    assert page.state == "ok" and page.extra["format"] == "item_detail"
    assert page.title == "旅游攻略书 影印版" and page.price == 19.9
    assert page.account == "苏州某书店" and page.seller_location == "江苏 苏州"
    assert "全新影印" in page.text


def test_shop_item_page_price_from_text_when_nothing_else_has_it():
    body = "<html><body><h1>二手相机</h1><div>售价 ￥1,280.50 可小刀</div></body></html>".encode()
    page = parse("shop_listing", "https://shop.example.com/item/2", body)
    assert page.state == "ok" and page.title == "二手相机" and page.price == 1280.5


# --- Generic selectors --------------------------------------------------------------------------------


def test_generic_with_sources_toml_style_selectors_on_a_profile(site):
    client, store = site
    account_id = sorted(store.accounts())[0]
    selectors = {
        "title": "strong.profile_nickname",
        "text": "div.profile_desc_value",
        "links": "h4.weui_media_title a::attr(href)",
    }
    path = f"/profile/{account_id}"
    page = parse("generic", HOST + path, fetch(client, path), selectors=selectors)
    assert page.state == "ok"
    assert page.title == store.accounts()[account_id]["name"]
    assert store.accounts()[account_id]["signature"] in page.text
    assert page.links and all(link.startswith(f"{HOST}/s/") for link in page.links)


def test_generic_listing_items_and_next_page(site):
    client, store = site
    selectors = {
        "items": "a.feeds-item-wrap",
        "item_url": "::attr(href)",
        "item_title": ".row1-wrap-title::text",
        "item_price": ".price-wrap .number::text",
        "item_location": ".seller-text::text",
        "next_page": "#goofish_next::attr(href)",
    }
    page = parse("generic", f"{HOST}/goofish/search?q=", fetch(client, "/goofish/search?q="), selectors=selectors)
    hits = store.search("goofish", "")
    assert len(page.items) == min(20, len(hits))
    assert page.items[0].title == hits[0]["title"]
    assert page.items[0].price == pytest.approx(float(hits[0]["price"]))
    assert page.items[0].location == hits[0]["location"]
    assert page.items[0].url == f"{HOST}/goofish/item/{hits[0]['key']}"
    assert page.next_page == f"{HOST}/goofish/search?q=&page=2"


GENERIC_PAGE = """<html><head><title>二手书转让 - 某论坛</title><meta name="author" content="书虫"></head><body>
<nav><a href="/">首页</a></nav><h1>全新高仿教材转让</h1>
<div class="post"><p>影印版教材，一套只要 ¥35，量大从优。</p><p>联系微信 abc123。</p>
<img data-src="/img/1.jpg"><a href="/t/2">下一帖</a></div>
<span class="price">￥35.00</span>
<ul class="list"><li><a href="/t/10">第一本</a> ¥12</li><li><a href="/t/11">第二本</a></li></ul>
<a class="next" href="?page=2">下一页</a></body></html>"""


def test_generic_css_and_xpath_selectors():
    selectors = {
        "title": "h1::text",
        "text": "div.post",
        "price": ".price::text",
        "items": "ul.list li",
        "item_url": "a::attr(href)",
        "next_page": "a.next::attr(href)",
        "author": "//meta[@name='author']/@content",
    }
    page = parse("generic", "https://bbs.example.com/t/1", GENERIC_PAGE.encode(), selectors=selectors)
    assert page.state == "ok"
    assert page.title == "全新高仿教材转让"
    assert page.text == "影印版教材，一套只要 ¥35，量大从优。\n联系微信 abc123。\n下一帖"
    assert page.price == 35.0 and page.author == "书虫"
    assert [(i.url, i.title, i.price) for i in page.items] == [
        ("https://bbs.example.com/t/10", "第一本", 12.0),
        ("https://bbs.example.com/t/11", "第二本", None),
    ]
    assert page.next_page == "https://bbs.example.com/t/1?page=2"
    assert page.images == ["https://bbs.example.com/img/1.jpg"]
    assert "selector_errors" not in page.extra


def test_generic_falls_back_when_selectors_find_nothing_or_are_broken():
    selectors = {
        "title": "h2.nothing::text",
        "text": "div.nothing",
        "price": "[[[",
        "next_page": "//a[@class='gone']/@href",
    }
    page = parse("generic", "https://bbs.example.com/t/1", GENERIC_PAGE.encode(), selectors=selectors)
    assert page.state == "ok"
    assert page.title == "二手书转让 - 某论坛"  # <title>
    assert "影印版教材" in page.text  # the main text block
    assert "price" in page.extra["selector_errors"]
    assert page.price is None
    assert page.next_page == "https://bbs.example.com/t/1?page=2"  # the 下一页 link


def test_generic_without_selectors_reads_title_and_main_text():
    page = parse("generic", "https://bbs.example.com/t/1", GENERIC_PAGE.encode())
    assert page.title == "二手书转让 - 某论坛" and page.text.startswith("影印版教材")
    assert page.author == "书虫"


# --- Fingerprints -----------------------------------------------------------------------------------

ARTICLE = """<html><head><script nonce="{nonce}">window.logs={{t:{ts}}};</script></head><body>
<div id="js_top_ad_area">{ad}</div><h1 id="activity-name">标题</h1><a id="js_name">某公众号</a>
<div id="js_content"><p>{body}</p><script>var x = {ts};</script></div>
<script nonce="{nonce}">var ct = "1626534037"; var rand = {ts};</script></body></html>"""


def fingerprint(**kw):
    values = {"nonce": "111", "ts": "1700000000", "ad": "广告甲", "body": "正文内容 一"}
    values.update(kw)
    page = parse("wechat_article", "https://mp.weixin.qq.com/s/a", ARTICLE.format(**values).encode())
    return page.content_fingerprint()


def test_fingerprint_ignores_nonces_script_timestamps_ads_and_whitespace():
    base = fingerprint()
    assert fingerprint(nonce="999", ts="1800000000") == base
    assert fingerprint(ad="另一个广告") == base
    assert fingerprint(body="  正文内容\n   一  ") == base


def test_fingerprint_changes_with_content():
    assert fingerprint(body="正文内容 二") != fingerprint()


def test_fingerprint_of_a_listing_ignores_signed_links():
    page = parse(
        "sogou_weixin_search",
        "https://weixin.sogou.com/weixin?query=x",
        b"<html><title>x</title><ul class='news-list'><li d='doc1'><div class='txt-box'><h3>"
        b"<a href='/link?url=AAA&token=1'>T</a></h3><div class='s-p' t='1626534037'>"
        b"<a class='account'>A</a></div></div></li></ul></html>",
    )
    resigned = parse(
        "sogou_weixin_search",
        "https://weixin.sogou.com/weixin?query=x",
        b"<html><title>x</title><ul class='news-list'><li d='doc1'><div class='txt-box'><h3>"
        b"<a href='/link?url=BBB&token=2'>T</a></h3><div class='s-p' t='1626534037'>"
        b"<a class='account'>A</a></div></div></li></ul></html>",
    )
    assert page.items[0].url != resigned.items[0].url
    assert page.content_fingerprint() == resigned.content_fingerprint()


def test_fingerprint_follows_an_edit_on_the_sample_site():
    store = ContentStore.load()
    client = create_app(SiteState(store=store)).test_client()
    post = posts(store, "shop")[0]
    path = f"/shop/item/{post['key']}"
    before = parse("shop_listing", HOST + path, fetch(client, path)).content_fingerprint()
    assert parse("shop_listing", HOST + path, fetch(client, path)).content_fingerprint() == before
    store.edit(post["id"], {"price": float(post["price"]) + 10})
    assert parse("shop_listing", HOST + path, fetch(client, path)).content_fingerprint() != before
