"""parse(): decode the body, pick the kind's parser, and hold every result to the same rules
(a known state, absolute de-duplicated URLs, text within MAX_TEXT_CHARS, no exception escapes)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from crawlers.parsers import generic, shop, sogou, travel, wechat, wechat_about
from crawlers.parsers.antibot import captcha_marker
from crawlers.parsers.decode import decode_body, looks_binary, normalise_newlines
from crawlers.parsers.htmlutil import Document
from crawlers.parsers.model import MAX_TEXT_CHARS, PAGE_STATES, ParsedPage

log = logging.getLogger(__name__)
# An "ok" page with less text than this is checked for anti-spider wall markers too.
SHORT_TEXT_CHARS = 400

Parser = Callable[[Document, "dict | None"], ParsedPage]
# kind -> (parser, base URL for relative links when the page's own URL is unknown)
KINDS: dict[str, tuple[Parser, str]] = {
    "wechat_article": (wechat.parse_wechat, wechat.BASE_URL),
    "wechat_account_info": (wechat_about.parse_account_info, wechat.BASE_URL),
    "sogou_weixin_search": (sogou.parse_sogou, sogou.BASE_URL),
    "shop_listing": (shop.parse_shop, shop.BASE_URL),
    "travel_note": (travel.parse_travel, ""),
    "generic": (generic.parse_generic, ""),
}


def parse(
    kind: str, url: str, body: bytes, *, encoding: str | None = None, selectors: dict | None = None
) -> ParsedPage:
    """The page's content as a ParsedPage. Bad input gives state "empty" or "error" (with
    extra["error"]), never an exception."""
    url = url if isinstance(url, str) else ""
    try:
        return _finish(_parse(kind, url, body, encoding, selectors), kind, url)
    except Exception as exc:  # a parser bug must cost one page, not the crawl
        log.exception("parser %s failed on %s", kind, url)
        return ParsedPage(
            kind=kind, url=url, state="error", extra={"error": f"{type(exc).__name__}: {exc}", "exception": True}
        )


def _parse(kind, url, body, encoding, selectors) -> ParsedPage:
    if kind not in KINDS:
        return ParsedPage(state="error", extra={"error": f"unknown kind {kind!r}; known: {', '.join(KINDS)}"})
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, (bytes, bytearray, memoryview)):
        return ParsedPage(state="error", extra={"error": f"body must be bytes, not {type(body).__name__}"})
    body = bytes(body)
    if not body or body.isspace():  # what `not body.strip()` means, without copying megabytes
        return ParsedPage(state="empty", extra={"reason": "empty body"})
    text, used = decode_body(body, encoding)
    if looks_binary(text):
        return ParsedPage(state="error", extra={"error": "body is binary, not text", "encoding": used})
    text = normalise_newlines(text)
    parser, base = KINDS[kind]
    usable_url = url if _parsable(url) else ""  # a broken URL only costs its base for relative links
    page = parser(Document(usable_url, text, used, base_url=base), selectors if isinstance(selectors, dict) else None)
    # A wall is a short scripted page: checked before calling a page a shell or an unknown layout too.
    if page.state in ("error", "empty", "unknown_layout", "needs_render") or _short_content(page):
        marker = captcha_marker(text, url)
        if marker:
            page.state = "captcha"
            page.extra.update({"captcha": marker, "unparsed_reason": page.extra.pop("error", "")})
    page.extra.setdefault("encoding", used)
    return page


def _parsable(url: str) -> bool:
    try:
        urlsplit(url)
    except ValueError:
        return False
    return True


def _short_content(page: ParsedPage) -> bool:
    # Walls are short pages; a generic parser reads them as "ok" with a line or two of text.
    return page.state == "ok" and not page.items and len(page.text) < SHORT_TEXT_CHARS


def _finish(page: ParsedPage, kind: str, url: str) -> ParsedPage:
    page.kind, page.url = kind, url
    if page.state not in PAGE_STATES:
        page.extra["error"] = f"parser returned unknown state {page.state!r}"
        page.state = "error"
    if page.state == "error":
        page.extra.setdefault("error", "unreadable page")
    page.text = page.text or ""
    page.title = page.title or ""
    if len(page.text) > MAX_TEXT_CHARS:
        page.text = page.text[:MAX_TEXT_CHARS]
        page.extra["truncated"] = True
    page.images = _unique(page.images)
    page.links = _unique(page.links)
    return page


def _unique(urls) -> list[str]:
    return list(dict.fromkeys(u for u in urls or [] if isinstance(u, str) and u))
