"""Any page, read with the CSS or XPath selectors a source gives (`selectors` in sources.toml).

Keys: title, text, author, account, price, location, published_at, images, links, next_page, items,
and for each element `items` finds: item_url, item_title, item_price, item_seller, item_location,
item_snippet, item_published_at. A selector starting with "/", "(" or "./" is XPath, anything else CSS
(parsel's ::text and ::attr(name) work). When a selector finds nothing, or is not given, the field
falls back to <title>/<h1> and the page's main text block; a selector that does not parse is reported
in extra["selector_errors"] instead of failing the page.
"""

from __future__ import annotations

import re

from parsel import Selector

from crawlers.parsers.htmlutil import Document, attr, collect_images, collect_links, main_block, node_text, texts_of
from crawlers.parsers.model import ListingItem, ParsedPage
from crawlers.parsers.textutil import clean_line, currency_price, first_nonempty, parse_datetime, parse_price

DEFAULT_ITEM_SELECTORS = {"item_url": "a::attr(href)", "item_title": "a"}
NEXT_PAGE_FALLBACKS = (
    "a[rel~=next]::attr(href)",
    "link[rel=next]::attr(href)",
    "//a[normalize-space(.)='下一页' or normalize-space(.)='下页' or normalize-space(.)='Next' "
    "or normalize-space(.)='next' or normalize-space(.)='›' or normalize-space(.)='»']/@href",
)
_XPATH_START = re.compile(r"^\s*(/|\(|\./|\.\./)")


class _Selecting:
    """Runs the source's selectors against one scope, collecting the ones that fail to parse."""

    def __init__(self, selectors: dict | None):
        self.selectors = {k: v for k, v in (selectors or {}).items() if isinstance(v, str) and v.strip()}
        self.errors: dict[str, str] = {}

    def select(self, scope: Selector, key: str, default: str | None = None) -> list[Selector]:
        query = self.selectors.get(key, default)
        if not query:
            return []
        try:
            return list(scope.xpath(query) if _XPATH_START.match(query) else scope.css(query))
        except Exception as exc:  # cssselect and lxml raise several unrelated types for a bad selector
            self.errors[key] = f"{query!r}: {exc}"
            return []

    def text(self, scope: Selector, key: str, default: str | None = None) -> str:
        return first_nonempty(*(node_text(n) for n in self.select(scope, key, default)))


def parse_generic(doc: Document, selectors: dict | None = None) -> ParsedPage:
    sel = _Selecting(selectors)
    root = doc.sel
    title = sel.text(root, "title") or first_nonempty(doc.title_tag(), doc.first_text("h1"), doc.meta("og:title"))
    text_nodes = sel.select(root, "text")
    block = main_block(doc)
    text = texts_of(text_nodes) or (node_text(block) if block is not None else "")
    items = [item for item in (_item(doc, sel, node) for node in sel.select(root, "items")) if item]
    price_text = sel.text(root, "price")
    extra: dict = {}
    page = ParsedPage(
        state="ok",
        title=title,
        text=text,
        items=items,
        author=sel.text(root, "author") or doc.meta("author") or None,
        account=sel.text(root, "account") or None,
        price=parse_price(price_text) if price_text else None,
        seller_location=sel.text(root, "location") or None,
        published_at=parse_datetime(sel.text(root, "published_at") or doc.meta("article:published_time")),
        images=_urls(doc, sel.select(root, "images")) or collect_images(doc, [block] if block is not None else []),
        links=_urls(doc, sel.select(root, "links")) or collect_links(doc, [block] if block is not None else []),
        next_page=_next_page(doc, sel),
        extra=extra,
    )
    if sel.errors:
        extra["selector_errors"] = sel.errors
    if not (title or text or items):
        page.state = "empty"
        extra["reason"] = "no title, text or items found"
    return page


def _item(doc: Document, sel: _Selecting, node: Selector) -> ListingItem | None:
    url_nodes = sel.select(node, "item_url", DEFAULT_ITEM_SELECTORS["item_url"])
    url = next((u for u in (doc.absolute(_raw(n)) for n in url_nodes) if u), None)
    title = sel.text(node, "item_title", DEFAULT_ITEM_SELECTORS["item_title"]) or node_text(node).split("\n")[0]
    if not (url or title):
        return None
    price_text = sel.text(node, "item_price")
    return ListingItem(
        url=url,
        title=clean_line(title),
        price=parse_price(price_text) if price_text else currency_price(node_text(node)),
        seller=sel.text(node, "item_seller"),
        location=sel.text(node, "item_location"),
        snippet=sel.text(node, "item_snippet"),
        published_at=parse_datetime(sel.text(node, "item_published_at")),
    )


def _next_page(doc: Document, sel: _Selecting) -> str | None:
    for node in sel.select(doc.sel, "next_page"):
        url = doc.absolute(_raw(node))
        if url:
            return url
    for query in NEXT_PAGE_FALLBACKS:
        nodes = doc.sel.xpath(query) if query.startswith("/") else doc.sel.css(query)
        for node in nodes:
            url = doc.absolute(_raw(node))
            if url:
                return url
    return None


def _urls(doc: Document, nodes: list[Selector]) -> list[str]:
    found = []
    for node in nodes:
        if isinstance(node.root, str):
            found.append(doc.absolute(node.root))
        else:
            found.extend(
                collect_images(doc, [node])
                if node.xpath("descendant-or-self::img")
                else [doc.absolute(attr(node, "href"))]
            )
    return list(dict.fromkeys(u for u in found if u))


def _raw(node: Selector) -> str:
    """An attribute/text result as it is, or an element's href (an <a> matched without ::attr)."""
    if isinstance(node.root, str):
        return node.root
    return attr(node, "href") or attr(node, "src") or ""
