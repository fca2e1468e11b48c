"""Bad input never raises: empty, truncated, binary, huge, mis-encoded and wrong-kind bodies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crawlers.parsers import KINDS, MAX_TEXT_CHARS, PAGE_STATES, ParsedPage, parse

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
ALL_KINDS = sorted(KINDS)


def load(name: str) -> bytes:
    return next(REAL.glob(f"*/{name}")).read_bytes()


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("body", [b"", b"   \r\n\t  ", None])
def test_empty_body_is_state_empty(kind, body):
    page = parse(kind, "https://example.com/", body if body is not None else b"")
    assert page.state == "empty"
    assert page.text == "" and page.items == []


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_binary_garbage_is_an_error_not_an_exception(kind):
    garbage = bytes(range(256)) * 64 + os.urandom(4096)
    page = parse(kind, "https://example.com/x.bin", garbage)
    assert page.state == "error"
    assert "binary" in page.extra["error"]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_png_bytes_are_an_error(kind):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00" * 50
    assert parse(kind, "https://example.com/a.png", png).state == "error"


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("bad", [None, 42, object()])
def test_bad_argument_types_never_raise(kind, bad):
    page = parse(kind, bad, bad)
    assert isinstance(page, ParsedPage) and page.state in ("error", "empty")


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_an_unparsable_url_only_loses_the_base(kind):
    body = load("sogou_search_02_articles_2021.html")
    page = parse(kind, "http://[broken-ipv6/", body)
    assert page.url == "http://[broken-ipv6/"
    assert "exception" not in page.extra
    if kind == "sogou_weixin_search":
        assert page.state == "ok" and page.items[0].url.startswith("https://weixin.sogou.com/link?url=")


def test_unknown_kind_is_an_error():
    page = parse("myspace_profile", "https://example.com/", b"<html><title>x</title></html>")
    assert page.state == "error" and "unknown kind" in page.extra["error"]


@pytest.mark.parametrize(
    "name, kind",
    [
        ("wechat_article_01_2026_reading_account.html", "wechat_article"),
        ("wechat_article_02_2021.html", "wechat_article"),
        ("sogou_search_02_articles_2021.html", "sogou_weixin_search"),
        ("shop_listing_01_taobao_search.html", "shop_listing"),
        ("book_listing_01_kongfz_search_api.json", "shop_listing"),
        ("travel_01_mafengwo_note_hongkong.html", "travel_note"),
    ],
)
@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.6, 0.97])
def test_truncated_real_pages_never_raise(name, kind, fraction):
    body = load(name)
    page = parse(kind, "https://example.com/", body[: int(len(body) * fraction)])
    assert page.state in PAGE_STATES
    if page.state == "error":
        assert page.extra["error"]


def test_truncated_wechat_article_keeps_what_arrived():
    body = load("wechat_article_02_2021.html")
    cut = body.index("生产队的驴".encode()) + 200  # inside #js_content, before the closing scripts
    page = parse("wechat_article", "https://mp.weixin.qq.com/s/x", body[:cut])
    assert page.state == "ok"
    assert page.title == "微信又更新，但这功能来得太晚了" and page.account == "好机友"
    assert "生产队的驴" in page.text
    assert page.published_at is None  # var ct comes after the body and did not arrive


@pytest.mark.parametrize(
    "kind, name",
    [
        ("wechat_article", "shop_listing_01_taobao_search.html"),
        ("wechat_article", "book_listing_01_kongfz_search_api.json"),
        ("sogou_weixin_search", "wechat_article_02_2021.html"),
        ("shop_listing", "travel_03_ctrip_qa_osaka.html"),
        ("shop_listing", "wechat_article_02_2021.html"),
        ("shop_listing", "wechat_article_07_temporarily_unavailable.html"),
    ],
)
def test_wrong_kind_gives_error_with_reason(kind, name):
    page = parse(kind, "https://example.com/", load(name))
    assert page.state == "error"
    assert page.extra["error"]
    assert page.items == []


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_an_antispider_wall_is_captcha_under_any_kind(kind):
    page = parse(kind, "https://weixin.sogou.com/antispider/", load("sogou_search_04_antispider_captcha.html"))
    assert page.state == "captcha"


def test_a_slider_wall_is_captcha():
    body = (
        "<html><head><title>验证码拦截</title></head>"
        "<body><div id='nc_1_n1z'>请拖动下方滑块完成验证</div></body></html>"
    )
    page = parse("shop_listing", "https://s.taobao.com/search?q=x", body.encode())
    assert page.state == "captcha"


def test_a_long_page_titled_like_an_error_is_not_a_gone_state():
    body = (
        "<html><head><title>投诉与举报：链接已过期怎么办</title></head><body>"
        + "<p>一篇讲解如何处理过期链接的长文章。</p>" * 60
        + "</body></html>"
    ).encode()
    page = parse("wechat_article", "https://example.com/help", body)
    assert page.state == "error" and "not a WeChat" in page.extra["error"]


def test_plain_text_sent_to_the_wechat_parser_is_an_error():
    page = parse("wechat_article", "https://mp.weixin.qq.com/s/x", "just some words, 没有文章".encode())
    assert page.state == "error" and "not a WeChat" in page.extra["error"]


def test_huge_text_is_truncated_and_flagged():
    paragraph = "<p>" + "很长的正文内容。" * 1000 + "</p>\n"
    body = (
        "<html><head><title>长文</title></head><body><div id='js_content'>"
        + paragraph * 40
        + '</div><script>var ct = "1626534037";</script></body></html>'
    ).encode()
    page = parse("wechat_article", "https://mp.weixin.qq.com/s/x", body)
    assert page.state == "ok"
    assert len(page.text) == MAX_TEXT_CHARS
    assert page.extra["truncated"] is True
    short = parse("wechat_article", "https://mp.weixin.qq.com/s/x", load("wechat_article_02_2021.html"))
    assert "truncated" not in short.extra


def test_deeply_nested_markup_does_not_overflow():
    # 2,000 levels: deeper than Python's recursion limit, within what libxml2 builds.
    body = (
        "<html><body><div id='js_content'>"
        + "<div><span>" * 1000
        + "深层文本"
        + "</span></div>" * 1000
        + "</div></body></html>"
    ).encode()
    page = parse("wechat_article", "https://mp.weixin.qq.com/s/x", body)
    assert page.state == "ok" and page.text == "深层文本"
    # Deeper still, libxml2 gives up on the nesting; the parse must still return.
    deeper = body.replace(b"<div><span>" * 1000, b"<div><span>" * 6000)
    assert parse("wechat_article", "https://mp.weixin.qq.com/s/x", deeper).state in PAGE_STATES


def test_nul_bytes_and_control_characters_are_dropped():
    body = b"<html><body><div id='js_content'><p>\x00\xe6\xad\xa3\x01\xe6\x96\x87\x0b</p></div></body></html>"
    page = parse("wechat_article", "https://mp.weixin.qq.com/s/x", body)
    assert page.state == "ok" and page.text == "正文"


# --- Encodings ---------------------------------------------------------------------------------------

ARTICLE = (
    "<html><head>{meta}<title>旅行社公告</title></head><body><div id='js_content'><p>跟团游 ¥1999 起，"
    '全程无购物。😀</p></div><script>var nickname = "苏州旅游";var ct = "1626534037";</script>'
    "</body></html>"
)


@pytest.mark.parametrize(
    "codec, meta, given",
    [
        ("gb18030", '<meta charset="gbk">', None),  # meta charset sniffed
        ("gb18030", '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', None),
        ("gb18030", "", None),  # no declaration: UTF-8 fails, GB18030 fits
        ("gb18030", "", "gbk"),  # the caller's encoding (HTTP header)
        ("utf-8", "", None),
        ("utf-8", '<meta charset="gbk">', "utf-8"),  # the caller wins over a wrong meta
        ("utf-16", "", None),  # BOM
    ],
)
def test_encodings(codec, meta, given):
    body = ARTICLE.format(meta=meta).encode(codec)
    page = parse("wechat_article", "https://mp.weixin.qq.com/s/x", body, encoding=given)
    assert page.state == "ok"
    assert page.account == "苏州旅游"
    assert page.text == "跟团游 ¥1999 起，全程无购物。😀"


@pytest.mark.parametrize("codec", ["utf-8", "gb18030"])
@pytest.mark.parametrize("declared", ["iso-8859-1", "latin-1", "ascii"])
def test_a_default_western_charset_header_does_not_garble_chinese(codec, declared):
    body = ARTICLE.format(meta="").encode(codec)
    page = parse("wechat_article", "https://mp.weixin.qq.com/s/x", body, encoding=declared)
    assert page.account == "苏州旅游" and page.extra["encoding"] in ("utf-8", "gb18030")


def test_a_western_page_declared_western_stays_western():
    body = "<html><body><div id='js_content'><p>Café crème</p></div></body></html>".encode("cp1252")
    page = parse("wechat_article", "https://example.com/", body, encoding="iso-8859-1")
    assert page.text == "Café crème"


def test_wrong_declared_encoding_falls_back_instead_of_garbling():
    body = ARTICLE.format(meta="").encode("gb18030")
    page = parse("wechat_article", "https://mp.weixin.qq.com/s/x", body, encoding="utf-8")
    assert page.text.startswith("跟团游")


def test_unknown_declared_encoding_is_ignored():
    body = ARTICLE.format(meta='<meta charset="x-no-such-codec">').encode("utf-8")
    page = parse("wechat_article", "https://mp.weixin.qq.com/s/x", body, encoding="bogus-9")
    assert page.state == "ok" and page.account == "苏州旅游"


# What decode.py keeps by hand on top of w3lib, each with the case that made it necessary.


@pytest.mark.parametrize("declared", ["gbk", "gb2312", "x-gbk"])
def test_gbk_declared_with_characters_only_gb18030_has(declared):
    # Characters GBK lacks (Extension A, a supplementary-plane CJK character, an emoji), which sites
    # declaring gbk send anyway; x-gbk is a label w3lib does not know, so the bytes decide.
    body = ARTICLE.format(meta="").replace("旅行社公告", "㐀𠮷旅行社公告").encode("gb18030")
    page = parse("wechat_article", "https://mp.weixin.qq.com/s/x", body, encoding=declared)
    assert page.title == "㐀𠮷旅行社公告" and page.text.endswith("😀")
    assert page.extra["encoding"] == "gb18030"


def test_a_servers_iso_8859_1_yields_to_the_pages_own_charset():
    body = ARTICLE.format(meta='<meta charset="gbk">').encode("gb18030")
    page = parse("wechat_article", "https://mp.weixin.qq.com/s/x", body, encoding="ISO-8859-1")
    assert page.account == "苏州旅游" and page.extra["encoding"] == "gb18030"


def test_a_utf8_page_declared_gbk_is_read_as_utf8():
    body = ARTICLE.format(meta='<meta charset="gbk">').encode("utf-8")
    for given in (None, "gbk"):
        page = parse("wechat_article", "https://mp.weixin.qq.com/s/x", body, encoding=given)
        assert page.account == "苏州旅游" and page.extra["encoding"] == "utf-8"
    # Cut inside a character, as a truncated download is, it is still UTF-8 and not GB18030 mojibake.
    cut = body[: body.index("全程".encode()) + 1]
    page = parse("wechat_article", "https://mp.weixin.qq.com/s/x", cut, encoding="gbk")
    assert page.extra["encoding"] == "utf-8" and page.text.startswith("跟团游 ¥1999 起，")


def test_a_truncated_gb18030_page_declared_utf8_keeps_what_arrived():
    body = ARTICLE.format(meta="").encode("gb18030")
    cut = body[: body.index("全程".encode("gb18030")) + 1]  # half of 全
    page = parse("wechat_article", "https://mp.weixin.qq.com/s/x", cut, encoding="utf-8")
    assert page.extra["encoding"] == "gb18030" and page.text.startswith("跟团游 ¥1999 起，")


def test_noise_in_a_small_utf8_page_does_not_turn_it_into_gb18030():
    # 128 bad bytes outnumber the page's own non-ASCII bytes, but GB18030 cannot read it whole either.
    body = load("wechat_article_04_expired.html")
    middle = len(body) // 2
    page = parse(
        "wechat_article", "https://mp.weixin.qq.com/s/x", body[:middle] + bytes(range(0x80, 0x100)) + body[middle:]
    )
    assert page.state == "expired" and page.extra["encoding"] == "utf-8"


def test_mixed_line_endings_become_plain_newlines():
    body = b"<html><body><div id='js_content'><pre>a\r\nb\rc\nd</pre></div></body></html>"
    page = parse("wechat_article", "https://mp.weixin.qq.com/s/x", body)
    assert "\r" not in page.text


def test_malformed_nesting_of_page_07_is_read():
    page = parse(
        "wechat_article", "https://mp.weixin.qq.com/s/x", load("wechat_article_07_temporarily_unavailable.html")
    )
    assert page.state == "unavailable" and page.title == "该内容暂时无法查看"


def test_invalid_json_for_shop_listing_is_an_error():
    page = parse("shop_listing", "https://example.com/api", b'{"data": {"itemResponse": {"list": [')
    assert page.state == "error" and "JSON" in page.extra["error"]


def test_unknown_json_for_shop_listing_is_an_error():
    page = parse("shop_listing", "https://example.com/api", b'{"hello": "world"}')
    assert page.state == "error"


def test_kongfz_with_no_results_is_empty():
    body = b'{"status":1,"data":{"totalFound":0,"itemResponse":{"total":0,"list":[],"pager":{"page":1,"pages":0}}}}'
    page = parse("shop_listing", "https://example.com/api?keyword=x", body)
    assert page.state == "empty" and page.extra["total_found"] == 0


def test_jsonp_wrapped_api_response():
    body = load("book_listing_01_kongfz_search_api.json")
    page = parse("shop_listing", "https://example.com/api", b"jQuery1234_5678(" + body + b");")
    assert page.state == "ok" and len(page.items) == 12


# --- Mutation fuzzing: real pages, damaged at random (fixed seed), under their own and a wrong kind ---

OWN_KIND = {
    "wechat_article": "wechat_article",
    "wechat_account_info": "wechat_account_info",
    "sogou_search": "sogou_weixin_search",
    "shop_listing": "shop_listing",
    "book_listing": "shop_listing",
    "travel": "travel_note",
}
SMALL_FIXTURES = sorted(
    p
    for p in REAL.glob("*/*")
    if p.suffix in (".html", ".json") and not p.name.endswith(".truth.json") and p.stat().st_size < 600_000
)


def _mutations(body: bytes, rng) -> list[bytes]:
    out = []
    for _ in range(3):
        a, b = sorted(rng.randrange(len(body)) for _ in range(2))
        out.append(body[:a] + body[b:])  # a span cut out
        out.append(body[:a] + bytes(rng.randrange(256) for _ in range(64)) + body[a:])  # noise inserted
    out.append(body.replace(b"</", b"<"))  # every end tag broken
    out.append(body.replace(b'"', b""))  # quotes gone (JSON and attributes)
    out.append(body.replace(b">", b"", 50))  # early tags unclosed
    return out


@pytest.mark.parametrize("path", SMALL_FIXTURES, ids=lambda p: p.name)
def test_damaged_real_pages_never_hit_a_parser_bug(path):
    import random

    rng = random.Random(path.name)
    own = OWN_KIND[path.parent.name]
    for body in _mutations(path.read_bytes(), rng):
        for kind in (own, "generic", "travel_note" if own != "travel_note" else "wechat_article"):
            page = parse(kind, "https://example.com/p", body)
            assert page.state in PAGE_STATES
            assert "exception" not in page.extra, (kind, page.extra.get("error"))
