"""An item detail page of a shop (Taobao, Tmall, JD, 当当, 孔夫子, 闲鱼-like): title, price, shop,
seller, location, description and parameters.

Item pages carry much besides the item: the mall's logo in an <h1>, sidebar recommendations with
their own prices, "看了又看" strips. So fields are read from the main item first: the element the
known layouts put the item in (MAIN_ITEM_QUERIES), with each layout's own markers; only then from
the whole page, schema.org/Open Graph metadata, and labelled lines in the text ("所在地：…", "¥ 25.00").
A page whose price could only be guessed among many unmarked ones is "unknown_layout", not a guess.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from crawlers.parsers.htmlutil import Document, attr, collect_images, collect_links, main_block, node_text
from crawlers.parsers.model import ParsedPage
from crawlers.parsers.textutil import clean_line, currency_price, first_nonempty, parse_datetime, parse_price

# The element holding the main item in the layouts we know: Taobao (.tb-item-info), Tmall (#J_DetailMeta,
# 2023+ [class*=ItemHeader]/[class*=BasicContent]), JD (.product-intro, .itemInfo-wrap), 当当 (.product_main).
MAIN_ITEM_QUERIES = (
    "#J_DetailMeta",
    ".tb-item-info",
    "#J_Title",
    "[class*=BasicContent--]",
    ".product-intro",
    ".itemInfo-wrap",
    ".product_main",
    "#detail",
    ".detail-box",
    ".item-main-container",
)
# Specific markers, main item first: a match here is a known layout.
TITLE_QUERIES = (
    ".tb-main-title::attr(data-title)",
    ".tb-main-title",
    ".tb-detail-hd h1",
    "h1[data-spm='1000983']",
    "[class*=ItemHeader--mainTitle]",
    "[class*=mainTitle--]",
    ".sku-name",
    ".name_info h1::attr(title)",
    ".name_info h1",
    "h1.detail-title",
    ".item-title",
    "[itemprop=name]",
    ".product-title",
    ".goods-title",
)
PRICE_QUERIES = (
    "#J_StrPrice .tb-rmb-num",
    ".tb-rmb-num",
    "#J_PromoPrice .tm-price",
    ".tm-promo-price .tm-price",
    "#J_StrPriceModBox .tm-price",
    ".tm-price-panel .tm-price",
    ".tm-price",
    "[class*=Price--priceText]",
    "[class*=highlightPrice] [class*=text--]",
    "#J_PromoPriceNum",
    ".summary-price .p-price .price",
    ".p-price .price",
    "#dd-price",
    ".now-price-text",
    ".item-price",
    "[itemprop=price]::attr(content)",
    "[itemprop=price]",
)
# Guesses: any price-looking element. Used only when one is unambiguous (see AMBIGUOUS_PRICES).
LOOSE_PRICE_QUERIES = (".price .number", ".price", "[class*=price]")
AMBIGUOUS_PRICES = 3
# The shop's name; the seller's nickname (Taobao's 掌柜, the 旺旺 nick) is another field.
SHOP_QUERIES = (
    ".shop-name-link",
    ".tb-shop-name a::attr(title)",
    ".tb-shop-name a",
    ".slogo-shopname",
    "#shopExtra .slogo-shopname strong",
    "[class*=ShopHeader--shopName]",
    "[class*=shopName--]",
    ".J-hove-wrap .name a",
    ".shopName .name",
    "a.shop-name",
    ".shop-name",
    ".item-seller",
    "[itemprop=seller]",
    "[class*=shop-name]",
    "[class*=shopName]",
)
SELLER_NICK_QUERIES = (
    ".tb-seller-name",
    ".J_WangWang::attr(data-nick)",
    "[data-nick]::attr(data-nick)",
    "input[name=seller_nickname]::attr(value)",
    "[class*=seller-name]",
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
# Parameter lists: Taobao/Tmall 宝贝参数, JD 规格, 当当 详情.
PARAM_QUERIES = (
    "#attributes .attributes-list li",
    "#J_AttrUL li",
    ".parameter2 li",
    "[class*=Attrs--attr]",
    ".p-parameter-list li",
    "#detail_describe li",
)
TIME_QUERIES = (".item-time", "time::attr(datetime)", "time", ".pub-time", ".publish-time")
# Title suffixes shops append to <title>.
_TITLE_SUFFIX_RE = re.compile(
    r"\s*[-_|–—]\s*(淘宝网|天猫|孔夫子旧书网|闲鱼|京东|当当|tmall\.com.*|taobao\.com.*|.*京东商城.*)$", re.I
)
_LABELLED_RE = {
    "seller": re.compile(r"(?:掌柜|卖家|店铺|书店)\s*[:：]\s*([^\n,，;；|]{1,40})"),
    "location": re.compile(r"(?:所在地区?|发货地|宝贝所在地|配送)\s*[:：]\s*([^\n,，;；|]{1,40})"),
}
# Labels of book facts (孔夫子 item pages) and the extra keys they are stored under.
BOOK_LABELS = {"作者": "book_author", "出版社": "press", "出版时间": "pub_date", "ISBN": "isbn", "品相": "quality"}
_RANGE_RE = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*[-~～至]\s*(\d[\d,]*(?:\.\d+)?)")
# An HTML shell whose results or item arrive by script: little visible text and one of the app roots.
SHELL_ROOTS = ("#ice-container", "#root", "#app", "#__next", "#J_ItemList", "#mainsrp-itemlist")
SHELL_MAX_TEXT = 120
SEARCH_HINTS = ("search", "/list", "s.taobao.com", "keyword=", "q=")


def parse_item_detail(doc: Document) -> ParsedPage:
    if not doc.sel.xpath("//body//*"):
        return ParsedPage(state="error", title=doc.title_tag(), extra={"error": "no HTML content"})
    scope = _main_item(doc)
    title_marked = _first_text(doc, scope, TITLE_QUERIES)
    # An unmarked <h1> comes last: on mall pages the first one is the mall's logo.
    title = first_nonempty(
        title_marked, doc.meta("og:title"), _TITLE_SUFFIX_RE.sub("", doc.title_tag()), lambda: doc.first_text("h1")
    )
    description = doc.sel.css(", ".join(DESCRIPTION_QUERIES))
    block = description[0] if description else main_block(doc)
    desc_text = node_text(block) if block is not None else ""
    price, price_text, price_how = _price(doc, scope, desc_text)
    if price is None:
        shell = _script_shell(doc)
        if shell:
            return shell
        # A page without a price is not an item on sale (a login wall, an error page, another site).
        return ParsedPage(
            state="error",
            title=doc.title_tag(),
            text=desc_text,
            extra={"error": "no item price found: not a shop item page"},
        )
    if price_how == "guess" and not title_marked:
        loose = _price_elements(doc)
        if loose >= AMBIGUOUS_PRICES:
            return ParsedPage(
                state="unknown_layout",
                title=doc.title_tag(),
                extra={
                    "reason": f"no known item markers; {loose} price elements on the page, none marked as the item's",
                    "format": "item_detail",
                },
            )
    body_text = node_text(doc.sel.xpath("//body")[0])
    shop = first_nonempty(
        _first_text(doc, scope, SHOP_QUERIES), doc.meta("og:site_name"), _labelled(body_text, "seller")
    )
    nick = _first_text(doc, scope, SELLER_NICK_QUERIES)
    location = first_nonempty(doc.first_text(*LOCATION_QUERIES), _labelled(body_text, "location"))
    params = _params(doc)
    extra = {
        "format": "item_detail",
        "seller_nick": nick if nick and nick != shop else None,
        "shop_name": shop or None,
        "params": params or None,
        "price_text": price_text if price_text and _RANGE_RE.search(price_text) else None,
        "price_range": _price_range(price_text),
        "item_id": _item_id(doc.url),
        **_book_facts(doc),
    }
    parts = [title] + [f"{k}: {v}" for k, v in (params or {}).items()] + [desc_text]
    text = "\n".join(dict.fromkeys(p for p in parts if p))
    image_scope = doc.sel.css("#detail, .detail-box, .item-main-container, main, article") or doc.sel.xpath("//body")
    return ParsedPage(
        state="ok",
        title=title,
        account=shop or nick or None,
        price=price,
        seller_location=location or None,
        text=text or title,
        published_at=parse_datetime(doc.first_text(*TIME_QUERIES)),
        images=collect_images(doc, image_scope[:1])[:50],
        links=collect_links(doc, image_scope[:1]),
        extra={k: v for k, v in extra.items() if v},
    )


def _main_item(doc: Document):
    for query in MAIN_ITEM_QUERIES:
        found = doc.sel.css(query)
        if found:
            return found[0]
    return None


def _first_text(doc: Document, scope, queries) -> str:
    """The first non-empty match, looked for inside the main item first, then in the whole page."""
    for where in ((scope,) if scope is not None else ()) + (doc.sel,):
        for query in queries:
            for node in where.css(query):
                value = node_text(node)
                if value:
                    return value
    return ""


def _price(doc: Document, scope, text: str) -> tuple[float | None, str, str]:
    """(price, the text it was read from, "marked" | "meta" | "guess")."""
    for where in ((scope,) if scope is not None else ()) + (doc.sel,):
        for query in PRICE_QUERIES:
            for node in where.css(query):
                raw = node_text(node)
                value = parse_price(raw)
                if value is not None:
                    return value, raw, "marked"
    meta = doc.meta("product:price:amount", "og:price:amount", "price")
    if meta and parse_price(meta) is not None:
        return parse_price(meta), meta, "meta"
    for query in LOOSE_PRICE_QUERIES:
        for node in doc.sel.css(query):
            raw = node_text(node)
            value = parse_price(raw)
            if value is not None:
                return value, raw, "guess"
    value = currency_price(text)
    return value, "", "guess" if value is not None else ""


def _price_elements(doc: Document) -> int:
    """How many distinct leaf elements on the page show a price-like amount."""
    seen = set()
    for node in doc.sel.css("[class*=price]"):
        if node.css("[class*=price]")[1:]:
            continue  # a wrapper: its inner price elements are counted
        value = parse_price(node_text(node))
        if value is not None:
            seen.add((id(node.root), value))
    return len({value for _, value in seen})


def _price_range(text: str) -> list[float] | None:
    match = _RANGE_RE.search(text or "")
    if not match:
        return None
    low, high = parse_price(match.group(1)), parse_price(match.group(2))
    return [low, high] if low is not None and high is not None else None


def _params(doc: Document) -> dict[str, str]:
    params: dict[str, str] = {}
    for query in PARAM_QUERIES:
        for node in doc.sel.css(query):
            line = node_text(node)
            name, sep, value = line.partition(":")
            if not sep:
                name, sep, value = line.partition("：")
            name, value = clean_line(name), clean_line(value) or clean_line(attr(node, "title"))
            if sep and name and value and name not in params:
                params[name] = value
        if params:
            break
    return params


def _script_shell(doc: Document) -> ParsedPage | None:
    """An HTML page whose results (or item) load by script: nothing to read until it is rendered."""
    body = doc.sel.xpath("//body")
    text = node_text(body[0]) if body else ""
    has_script = bool(doc.sel.xpath("//script"))
    if not has_script or len(text) > SHELL_MAX_TEXT * 4:
        return None
    empty_root = any(not node_text(node) for q in SHELL_ROOTS for node in doc.sel.css(q))
    url = (doc.url or "").lower()
    searchy = any(hint in url for hint in SEARCH_HINTS) or "搜索" in doc.title_tag()
    if not (empty_root or (searchy and len(text) <= SHELL_MAX_TEXT * 4)):
        return None
    what = "search page with no results" if searchy else "page with no content"
    return ParsedPage(
        state="needs_render",
        title=doc.title_tag(),
        text=text,
        extra={
            "reason": f"{what} in its HTML: it loads them by script. Set render = true on this source "
            "(sources.toml) to crawl it in a browser",
            "listing": searchy,
        },
    )


def _item_id(url: str) -> str | None:
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return None
    query = parse_qs(parts.query)
    for key in ("id", "itemId", "item_id"):
        if query.get(key):
            return query[key][0]
    match = re.search(r"/(\d{5,20})\.html?$", parts.path)
    return match.group(1) if match else None


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
