"""Offline page parsers: bytes of a fetched page in, a ParsedPage out, never an exception.

    from crawlers.parsers import parse
    page = parse("wechat_article", url, body)          # body: the response bytes
    page.state, page.title, page.account, page.published_at, page.content_fingerprint()

Kinds: wechat_article, wechat_account_info, sogou_weixin_search, shop_listing, travel_note, generic (see README.md).
"""

from __future__ import annotations

from crawlers.parsers.api import KINDS, parse
from crawlers.parsers.model import LAYOUT_STATES, MAX_TEXT_CHARS, PAGE_STATES, ListingItem, ParsedPage

__all__ = ["KINDS", "LAYOUT_STATES", "MAX_TEXT_CHARS", "PAGE_STATES", "ListingItem", "ParsedPage", "parse"]
