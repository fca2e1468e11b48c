"""The sample network serves each imitated site with the real sites' markers, pagination and redirects."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from urllib.parse import quote, urlencode, urljoin

import pytest
from parsel import Selector

from samplesite import start

pytestmark = pytest.mark.timeout(120)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def get(url: str):
    """(status, headers, text) without following redirects."""
    try:
        with _OPENER.open(url, timeout=30) as resp:
            return resp.status, resp.headers, resp.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def site():
    with start() as s:
        yield s


def _posts(site, channel, status="ok", markup="normal"):
    return [
        p
        for p in site.posts
        if p["channel"] == channel and p.get("status", "ok") == status and p.get("markup", "normal") == markup
    ]


def test_wechat_article_has_the_2026_markers(site):
    post = _posts(site, "wechat")[0]
    status, headers, html = get(site.url_for(post))
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    sel = Selector(html)
    assert sel.css("h1.rich_media_title#activity-name::text").get().strip() == post["title"]
    assert sel.css("#js_name::text").get().strip() == post["account"]["name"]
    assert sel.css("#js_author_name::text").get() == post["author"]
    assert sel.css("em#publish_time").get() is not None
    assert sel.css('meta[property="og:title"]::attr(content)').get() == post["title"]
    assert sel.css("title::text").get() is None  # WeChat leaves <title> empty
    body = "\n".join(t.strip() for t in sel.css("div#js_content p").xpath("string()").getall() if t.strip())
    assert body == post["text"]
    assert re.search(r'var ct = "(\d+)"', html).group(1) == str(post["published_at"])
    assert re.search(r"var msg_title = '(.*)'\.html\(false\);", html)
    assert sel.css("div#js_content img::attr(data-src)").get().startswith("/static/img/")
    assert "expected_labels" not in html and "labels_if_visible" not in html


@pytest.mark.parametrize(
    "status, marker",
    [
        ("deleted", "该内容已被发布者删除"),
        ("violation", "此内容因违规无法查看"),
        ("expired", "链接已过期"),
        ("unavailable", "该内容暂时无法查看"),
    ],
)
def test_gone_articles_show_the_real_error_pages(site, status, marker):
    post = _posts(site, "wechat", status=status)[0]
    code, _, html = get(site.url_for(post))
    sel = Selector(html)
    assert code == 200  # WeChat answers 200 with an error page, not 404
    assert marker in html and sel.css("#js_content").get() is None and "var ct" not in html
    if status in ("deleted", "violation", "expired"):
        assert marker in sel.css(".weui-msg__title").xpath("string()").get()
    if status == "deleted":
        assert sel.css(".weui-msg__title.warn")
    if status == "unavailable":
        assert sel.css("title::text").get() == "该内容暂时无法查看"


def test_profile_history_paginates_ten_per_page_newest_first(site):
    account_id, posts = _busiest_account(site)
    urls, page_url = [], f"{site.url}/profile/{account_id}"
    for _ in range(20):
        status, _, html = get(page_url)
        assert status == 200
        sel = Selector(html)
        links = sel.css("#history h4.weui_media_title a::attr(href)").getall()
        assert 0 < len(links) <= 10
        msg_list = json.loads(re.search(r"var msgList = (\{.*?\});\n", html).group(1))
        assert [e["app_msg_ext_info"]["content_url"] for e in msg_list["list"]] == links
        urls += links
        next_href = sel.css("#js_next_page::attr(href)").get()
        if not next_href:
            break
        page_url = urljoin(page_url, next_href)
    listed = [p for p in posts if p["status"] not in ("deleted", "violation")]  # gone from the history
    expected = sorted(listed, key=lambda p: (-p["published_at"], p["id"]))
    assert urls == [f"/s/{p['key']}" for p in expected]
    assert len(posts) > 10  # the busiest account really has a second page


def test_sogou_search_lists_matches_with_link_redirects_and_pages(site):
    query = "苏州"
    matches = [p for p in site.posts if p["channel"] == "wechat" and query in p["title"] + p["text"]]
    assert len(matches) > 10
    seen, url = [], f"{site.url}/weixin?" + urlencode({"type": 2, "query": query, "page": 1})
    for _ in range(60):
        status, _, html = get(url)
        sel = Selector(html)
        assert status == 200 and sel.css("title::text").get() == f"{query}的相关微信公众号文章 – 搜狗微信搜索"
        items = sel.css("ul.news-list > li")
        assert 0 < len(items) <= 10
        for li in items:
            assert li.css("div.txt-box h3 a::attr(href)").get().startswith("/link?url=")
            assert li.css("p.txt-info").get() and li.css("div.s-p a.account::text").get()
            assert re.search(r"document\.write\(timeConvert\('\d+'\)\)", li.css("div.s-p").get())
            seen.append(li.css("div.txt-box h3 a::attr(href)").get())
        next_href = sel.css("#sogou_next::attr(href)").get()
        if not next_href:
            break
        url = urljoin(url, next_href)
    assert len(seen) == len(matches) and len(set(seen)) == len(seen)
    status, headers, _ = get(urljoin(site.url, seen[0]))
    assert status == 302 and re.fullmatch(r"/s/[A-Za-z0-9_-]{22}", _path(headers["Location"]))


def test_sogou_highlights_the_query_and_account_links_reach_the_profile(site):
    post = _posts(site, "wechat")[0]
    word = post["title"][:2]
    _, _, html = get(f"{site.url}/weixin?type=2&query={quote(word)}")
    assert f"<em><!--red_beg-->{word}<!--red_end--></em>" in html
    account_link = Selector(html).css("a.account::attr(href)").get()
    status, headers, _ = get(urljoin(site.url, account_link))
    assert status == 302 and _path(headers["Location"]).startswith("/profile/gh_")


def test_sogou_with_no_match_has_no_results_and_bad_links_are_refused(site):
    _, _, html = get(f"{site.url}/weixin?type=2&query={quote('不存在的关键词xyz')}")
    assert Selector(html).css("ul.news-list > li").getall() == []
    assert get(f"{site.url}/link?url=%%%")[0] == 400
    assert get(f"{site.url}/link?url=Ly9ldmlsLmV4YW1wbGU")[0] == 400  # "//evil.example": no open redirect


def test_taobao_search_keeps_items_in_g_page_config_and_pages_by_offset(site):
    shop = [p for p in site.posts if p["channel"] == "shop"]
    titles, offset = [], 0
    for _ in range(20):
        _, _, html = get(f"{site.url}/shop/search?q=&s={offset}")
        config = json.loads(re.search(r"g_page_config = (\{.*?\});\n", html).group(1))
        auctions = config["mods"]["itemlist"]["data"]["auctions"]
        pager = config["mods"]["pager"]["data"]
        assert pager["totalCount"] == len(shop)
        for a in auctions:
            assert {"raw_title", "view_price", "item_loc", "nick", "detail_url", "pic_url"} <= set(a)
            assert a["detail_url"].startswith("//127.0.0.1:")
        titles += [a["raw_title"] for a in auctions]
        if pager["currentPage"] >= pager["totalPage"]:
            break
        offset += pager["pageSize"]
    assert sorted(titles) == sorted(p["title"] for p in shop)


def test_taobao_item_page_shows_title_price_seller_location(site):
    post = next(p for p in site.posts if p["channel"] == "shop")
    _, _, html = get(f"{site.url}/shop/item/{post['key']}")
    sel = Selector(html)
    assert sel.css("h3.tb-main-title::attr(data-title)").get() == post["title"]
    assert sel.css("em.tb-rmb-num::text").get() == f"{post['price']:.2f}"
    assert sel.css("a.tb-seller-name::text").get() == post["account"]["name"]
    assert sel.css("#J_deliveryAdd::text").get() == post["location"]
    assert "\n".join(sel.css("#description p::text").getall()) == post["text"]


def test_kongfz_api_uses_the_real_field_names_and_pages(site):
    books = [p for p in site.posts if p["channel"] == "kongfz"]
    found, page = [], 1
    for _ in range(20):
        status, headers, body = get(f"{site.url}/kongfz/search?keyword=&page={page}")
        assert status == 200 and headers["Content-Type"].startswith("application/json")
        data = json.loads(body)["data"]["itemResponse"]
        for item in data["list"]:
            assert {
                "itemId",
                "title",
                "author",
                "press",
                "isbn",
                "price",
                "qualityText",
                "shopName",
                "shopAreaText",
            } <= set(item)
            assert item["link"]["pc"].endswith(f"/{item['shopId']}/{item['itemId']}")
        found += data["list"]
        if data["pager"]["page"] >= data["pager"]["pages"]:
            break
        page += 1
    assert page > 1 and len(found) == len(books)
    status, _, html = get(found[0]["link"]["pc"])
    assert status == 200 and Selector(html).css("h1.detail-title::text").get() == found[0]["title"]


def test_kongfz_keyword_search_filters(site):
    _, _, body = get(f"{site.url}/kongfz/search?keyword={quote('苏州园林')}")
    items = json.loads(body)["data"]["itemResponse"]["list"]
    assert items and all("苏州园林" in i["title"] or "苏州园林" in i["importantDesc"] for i in items)


def test_goofish_item_html_is_an_empty_shell_and_the_api_has_the_item(site):
    post = next(p for p in site.posts if p["channel"] == "goofish")
    _, _, listing = get(f"{site.url}/goofish/search?q=")
    assert f"/goofish/item/{post['key']}" in listing or Selector(listing).css("#goofish_next")
    _, _, html = get(f"{site.url}/goofish/item/{post['key']}")
    sel = Selector(html)
    assert sel.css("#ice-container *").getall() == [] and post["title"] not in html
    assert "/api/goofish/item/" in html
    _, _, body = get(f"{site.url}/api/goofish/item/{post['key']}")
    data = json.loads(body)["data"]
    assert data["title"] == post["title"] and data["desc"] == post["text"]


def test_robots_disallows_private_and_private_exists(site):
    status, headers, text = get(f"{site.url}/robots.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert "Disallow: /private/" in text.splitlines()
    assert get(f"{site.url}/private/leads.html")[0] == 200


def test_malformed_articles_still_carry_their_markers(site):
    malformed = _posts(site, "wechat", markup="malformed")
    assert len(malformed) >= 2
    _, _, html = get(site.url_for(malformed[0]))
    assert html.count("<p>") > html.count("</p>")  # unclosed paragraphs
    assert "</html>" in html[: html.rfind("</script>")]  # content after </html>
    sel = Selector(html)
    assert sel.css("#activity-name").get() and sel.css("#js_content").get()
    assert "团费<500元 & 含门票" in html


def test_one_article_is_several_megabytes(site):
    large = _posts(site, "wechat", markup="large")
    assert len(large) == 1
    status, _, html = get(site.url_for(large[0]))
    assert status == 200 and len(html.encode("utf-8")) > 3_000_000
    assert Selector(html).css("h1#activity-name::text").get().strip() == large[0]["title"]


def test_unknown_pages_are_404(site):
    for path in (
        "/s/nope",
        "/profile/gh_nope",
        "/shop/item/1",
        "/goofish/item/1",
        "/api/goofish/item/1",
        "/kongfz/book/1/2",
    ):
        assert get(site.url + path)[0] == 404, path


def _busiest_account(site):
    by_account: dict[str, list] = {}
    for p in site.posts:
        if p["channel"] == "wechat":
            by_account.setdefault(p["account"]["id"], []).append(p)
    return max(by_account.items(), key=lambda kv: len(kv[1]))


def _path(location: str) -> str:
    return re.sub(r"^https?://[^/]+", "", location)


def test_deleted_articles_leave_the_profile_but_stay_in_search(site):
    post = _posts(site, "wechat", status="deleted")[0]
    account_id = post["account"]["id"]
    listed = []
    for page in range(1, 20):
        _, _, html = get(f"{site.url}/profile/{account_id}?page={page}")
        listed += Selector(html).css("#history h4 a::attr(href)").getall()
        if "js_next_page" not in html:
            break
    assert f"/s/{post['key']}" not in listed
    _, _, html = get(f"{site.url}/weixin?type=2&query={quote(post['title'])}")
    assert post["title"] in Selector(html).css("ul.news-list h3 a").xpath("string()").getall()
