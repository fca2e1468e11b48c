"""mp.weixin.qq.com pages: articles (2018, 2021 and 2026 layouts), WeChat's error pages as states,
and an account's profile/history page (its recent articles as items).

Facts are read from the script variables first (`var ct`, `var nickname`, `var msg_title`), because
they survive markup WeChat changes and broken nesting, then from the DOM markers, then from <meta>.
"""

from __future__ import annotations

import html
import re

from crawlers.parsers.htmlutil import (
    Document,
    attr,
    collect_images,
    collect_links,
    element_text,
    fragment_text,
    node_text,
    scoped_text,
)
from crawlers.parsers.jsvars import js_decoded_props, js_object, js_string_props, js_vars, unescape_js
from crawlers.parsers.model import ListingItem, ParsedPage
from crawlers.parsers.textutil import clean_line, first_nonempty, from_unix, parse_datetime
from crawlers.parsers.wechat_about import is_account_info, parse_account_info

BASE_URL = "https://mp.weixin.qq.com/"
SCRIPT_VARS = (
    "ct",
    "create_time",
    "publish_time",
    "nickname",
    "msg_title",
    "author",
    "msg_desc",
    "user_name",
    "biz",
    "mid",
    "idx",
    "sn",
    "item_show_type",
    "msg_cdn_url",
    "msg_link",
    "round_head_img",
    "name",
    "_copyright_stat",
    "profile_signature",
)
# window.cgiData properties (JsDecode form) and the `var` names they stand in for.
CGI_DATA_PROPS = {
    "nick_name": "nickname",
    "title": "msg_title",
    "author": "author",
    "create_time": "publish_time",
    "desc": "msg_desc",
    "user_name": "user_name",
}
_CREATE_TIME_PROP_RE = re.compile(r"create_time\s*:\s*['\"](\d{9,11})['\"]\s*\*\s*1")
# WeChat's own wording on pages that no longer show an article, checked in this order
# ("此内容因违规无法查看" must be "removed" before "无法查看" could call it "unavailable").
# The English phrases are WeChat's wording on the same pages for an English-language client
# ("The content has been deleted by the author."); they are matched lower-cased.
GONE_RULES = (
    ("captcha", ("环境异常", "完成验证后", "访问过于频繁", "请输入验证码", "environment abnormal", "unusual network")),
    ("expired", ("链接已过期", "已过期", "link has expired", "has expired", "link expired")),
    (
        "deleted",
        (
            "已被发布者删除",
            "被作者删除",
            "已被删除",
            "内容已删除",
            "已删除",
            "has been deleted",
            "deleted by the author",
            "deleted by the publisher",
            "was deleted",
        ),
    ),
    (
        "removed",
        (
            "违规",
            "投诉",
            "涉嫌",
            "已被屏蔽",
            "已封禁",
            "已被封",
            "已停止访问",
            "已被冻结",
            "violat",
            "has been blocked",
            "been reported",
            "has been removed",
            "was removed",
        ),
    ),
    (
        "unavailable",
        (
            "暂时无法查看",
            "无法查看",
            "不存在",
            "已迁移",
            "无法访问",
            "temporarily unavailable",
            "cannot be viewed",
            "unable to view",
            "does not exist",
            "is unavailable",
        ),
    ),
)
# Error notices are a line or two; a page with more text than this is judged by its notice box only.
ERROR_PAGE_MAX_CHARS = 600
SHARE_TEXT_QUERIES = ("#js_image_desc", "#js_text_desc", ".share_notice", "#js_share_content", ".share_media_desc")
ERROR_MESSAGE_QUERIES = (
    ".weui-msg__title",
    ".weui-msg__desc",
    ".mesg-block",
    ".global_error_msg",
    ".weui_msg_title",
    ".msg_title_area",
    "#js_emptyTips",
)
_WECHAT_ID_RE = re.compile(r"微信号\s*[:：]\s*(\S+)")
# An article body shorter than this in the DOM is looked for in the scripts too (text and picture
# posts keep it in `content_noencode`, filled in by script).
SHORT_BODY_CHARS = 200
# Picture posts (item_show_type 8) of 2026 leave the follow-nickname element empty; the account's
# name is in the page data next to its gh_ user name, as a plain or a JsDecode string.
_NICK_NEAR_USER_RE = re.compile(
    r"user_name\s*:\s*(?:JsDecode\(\s*)?['\"]gh_[0-9a-f]+['\"]\)?\s*,\s*"
    r"nick_name\s*:\s*(?:JsDecode\(\s*)?'((?:[^'\\\n]|\\.)+)'"
)
# A share post's note, written into the page by script: getElementById('js_share_notice').innerHTML = "…"
_SHARE_NOTICE_RE = re.compile(r"js_share_notice['\"]\)\.innerHTML\s*=\s*(\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')")
# Markers of an mp.weixin.qq.com page: a page that has them but no known layout is "unknown_layout".
WECHAT_MARKERS = ("mp.weixin.qq.com", "rich_media", "window.biz", "var biz", "__biz=", "res.wx.qq.com")


def parse_wechat(doc: Document, selectors: dict | None = None) -> ParsedPage:
    scripts = "\n".join(doc.xpath("//script[not(@src)]/text()"))
    js = _script_facts(scripts)
    content = doc.css("#js_content")
    if content:
        return _article(doc, js, content[0], scripts)
    if "msgList" in scripts or doc.sel.css(".page_profile_info, #history.weui_msg_card_list"):
        return _profile(doc, js, scripts)
    if is_account_info(doc):
        return parse_account_info(doc)
    gone = _gone_state(doc)
    if gone:
        return gone
    if js.get("ct") or js.get("msg_title"):
        return _article(doc, js, None, scripts)  # picture/text posts (item_show_type 8/10) have no #js_content
    text = element_text(doc.sel.root)
    if any(marker in doc.text for marker in WECHAT_MARKERS) and doc.css("body *"):
        return ParsedPage(
            state="unknown_layout",
            title=doc.title_tag(),
            text=text,
            extra={"reason": "a WeChat page that is no known article, error, profile or account-information layout"},
        )
    return ParsedPage(
        state="error",
        title=doc.title_tag(),
        text=text,
        extra={"error": "not a WeChat article, error or profile page"},
    )


def _script_facts(scripts: str) -> dict[str, str]:
    """The `var` facts, completed from the cgiData properties when a page lacks some `var` lines."""
    js = js_vars(scripts, SCRIPT_VARS)
    if all(js.get(key) for key in ("ct", "nickname", "msg_title", "author")):
        return js
    props = js_decoded_props(scripts, CGI_DATA_PROPS)
    for prop, key in CGI_DATA_PROPS.items():
        if props.get(prop) and not js.get(key):
            js[key] = props[prop]
    if not js.get("ct"):
        numeric = _CREATE_TIME_PROP_RE.search(scripts)
        if numeric:
            js["ct"] = numeric.group(1)
    return js


def _article(doc: Document, js: dict, content, scripts: str) -> ParsedPage:
    title = first_nonempty(
        js.get("msg_title"),
        # An untitled text post's og:title is the whole post, its line breaks written as a literal \n.
        lambda: doc.meta("og:title", "twitter:title").replace("\\n", "\n"),
        lambda: _heading(doc),
        doc.title_tag,
    )
    text = node_text(content) if content is not None else ""
    extra: dict = {}
    share = _shared_article(doc, scripts) if doc.css("#js_share_content") else None
    if share:
        text, share_extra = share
        extra.update(share_extra)
    elif len(text) < SHORT_BODY_CHARS:
        # Text and picture posts (item_show_type 10/8) and some shares keep their body only in a script
        # string; the DOM holds a card of a few words.
        scripted = _script_body(scripts)
        if len(scripted) > len(text):
            text = scripted
            extra["text_source"] = "content_noencode"
    if not text:
        text = first_nonempty(
            doc.first_text(*SHARE_TEXT_QUERIES), js.get("msg_desc"), doc.meta("og:description", "description")
        )
    scopes = [content] if content is not None else []
    extra.update({key: js[key] for key in ("biz", "mid", "idx", "sn", "user_name", "item_show_type") if key in js})
    if "item_show_type" not in extra:
        shown = re.search(r"window\.item_show_type\s*=\s*['\"](\d+)['\"]", scripts)
        if shown:
            extra["item_show_type"] = shown.group(1)
    extra.update(
        {
            "description": first_nonempty(js.get("msg_desc"), doc.meta("og:description", "description")),
            "cover": doc.absolute(first_nonempty(js.get("msg_cdn_url"), doc.meta("og:image"))),
            "original": bool(doc.css("#copyright_logo")) or js.get("_copyright_stat") == "1",
            "canonical_url": doc.absolute(first_nonempty(doc.meta("og:url"), js.get("msg_link"))),
            "ip_location": doc.first_text("#js_ip_wording") or None,
        }
    )
    return ParsedPage(
        state="ok",
        title=title,
        account=_account(doc, js, scripts) or None,
        author=_author(doc, js) or None,
        published_at=_published(doc, js),
        text=text,
        images=collect_images(doc, scopes),
        links=collect_links(doc, scopes),
        extra={k: v for k, v in extra.items() if v not in (None, "")},
    )


def _heading(doc: Document) -> str:
    # Only the heading's own text: in broken markup an unclosed <h1> swallows the byline after it.
    for heading in doc.sel.css("#activity-name, .rich_media_title"):
        own = clean_line(" ".join(heading.xpath("./text()").getall()))
        if own:
            return own
    return ""


def _account(doc: Document, js: dict, scripts: str = "") -> str:
    return first_nonempty(
        lambda: doc.first_text("#js_name"),
        js.get("nickname"),
        lambda: doc.first_text("#post-user"),
        lambda: doc.first_text("#meta_content .rich_media_meta_nickname", "#js_profile_qrcode .profile_nickname"),
        lambda: _script_nickname(scripts),
        lambda: doc.first_text(".wx_follow_nickname", ".nickNameSpan"),
    )


def _script_nickname(scripts: str) -> str:
    match = _NICK_NEAR_USER_RE.search(scripts)
    return html.unescape(unescape_js(match.group(1))) if match else ""


def _script_body(scripts: str) -> str:
    """The post's body from its `content_noencode` script string (the longest, as a page can carry an
    empty one for another card), as text."""
    bodies = [b for b in js_string_props(scripts, "content_noencode") if b.strip()]
    if not bodies:
        return ""
    return fragment_text(max(bodies, key=len), newlines_are_breaks=True)


def _shared_article(doc: Document, scripts: str) -> tuple[str, dict] | None:
    """A share of another account's article: the sharer's note (script-injected into #js_share_notice,
    or the page's `desc`), then the shared article's body (`content_noencode`). The sharer is the
    page's account; the original account is extra["source_account"]."""
    note = ""
    injected = _SHARE_NOTICE_RE.search(scripts)
    if injected:
        note = fragment_text(unescape_js(injected.group(1)[1:-1]), newlines_are_breaks=True)
    if not note:
        descs = [d for d in js_string_props(scripts, "desc", limit=4) if d.strip()]
        note = fragment_text(descs[0], newlines_are_breaks=True) if descs else ""
    body = _script_body(scripts)
    source_account = doc.first_text("#js_share_author", ".original_account_nickname")
    if not (note or body):
        return None
    text = "\n".join(part for part in (note, body) if part)
    extra = {
        "share": True,
        "source_account": source_account or None,
        "source_title": doc.first_text("#original_panel_title") or None,
        "source_url": doc.absolute(attr(doc.css("#js_share_source")[0], "data-url"))
        if doc.css("#js_share_source")
        else None,
        # Where each part starts in `text`: the sharer's note first, then the shared article.
        "text_parts": {"note": 0 if note else None, "shared_body": (len(note) + 1 if note else 0) if body else None},
    }
    return text, {k: v for k, v in extra.items() if v is not None}


def _author(doc: Document, js: dict) -> str:
    found = first_nonempty(
        lambda: doc.first_text("#js_author_name"), lambda: doc.meta("og:article:author", "author"), js.get("author")
    )
    if found:
        return found
    # 2018/2021 layouts: the author is a plain .rich_media_meta_text in the byline, next to the date.
    for node in doc.sel.css("#meta_content .rich_media_meta_text"):
        ident = attr(node, "id", "")
        classes = attr(node, "class", "")
        if ident in ("post-date", "publish_time") or "nickname" in classes or node.css("#js_name, em[id]"):
            continue
        value = node_text(node)
        if value and not parse_datetime(value):
            return value
    return ""


def _published(doc: Document, js: dict):
    for key in ("ct", "create_time"):
        moment = from_unix(js.get(key))
        if moment:
            return moment
    return parse_datetime(js.get("publish_time")) or parse_datetime(doc.first_text("#post-date", "#publish_time"))


def _gone_state(doc: Document) -> ParsedPage | None:
    message = " ".join(filter(None, (doc.first_text(q) for q in ERROR_MESSAGE_QUERIES)))
    title = doc.title_tag()
    body = doc.sel.xpath("//body")
    if not message and body and len(node_text(body[0])) > ERROR_PAGE_MAX_CHARS:
        title = ""  # a long page is not an error notice, whatever its <title> says
    for state, phrases in GONE_RULES:
        for source in (message, title):
            if source and any(phrase in source.lower() for phrase in phrases):
                return ParsedPage(state=state, title=title, text=message or title, extra={"message": message or title})
    return None


def _profile(doc: Document, js: dict, scripts: str) -> ParsedPage:
    account = first_nonempty(doc.first_text(".profile_nickname"), js.get("nickname"), doc.title_tag())
    msg_list = js_object(scripts, "msgList")
    items = _msg_list_items(doc, msg_list, account) if isinstance(msg_list, dict) else []
    if not items:
        items = _history_cards(doc, account)
    info = doc.sel.css(".profile_info_area")
    extra = {
        "page_type": "profile",
        "article_count": len(items),
        "biz": js.get("biz"),
        "wechat_id": _wechat_id(doc, js),
        "description": _profile_field(doc, "功能介绍"),
        "principal": _profile_field(doc, "帐号主体") or _profile_field(doc, "账号主体"),
    }
    return ParsedPage(
        state="ok",
        title=account,
        account=account or None,
        text=node_text(info[0]) if info else account,
        items=items,
        images=collect_images(doc, info),
        next_page=doc.absolute(doc.sel.css("#js_next_page::attr(href)").get()),
        extra={k: v for k, v in extra.items() if v not in (None, "")},
    )


def _msg_list_items(doc: Document, msg_list: dict, account: str) -> list[ListingItem]:
    items = []
    for entry in msg_list.get("list") or []:
        if not isinstance(entry, dict):
            continue
        comm = entry.get("comm_msg_info") or {}
        ext = entry.get("app_msg_ext_info") or {}
        articles = [ext] + list(ext.get("multi_app_msg_item_list") or [])
        for n, art in enumerate(a for a in articles if isinstance(a, dict) and a.get("title")):
            items.append(
                ListingItem(
                    url=doc.absolute(_unescape_all(art.get("content_url", ""))),
                    title=_unescape_all(art["title"]),
                    account=account,
                    snippet=_unescape_all(art.get("digest", "")),
                    published_at=from_unix(comm.get("datetime")),
                    extra={
                        "id": f"{comm.get('id', '')}-{n}",
                        "author": _unescape_all(art.get("author", "")),
                        "cover": doc.absolute(_unescape_all(art.get("cover", ""))),
                    },
                )
            )
    return items


def _history_cards(doc: Document, account: str) -> list[ListingItem]:
    items = []
    for card in doc.sel.css(".weui_media_box"):
        href = card.css("h4::attr(hrefs)").get() or card.css("h4 a::attr(href)").get()
        title = node_text(card.css("h4")[0]) if card.css("h4") else ""
        if title:
            items.append(
                ListingItem(
                    url=doc.absolute(html.unescape(href or "")),
                    title=title,
                    account=account,
                    snippet=scoped_text(card, ".weui_media_desc"),
                    published_at=parse_datetime(scoped_text(card, ".weui_media_extra_info")),
                    extra={"id": attr(card, "msgid", "")},
                )
            )
    return items


def _wechat_id(doc: Document, js: dict) -> str:
    match = _WECHAT_ID_RE.search(doc.first_text(".profile_account"))
    return match.group(1) if match else js.get("name", "")


def _profile_field(doc: Document, label: str) -> str:
    values = doc.sel.xpath(
        "//label[contains(@class,'profile_desc_label')][contains(., $l)]/following-sibling::*[1]", l=label
    )
    return node_text(values[0]) if values else ""


def _unescape_all(value) -> str:
    # Profile JSON is often HTML-escaped twice (&amp;amp;) and JSON-escaped (\/).
    text = str(value or "").replace("\\/", "/")
    for _ in range(3):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return clean_line(text)
