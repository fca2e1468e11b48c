"""weixin.sogou.com search pages: article results (type=2, ul.news-list), account results (type=1,
ul.news-list2), the "no results" page, and the anti-spider captcha wall a fast crawler is sent to.

Result links are kept as Sogou gives them, made absolute: 2017 pages link straight to signed
mp.weixin.qq.com/s?src=3… URLs, 2021 pages to /link?url=… redirects that only Sogou can resolve.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

from crawlers.parsers.htmlutil import Document, attr, collect_images, node_text
from crawlers.parsers.model import ListingItem, ParsedPage
from crawlers.parsers.textutil import clean_line, first_nonempty, from_unix, parse_datetime

BASE_URL = "https://weixin.sogou.com/weixin"
CAPTCHA_MARKERS = ("antispider", "seccodeImage", "seccodeForm", "您的访问过于频繁", "用户您好，您的访问过于频繁")
# Any result layout: the parents of div.txt-box, when the ul.news-list wrapper changed.
TXT_BOX_PARENTS = "//div[contains(concat(' ', normalize-space(@class), ' '), ' txt-box ')]/.."
_TIME_CONVERT_RE = re.compile(r"timeConvert\(\s*['\"]?(\d{9,13})")
_TOTAL_RE = re.compile(r"([\d,]+)\s*条")
_TITLE_QUERY_RE = re.compile(r"^(.*?)的相关微信公众号")


def parse_sogou(doc: Document, selectors: dict | None = None) -> ParsedPage:
    title = doc.title_tag()
    article_rows = doc.sel.css("ul.news-list > li")
    account_rows = doc.sel.css("ul.news-list2 > li")
    if not article_rows and not account_rows and _is_captcha(doc):
        return ParsedPage(state="captcha", title=title, text=_captcha_text(doc), extra=_captcha_extra(doc))
    if account_rows:
        items, result_type = [_account_item(doc, row) for row in account_rows], "account"
    else:
        rows = article_rows or doc.sel.xpath(TXT_BOX_PARENTS)
        items, result_type = [_article_item(doc, row) for row in rows], "article"
    items = [item for item in items if item.title or item.url]
    extra = {"result_type": result_type, "query": _query(doc, title), "total_results": _total(doc)}
    next_page = doc.absolute(doc.sel.css("#sogou_next::attr(href)").get())
    if not items:
        if (
            doc.sel.css("#noresult_part1_container, .no-sosuo, #noresult_part2_container")
            or "sogou" in title.lower()
            or "搜狗" in title
        ):
            return ParsedPage(
                state="empty",
                title=title,
                text=doc.first_text(".no-sosuo", "#main") or "",
                extra={**extra, "reason": "no results"},
            )
        return ParsedPage(state="error", title=title, extra={"error": "not a Sogou WeChat search page"})
    text = "\n".join(f"{item.title} — {item.account}" if item.account else item.title for item in items)
    return ParsedPage(
        state="ok",
        title=title,
        text=text,
        items=items,
        next_page=next_page,
        links=[item.url for item in items if item.url],
        extra={k: v for k, v in extra.items() if v not in (None, "")},
    )


def _article_item(doc: Document, row) -> ListingItem:
    link = row.css(".txt-box h3 a") or row.css("h3 a") or row.css("a[uigs^=article_title]")
    account = row.css("a.account") or row.css(".s-p a")
    stamp = row.css(".s-p::attr(t)").get() or _script_time(row)
    url = doc.absolute(attr(link[0], "href")) if link else None
    extra = {
        "id": attr(row, "d", ""),
        "link_type": _link_type(url),
        "account_url": doc.absolute(attr(account[0], "href")) if account else None,
        "account_openid": attr(account[0], "i") if account else None,
        "verified": (attr(account[0], "data-isv") or attr(account[0], "data-isV")) == "1" if account else None,
        "image": next(iter(collect_images(doc, row.css(".img-box"))), None),
    }
    return ListingItem(
        url=url,
        title=node_text(link[0]) if link else "",
        account=node_text(account[0]) if account else "",
        snippet=node_text(row.css(".txt-info")[0]) if row.css(".txt-info") else "",
        published_at=from_unix(stamp) or parse_datetime(row.css(".s-p .s2::text").get()),
        extra={k: v for k, v in extra.items() if v not in (None, "")},
    )


def _account_item(doc: Document, row) -> ListingItem:
    link = row.css("p.tit a") or row.css(".txt-box a")
    name = node_text(link[0]) if link else ""
    url = doc.absolute(attr(link[0], "href")) if link else None
    fields = {
        clean_line(node_text(dl.css("dt")[0])).rstrip("：:"): dl.css("dd") for dl in row.css("dl") if dl.css("dt")
    }
    recent = fields.get("最近文章")
    recent_link = recent[0].css("a") if recent else []
    extra = {
        "id": attr(row, "d", ""),
        "link_type": _link_type(url),
        "wechat_id": first_nonempty(row.css("label[name=em_weixinhao]::text").get()),
        "verified_by": _dd_text(_field(fields, "认证")),
        "recent_article_title": node_text(recent_link[0]) if recent_link else None,
        "recent_article_url": doc.absolute(attr(recent_link[0], "href")) if recent_link else None,
        "recent_article_at": _iso(from_unix(_script_time(recent[0]))) if recent else None,
        "image": next(iter(collect_images(doc, row.css(".img-box"))), None),
    }
    # An account has no publication time; its latest article's time stays in extra.
    return ListingItem(
        url=url,
        title=name,
        account=name,
        snippet=_dd_text(fields.get("功能介绍")),
        extra={k: v for k, v in extra.items() if v not in (None, "")},
    )


def _field(fields: dict, suffix: str):
    # "认证" is written by script (authname('2') + "认证："), so the dt text is only the suffix.
    for key, value in fields.items():
        if key.endswith(suffix):
            return value
    return None


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def _dd_text(dds) -> str:
    return node_text(dds[0]) if dds else ""


def _script_time(scope) -> str | None:
    match = _TIME_CONVERT_RE.search(" ".join(scope.xpath(".//script/text()").getall()))
    return match.group(1) if match else None


def _link_type(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.path.startswith("/link"):
        return "sogou_redirect"
    return "direct" if parts.hostname == "mp.weixin.qq.com" else "other"


def _is_captcha(doc: Document) -> bool:
    head = doc.text[:20000]
    return any(marker in head for marker in CAPTCHA_MARKERS) or "/antispider" in doc.url


def _captcha_text(doc: Document) -> str:
    return first_nonempty(doc.first_text(".content-box .p2"), doc.first_text(".content-box"), "搜狗反爬虫验证页")


def _captcha_extra(doc: Document) -> dict:
    asked = doc.sel.css("input#from::attr(value), input[name=r]::attr(value)").get()
    extra = {"captcha": "sogou_antispider"}
    if asked:
        extra["requested"] = unquote(asked)
    return extra


def _query(doc: Document, title: str) -> str:
    value = doc.sel.css("input#query::attr(value), input[name=query]::attr(value)").get()
    if value:
        return clean_line(value)
    from_url = parse_qs(urlsplit(doc.url).query).get("query")
    if from_url:
        return clean_line(from_url[0])
    match = _TITLE_QUERY_RE.match(title)
    return match.group(1) if match else ""


def _total(doc: Document) -> int | None:
    match = _TOTAL_RE.search(doc.first_text(".mun"))
    return int(match.group(1).replace(",", "")) if match else None
