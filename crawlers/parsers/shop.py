"""Shop pages, told apart by content: a JSON body (孔夫子 search API, or a JSON item such as 闲鱼's),
a Taobao-style search page whose results are JSON in `g_page_config`, a search or category page in
HTML (a run of results with item ids, such as JD's), or else an item detail page. A search page
whose results load by script is "needs_render".
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from crawlers.parsers.htmlutil import Document
from crawlers.parsers.jsvars import decode_json_at
from crawlers.parsers.model import ListingItem, ParsedPage
from crawlers.parsers.shop_detail import MAIN_ITEM_QUERIES, parse_item_detail
from crawlers.parsers.shop_html_listing import parse_html_listing, result_rows
from crawlers.parsers.textutil import clean_line, first_nonempty, from_unix, parse_datetime, parse_price

BASE_URL = "https://s.taobao.com/search"
_TAG_RE = re.compile(r"<[^>]+>")
_JSONP_RE = re.compile(r"^\s*[\w$.]+\s*\(\s*(?=[\[{])")
PAGE_CONFIG_MARKER = "g_page_config"


def parse_shop(doc: Document, selectors: dict | None = None) -> ParsedPage:
    stripped = doc.text.lstrip()
    if stripped[:1] in "{[" or _JSONP_RE.match(stripped):
        return _json_page(doc, stripped)
    marker = doc.text.find(PAGE_CONFIG_MARKER)
    if marker >= 0:
        config = _page_config(doc.text, marker)
        if isinstance(config, dict) and isinstance(config.get("mods"), dict):
            return _taobao(doc, config)
    # A search or category page in HTML is known by its run of results, each with its own item id;
    # an item page's recommendation strips are smaller and sit beside a main item.
    rows, id_attr = result_rows(doc)
    if rows and not (len(rows) < 2 * HTML_LISTING_MIN_BESIDE_ITEM and _has_main_item(doc)):
        return parse_html_listing(doc, rows, id_attr)
    return parse_item_detail(doc)


# An item page may carry a strip of recommendations with item ids; with a main item present, only a
# run of at least twice this many results makes it a listing.
HTML_LISTING_MIN_BESIDE_ITEM = 10


def _has_main_item(doc: Document) -> bool:
    return any(doc.sel.css(query) for query in MAIN_ITEM_QUERIES[:7])


def _json_page(doc: Document, stripped: str) -> ParsedPage:
    jsonp = _JSONP_RE.match(stripped)
    try:
        data, _ = json.JSONDecoder().raw_decode(stripped, jsonp.end() if jsonp else 0)
    except ValueError as exc:
        return ParsedPage(state="error", extra={"error": f"invalid JSON: {exc}"})
    payload = data.get("data") if isinstance(data, dict) else None
    if isinstance(payload, dict) and isinstance(payload.get("itemResponse"), dict):
        return _kongfz(doc, payload)
    if isinstance(data, dict) and isinstance(data.get("mods"), dict):
        return _taobao(doc, data)
    if isinstance(payload, dict) and payload.get("title") and ("soldPrice" in payload or "price" in payload):
        return _json_item(doc, payload)
    return ParsedPage(state="error", extra={"error": "JSON body is not a known shop listing or item"})


def _page_config(text: str, marker: int) -> object | None:
    equals = text.find("=", marker, marker + 64)
    return decode_json_at(text, equals + 1) if equals >= 0 else None


def _taobao(doc: Document, config: dict) -> ParsedPage:
    mods = config["mods"]
    data = (mods.get("itemlist") or {}).get("data") or {}
    auctions = [a for a in data.get("auctions") or [] if isinstance(a, dict)]
    items = [_auction(doc, a) for a in auctions]
    pager = (mods.get("pager") or {}).get("data") or {}
    current_url = (config.get("mainInfo") or {}).get("currentUrl") or ""
    query = clean_line(data.get("query") or _param(doc.url, "q") or _param(current_url, "q"))
    extra = {
        "format": "taobao_g_page_config",
        "query": query,
        "page_name": config.get("pageName"),
        "total_count": _int(pager.get("totalCount")),
        "current_page": _int(pager.get("currentPage")),
        "total_pages": _int(pager.get("totalPage")),
    }
    title = first_nonempty(doc.title_tag(), f"{query}_淘宝搜索" if query else "")
    if not items:
        return ParsedPage(state="empty", title=title, extra={**extra, "reason": "no results"})
    return ParsedPage(
        state="ok",
        title=title,
        items=items,
        text=_listing_text(items),
        links=[i.url for i in items if i.url],
        next_page=_taobao_next(doc, pager, current_url),
        extra={k: v for k, v in extra.items() if v not in (None, "")},
    )


def _auction(doc: Document, a: dict) -> ListingItem:
    raw_title = clean_line(html.unescape(a.get("raw_title") or _TAG_RE.sub("", str(a.get("title") or ""))))
    keep = (
        "raw_title",
        "view_price",
        "item_loc",
        "nick",
        "detail_url",
        "view_sales",
        "view_fee",
        "comment_count",
        "user_id",
        "nid",
        "pic_url",
        "category",
    )
    extra = {key: a[key] for key in keep if a.get(key) not in (None, "")}
    extra["raw_title"] = raw_title
    extra["id"] = str(a.get("nid") or "")
    return ListingItem(
        url=doc.absolute(a.get("detail_url")),
        title=raw_title,
        price=parse_price(a.get("view_price")),
        seller=clean_line(a.get("nick")),
        location=clean_line(a.get("item_loc")),
        snippet=clean_line(a.get("view_sales")),
        extra=extra,
    )


def _taobao_next(doc: Document, pager: dict, current_url: str) -> str | None:
    page, pages, size = _int(pager.get("currentPage")), _int(pager.get("totalPage")), _int(pager.get("pageSize"))
    if not (page and pages and size) or page >= pages:
        return None
    base = doc.url if urlsplit(doc.url).scheme in ("http", "https") else doc.absolute(current_url)
    return _with_params(base, s=page * size) if base else None


def _kongfz(doc: Document, payload: dict) -> ParsedPage:
    response = payload["itemResponse"]
    records = [r for r in response.get("list") or [] if isinstance(r, dict)]
    items = [_kongfz_item(doc, r) for r in records]
    pager = response.get("pager") or {}
    query = clean_line(
        _param(doc.url, "keyword") or next((str((r.get("cardMetrics") or {}).get("key") or "") for r in records), "")
    )
    extra = {
        "format": "kongfz_search_api",
        "query": query,
        "total_found": _int(payload.get("totalFound", response.get("total"))),
        "current_page": _int(pager.get("page")),
        "total_pages": _int(pager.get("pages")),
    }
    title = f"{query}_孔夫子旧书网" if query else "孔夫子旧书网搜索"
    if not items:
        return ParsedPage(state="empty", title=title, extra={**extra, "reason": "no results"})
    next_page = None
    if (
        extra["current_page"]
        and extra["total_pages"]
        and extra["current_page"] < extra["total_pages"]
        and urlsplit(doc.url).scheme in ("http", "https")
    ):
        next_page = _with_params(doc.url, page=extra["current_page"] + 1)
    return ParsedPage(
        state="ok",
        title=title,
        items=items,
        text=_listing_text(items),
        next_page=next_page,
        links=[i.url for i in items if i.url],
        images=[i.extra["image"] for i in items if i.extra.get("image")],
        extra={k: v for k, v in extra.items() if v not in (None, "")},
    )


def _kongfz_item(doc: Document, r: dict) -> ListingItem:
    link = (r.get("link") or {}).get("pc") or ""
    keep = (
        "title",
        "author",
        "press",
        "pubDateText",
        "isbn",
        "quality",
        "qualityText",
        "price",
        "priceText",
        "shopName",
        "shopAreaText",
        "showTimeText",
        "itemId",
        "shopId",
        "isSoldOut",
        "shopNickName",
        "importantDesc",
    )
    extra = {key: r[key] for key in keep if r.get(key) not in (None, "")}
    extra.update(
        {
            "id": str(r.get("itemId") or ""),
            "link.pc": link,
            "image": doc.absolute(r.get("imgBigUrl") or r.get("imgUrl")),
            "postage": [
                s.get("shippingText")
                for s in (r.get("postage") or {}).get("shippingList") or []
                if isinstance(s, dict) and s.get("shippingText")
            ],
            "item_features": _json_string((r.get("cardMetrics") or {}).get("itemFeatures")),
        }
    )
    details = " / ".join(
        clean_line(str(r.get(k) or "")) for k in ("author", "press", "pubDateText", "qualityText") if r.get(k)
    )
    # importantDesc is the seller's own note on the copy: often where "影印" or "PDF" shows up.
    snippet = "\n".join(part for part in (details, clean_line(r.get("importantDesc"))) if part)
    return ListingItem(
        url=doc.absolute(link),
        title=clean_line(r.get("title")),
        price=parse_price(r.get("price")),
        seller=clean_line(r.get("shopName")),
        location=clean_line(r.get("shopAreaText")),
        snippet=snippet,
        published_at=parse_datetime(r.get("showTimeText")),
        extra={k: v for k, v in extra.items() if v not in (None, "", [])},
    )


def _json_item(doc: Document, d: dict) -> ParsedPage:
    """A single item delivered as JSON (the 闲鱼 item API)."""
    price = parse_price(d.get("soldPrice", d.get("price")))
    published = from_unix(d.get("gmtCreate")) or parse_datetime(d.get("gmtCreateText"))
    title = clean_line(d.get("title"))
    return ParsedPage(
        state="ok",
        title=title,
        text=clean_line(d.get("desc")) or title,
        price=price,
        account=clean_line(d.get("sellerNick")) or None,
        seller_location=clean_line(d.get("area")) or None,
        published_at=published,
        extra={"format": "json_item", "item_id": str(d.get("itemId") or ""), "seller_id": str(d.get("sellerId") or "")},
    )


def _listing_text(items: list[ListingItem]) -> str:
    lines = []
    for item in items:
        parts = [item.title, f"¥{item.price:.2f}" if item.price is not None else "", item.seller, item.location]
        lines.append(" | ".join(p for p in parts if p))
    return "\n".join(lines)


def _json_string(value) -> object | None:
    if not isinstance(value, str) or not value.strip():
        return value or None
    try:
        return json.loads(value)
    except ValueError:
        return value


def _param(url: str, name: str) -> str:
    try:
        values = parse_qs(urlsplit(url or "").query).get(name)
    except ValueError:
        return ""
    return values[0] if values else ""


def _with_params(url: str, **params) -> str:
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    query.update({k: str(v) for k, v in params.items()})
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
