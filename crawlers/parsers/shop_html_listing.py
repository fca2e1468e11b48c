"""A shop's search or category page in HTML (JD's `li.gl-item[data-sku]`, and any shop that marks
its results the same way), recognised by structure rather than by URL: a run of sibling elements,
each carrying a different item id in an attribute. Such a page is a listing of N items, never one
item with the first result's price."""

from __future__ import annotations

import re
from collections import defaultdict

from parsel import Selector

from crawlers.parsers.htmlutil import Document, attr, element_text, node_text
from crawlers.parsers.model import ListingItem, ParsedPage
from crawlers.parsers.textutil import clean_line, parse_price

# Attributes shops put their item id in, on each result element.
ITEM_ID_ATTRS = ("data-sku", "data-nid", "data-item-id", "data-itemid", "data-goods-id", "data-product-id")
# Fewer sibling results than this is a widget (a recommendation strip), not a result list.
MIN_RESULTS = 4
_ID_RE = re.compile(r"^\d{4,20}$")
_ROW_XPATH = "//*[" + " or ".join(f"@{a}" for a in ITEM_ID_ATTRS) + "]"
TITLE_QUERIES = (".p-name em", ".p-name a", ".p-name", "[class*=title] a", "[class*=title]", "[class*=name] a")
SHOP_QUERIES = (".p-shop a", ".p-shop", ".curr-shop", "[class*=shop] a", "[class*=shop]")
NEXT_QUERIES = ("a.pn-next::attr(href)", "a[rel=next]::attr(href)", "a.next::attr(href)")


def result_rows(doc: Document) -> tuple[list, str]:
    """The largest run of sibling elements with distinct item ids (and the id attribute), or ([], "")."""
    groups: dict = defaultdict(dict)
    names: dict = {}
    for element in doc.xpath(_ROW_XPATH):
        parent = element.getparent()
        if parent is None:
            continue
        for name in ITEM_ID_ATTRS:
            value = (element.get(name) or "").strip()
            if _ID_RE.match(value):
                # Buttons inside a result repeat its id; a result list has one element per id.
                groups[(parent, element.tag, name)].setdefault(value, element)
                names[(parent, element.tag, name)] = name
                break
    if not groups:
        return [], ""
    best = max(groups, key=lambda key: len(groups[key]))
    rows = list(groups[best].values())
    return (rows, names[best]) if len(rows) >= MIN_RESULTS else ([], "")


def parse_html_listing(doc: Document, rows: list, id_attr: str) -> ParsedPage:
    items = [_item(doc, row, id_attr) for row in rows]
    items = [item for item in items if item.title or item.url]
    next_page = None
    for query in NEXT_QUERIES:
        href = doc.sel.css(query).get()
        if href:
            next_page = doc.absolute(href)
            break
    lines = [
        " | ".join(p for p in (i.title, f"¥{i.price:.2f}" if i.price is not None else "", i.seller) if p) for i in items
    ]
    return ParsedPage(
        state="ok" if items else "empty",
        title=doc.title_tag(),
        items=items,
        text="\n".join(lines),
        links=[i.url for i in items if i.url],
        next_page=next_page,
        extra={"format": "html_listing", "item_id_attr": id_attr, "result_count": len(items)},
    )


def _item(doc: Document, row, id_attr: str) -> ListingItem:
    item_id = row.get(id_attr, "")
    links = row.xpath(".//a[@href]")
    own = [a for a in links if item_id and item_id in (a.get("href") or "")]
    link = (own or links or [None])[0]
    title = _first(row, TITLE_QUERIES) or (clean_line(link.get("title")) if link is not None else "")
    price = None
    for node in row.xpath(".//*[@data-price]"):
        price = parse_price(node.get("data-price"))
        if price is not None:
            break
    if price is None:
        for node in row.xpath(".//*[contains(@class,'price')]"):
            price = parse_price(element_text(node))
            if price is not None:
                break
    shop_nodes = row.xpath(".//*[@data-shop_name or @data-shopname]")
    seller = (
        clean_line(attr(shop_nodes[0], "data-shop_name") or attr(shop_nodes[0], "data-shopname"))
        if shop_nodes
        else _first(row, SHOP_QUERIES)
    )
    return ListingItem(
        url=doc.absolute(link.get("href")) if link is not None else None,
        title=title,
        price=price,
        seller=seller,
        extra={"id": item_id},
    )


def _first(row, queries) -> str:
    scope = Selector(root=row, type="html")
    for query in queries:
        for node in scope.css(query):
            value = node_text(node)
            if value:
                return value
    return ""
