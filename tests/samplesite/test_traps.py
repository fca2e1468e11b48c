"""The sample network's politeness traps (429, captcha) and its admin switch and statistics."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from urllib.parse import quote, unquote, urlencode

import pytest
from parsel import Selector

from samplesite import start

pytestmark = pytest.mark.timeout(120)


class Clock:
    """A clock that only moves when the test says so, so a "burst" is exact."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def request(url: str, data: bytes | None = None, headers: dict | None = None):
    """(status, headers, text) without following redirects."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _OPENER.open(req, timeout=30) as resp:
            return resp.status, resp.headers, resp.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read().decode("utf-8", "replace")


def test_a_burst_over_the_rate_limit_gets_429_with_retry_after():
    clock = Clock()
    with start(rate_limit=5, clock=clock) as site:
        statuses = [request(f"{site.url}/robots.txt")[0] for _ in range(8)]
        assert statuses == [200] * 5 + [429] * 3
        status, headers, body = request(f"{site.url}/")
        assert status == 429 and headers["Retry-After"] == "1" and "访问过于频繁" in body
        clock.now += 1.01  # the client waited Retry-After
        assert request(f"{site.url}/robots.txt")[0] == 200
        assert site.stats()["statuses"] == {"200": 6, "429": 4}


def test_rate_limit_zero_never_refuses():
    with start(rate_limit=0, clock=Clock()) as site:
        assert {request(f"{site.url}/robots.txt")[0] for _ in range(30)} == {200}


def test_too_many_searches_send_the_client_to_the_antispider_captcha():
    clock = Clock()
    with start(captcha_after=3, captcha_window_s=60, clock=clock) as site:
        search = f"{site.url}/weixin?" + urlencode({"type": 2, "query": "苏州"})
        assert [request(search)[0] for _ in range(3)] == [200, 200, 200]
        status, headers, _ = request(search)
        assert status == 302 and headers["Location"].startswith("/antispider/?from=")
        assert unquote(headers["Location"].split("from=")[1]).startswith("/weixin?type=2&query=")
        _, _, html = request(site.url + headers["Location"])
        sel = Selector(html)
        assert sel.css("title::text").get() == "搜狗搜索"
        assert "antispider" in html and sel.css("form#seccodeForm input[name=c]").get()
        assert "您的访问过于频繁" in html
        assert request(f"{site.url}/robots.txt")[0] == 200  # only searching is blocked
        clock.now += 61  # the client paused for the whole window
        assert request(search)[0] == 200


def test_captcha_counts_link_follows_too_and_reset_lets_the_client_back():
    with start(captcha_after=2, clock=Clock()) as site:
        _, _, html = request(f"{site.url}/weixin?type=2&query={quote('苏州')}")
        link = Selector(html).css("div.txt-box h3 a::attr(href)").get()
        assert request(site.url + link)[0] == 302
        assert request(site.url + link)[1]["Location"].startswith("/antispider/")
        request(f"{site.url}/__admin__/reset", data=b"")
        assert request(f"{site.url}/weixin?type=2&query={quote('苏州')}")[0] == 200


def test_stats_count_each_path_and_url_and_skip_admin():
    with start() as site:
        post = next(p for p in site.posts if p["channel"] == "wechat" and p["status"] == "ok")
        request(site.url_for(post))
        request(site.url_for(post))
        request(f"{site.url}/shop/search?q=&s=20")
        request(f"{site.url}/nope")
        _, _, body = request(f"{site.url}/__admin__/stats")
        stats = json.loads(body)
        assert stats["paths"] == {f"/s/{post['key']}": 2, "/shop/search": 1, "/nope": 1}
        assert stats["urls"]["/shop/search?q=&s=20"] == 1
        assert stats["total"] == 4 and stats["statuses"] == {"200": 3, "404": 1}


def test_admin_edit_changes_the_page_a_recrawl_sees():
    with start() as site:
        post = next(
            p for p in site.posts if p["channel"] == "wechat" and p["status"] == "ok" and p["markup"] == "normal"
        )
        _, _, before = request(site.url_for(post))
        payload = json.dumps({"text": "报名已截止，感谢关注。\n下期再见。"}).encode()
        status, _, body = request(
            f"{site.url}/__admin__/edit/{post['id']}", data=payload, headers={"Content-Type": "application/json"}
        )
        assert status == 200 and json.loads(body)["revision"] == 1
        assert "expected_labels" not in json.loads(body)
        _, _, after = request(site.url_for(post))
        assert after != before
        paragraphs = [t for t in Selector(after).css("#js_content p").xpath("string()").getall() if t.strip()]
        assert paragraphs == ["报名已截止，感谢关注。", "下期再见。"]
        request(f"{site.url}/__admin__/edit/{post['id']}", data=b"status=deleted")
        assert "该内容已被发布者删除" in request(site.url_for(post))[2]


def test_admin_edit_refuses_unknown_posts_fields_and_statuses():
    with start() as site:
        post_id = site.posts[0]["id"]
        assert request(f"{site.url}/__admin__/edit/p9999", data=b"text=x")[0] == 404
        assert request(f"{site.url}/__admin__/edit/{post_id}", data=b"expected_labels=x")[0] == 400
        assert request(f"{site.url}/__admin__/edit/{post_id}", data=b"status=gone")[0] == 400
        assert request(f"{site.url}/__admin__/stats")[0] == 200


def test_in_process_edit_and_fresh_sites_start_from_the_committed_content():
    with start() as site:
        post = next(p for p in site.posts if p["channel"] == "wechat" and p["status"] == "ok")
        site.edit(post["id"], title="“拙政园”一日游 & 'A' <b>")
        _, _, html = request(site.url_for(post))
        assert "var msg_title = '“拙政园”一日游 &amp; &#39;A&#39; &lt;b&gt;'.html(false);" in html
        assert re.search(r'<meta property="og:title" content="“拙政园”一日游 &amp; &#39;A&#39; &lt;b&gt;" />', html)
    with start() as fresh:
        assert next(p for p in fresh.posts if p["id"] == post["id"])["title"] == post["title"]


def test_a_post_edited_to_empty_text_still_renders_everywhere():
    with start() as site:
        for channel in ("wechat", "shop", "kongfz", "goofish"):
            post = next(
                p
                for p in site.posts
                if p["channel"] == channel and p.get("status", "ok") == "ok" and p.get("markup", "normal") == "normal"
            )
            site.edit(post["id"], text="")
            assert request(site.url_for(post))[0] == 200, channel
        assert request(f"{site.url}/kongfz/search?keyword=")[0] == 200
        assert request(f"{site.url}/weixin?type=2&query={quote('苏州')}")[0] == 200
