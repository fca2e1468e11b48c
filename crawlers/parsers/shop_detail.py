"""An item detail page of a shop (Taobao-, 孔夫子- or 闲鱼-like): title, price, seller, location.

Shops differ in markup, so each field tries the known markers first, then schema.org/Open Graph
metadata, then a labelled line in the text ("所在地：…", "¥ 25.00").
"""

from __future__ import annotations

import re

from crawlers.parsers.htmlutil import Document, collect_images, collect_links, main_block, node_text
from crawlers.parsers.model import ParsedPage
from crawlers.parsers.textutil import clean_line, currency_price, first_nonempty, parse_datetime, parse_price

TITLE_QUERIES = (
    ".tb-main-title::attr(data-title)",
    ".tb-main-title",
    "h1.detail-title",
    ".item-title",
    "[itemprop=name]",
    ".product-title",
    ".goods-title",
    "h1",
)
PRICE_QUERIES = (
    "#J_StrPrice .tb-rmb-num",
    ".tb-rmb-num",
    "#J_PromoPriceNum",
    ".now-price-text",
    ".item-price",
    "[itemprop=price]::attr(content)",
    "[itemprop=price]",
    ".price .number",
    ".price",
    "[class*=price]",
)
SELLER_QUERIES = (
    ".shop-name-link",
    "a.shop-name",
    ".shop-name",
    ".tb-seller-name",
    ".item-seller",
    "[itemprop=seller]",
    "[class*=seller-name]",
    "[class*=shop-name]",
    "[class*=shopName]",
)
LOCATION_QUERIES = ("#J_deliveryAdd", ".shop-area", ".item-location", ".tb-deliveryAdd", "[class*=location]")
DESCRIPTION_QUERIES = (
    "#description",
    "#J_DivItemDesc",
    "#item-desc",
    ".item-desc",
    ".detail-desc",
    "[itemprop=description]",
    ".desc",
)
TIME_QUERIES = (".item-time", "time::attr(datetime)", "time", ".pub-time", ".publish-time")
# Title suffixes shops append to <title>.
_TITLE_SUFFIX_RE = re.compile(r"\s*[-_|–—]\s*(淘宝网|天猫|孔夫子旧书网|闲鱼|tmall\.com.*|taobao\.com.*)$", re.I)
_LABELLED_RE = {
    "seller": re.compile(r"(?:掌柜|卖家|店铺|书店)\s*[:：]\s*([^\n,，;；|]{1,40})"),
    "location": re.compile(r"(?:所在地区?|发货地|宝贝所在地|配送)\s*[:：]\s*([^\n,，;；|]{1,40})"),
}
# Labels of book facts (孔夫子 item pages) and the extra keys they are stored under.
BOOK_LABELS = {"作者": "book_author", "出版社": "press", "出版时间": "pub_date", "ISBN": "isbn", "品相": "quality"}


def parse_item_detail(doc: Document) -> ParsedPage:
    if not doc.sel.xpath("//body//*"):
        return ParsedPage(state="error", title=doc.title_tag(), extra={"error": "no HTML content"})
    title = first_nonempty(
        doc.first_text(*TITLE_QUERIES), doc.meta("og:title"), _TITLE_SUFFIX_RE.sub("", doc.title_tag())
    )
    description = doc.sel.css(", ".join(DESCRIPTION_QUERIES))
    block = description[0] if description else main_block(doc)
    text = node_text(block) if block is not None else ""
    price = _price(doc, text)
    if price is None:
        # A page without a price is not an item on sale (a login wall, an error page, another site).
        return ParsedPage(
            state="error",
            title=doc.title_tag(),
            text=text,
            extra={"error": "no item price found: not a shop item page"},
        )
    body_text = node_text(doc.sel.xpath("//body")[0])
    seller = first_nonempty(doc.first_text(*SELLER_QUERIES), doc.meta("og:site_name"), _labelled(body_text, "seller"))
    location = first_nonempty(doc.first_text(*LOCATION_QUERIES), _labelled(body_text, "location"))
    scope = doc.sel.css("#detail, .detail-box, .item-main-container, main, article") or doc.sel.xpath("//body")
    extra = {"format": "item_detail", **_book_facts(doc)}
    return ParsedPage(
        state="ok",
        title=title,
        account=seller or None,
        price=price,
        seller_location=location or None,
        text=text or title,
        published_at=parse_datetime(doc.first_text(*TIME_QUERIES)),
        images=collect_images(doc, scope[:1])[:50],
        links=collect_links(doc, scope[:1]),
        extra={k: v for k, v in extra.items() if v},
    )


def _price(doc: Document, text: str) -> float | None:
    for query in PRICE_QUERIES:
        for node in doc.sel.css(query):
            value = parse_price(node_text(node))
            if value is not None:
                return value
    meta = doc.meta("product:price:amount", "og:price:amount", "price")
    return parse_price(meta) if meta else currency_price(text)


def _labelled(text: str, field: str) -> str:
    match = _LABELLED_RE[field].search(text)
    return clean_line(match.group(1)) if match else ""


def _book_facts(doc: Document) -> dict:
    facts = {}
    for row in doc.sel.xpath("//li[.//*[contains(@class,'label')]] | //dl[dt]"):
        label = clean_line(" ".join(row.xpath("./*[contains(@class,'label')]//text() | ./dt//text()").getall()))
        value = clean_line(" ".join(row.xpath("./*[contains(@class,'text')]//text() | ./dd//text()").getall()))
        key = BOOK_LABELS.get(label.rstrip("：:").strip())
        if key and value:
            facts[key] = value
    return facts
