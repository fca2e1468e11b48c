"""Shop look-alikes: Taobao search (g_page_config JSON) and items, the 孔夫子 search API and book
pages, and a 闲鱼 listing whose item pages exist only after JavaScript ran."""

from __future__ import annotations

import datetime as dt
import math
from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request

from samplesite.content import paragraphs, summary
from samplesite.state import site_state

bp = Blueprint("shop", __name__)
SHOP_PAGE_SIZE = 20
KONGFZ_PAGE_SIZE = 20
GOOFISH_PAGE_SIZE = 20
_CST = dt.timezone(dt.timedelta(hours=8))


@bp.get("/shop/search")
def shop_search():
    query = request.args.get("q", "").strip()
    offset = _int_arg("s", 0, minimum=0)
    hits = _by_seller(site_state().store.search("shop", query), request.args.get("seller"))
    shown = hits[offset : offset + SHOP_PAGE_SIZE]
    host = request.host
    pager = {
        "pageSize": SHOP_PAGE_SIZE,
        "totalPage": max(1, math.ceil(len(hits) / SHOP_PAGE_SIZE)),
        "currentPage": offset // SHOP_PAGE_SIZE + 1,
        "totalCount": len(hits),
    }
    page_config = {
        "pageName": "mainsrp",
        "mods": {
            "itemlist": {
                "status": "show",
                "data": {"postFeeText": "运费", "query": query, "auctions": [_auction(p, host) for p in shown]},
            },
            "pager": {"status": "show", "data": pager},
        },
        "mainInfo": {"currentUrl": f"//{host}/shop/search?" + urlencode({"q": query, "s": offset})},
    }
    return render_template("shop_search.html", query=query, page_config=page_config)


@bp.get("/shop/item/<item_id>")
def shop_item(item_id: str):
    post = _post_or_404("shop", item_id)
    return render_template(
        "shop_item.html", post=post, price=_money(post["price"]), paragraphs=paragraphs(post), digest=summary(post, 80)
    )


@bp.get("/kongfz/search")
def kongfz_search():
    query = request.args.get("keyword", "").strip()
    page = _int_arg("page", 1, minimum=1)
    hits = _by_seller(site_state().store.search("kongfz", query), request.args.get("shop"))
    shown = hits[(page - 1) * KONGFZ_PAGE_SIZE : page * KONGFZ_PAGE_SIZE]
    pager = {
        "page": page,
        "size": KONGFZ_PAGE_SIZE,
        "total": len(hits),
        "pages": max(1, math.ceil(len(hits) / KONGFZ_PAGE_SIZE)),
    }
    items = [_kongfz_item(p, request.host_url.rstrip("/"), query, i) for i, p in enumerate(shown)]
    return {
        "status": 1,
        "errType": "",
        "message": "",
        "systemTime": int(dt.datetime.now().timestamp() * 1000),
        "data": {
            "totalFound": len(hits),
            "totalFoundText": str(len(hits)),
            "itemResponse": {"total": len(hits), "list": items, "pager": pager, "attachData": {}},
            "isProhibited": False,
        },
    }


@bp.get("/kongfz/book/<shop_id>/<item_id>")
def kongfz_item(shop_id: str, item_id: str):
    post = _post_or_404("kongfz", item_id)
    if str(post["account"]["id"]) != shop_id:
        abort(404)
    return render_template(
        "kongfz_item.html", post=post, book=post["book"], price=_money(post["price"]), paragraphs=paragraphs(post)
    )


@bp.get("/goofish/search")
def goofish_search():
    query = request.args.get("q", "").strip()
    page = _int_arg("page", 1, minimum=1)
    hits = site_state().store.search("goofish", query)
    pages = max(1, math.ceil(len(hits) / GOOFISH_PAGE_SIZE))
    shown = hits[(page - 1) * GOOFISH_PAGE_SIZE : page * GOOFISH_PAGE_SIZE]
    next_href = "?" + urlencode({"q": query, "page": page + 1}) if page < pages else None
    items = [
        {"key": p["key"], "title": p["title"], "price": _money(p["price"]), "location": p["location"]} for p in shown
    ]
    return render_template("goofish_list.html", query=query, items=items, page=page, next_href=next_href)


@bp.get("/goofish/item/<item_id>")
def goofish_item(item_id: str):
    _post_or_404("goofish", item_id)
    return render_template("goofish_item.html")


@bp.get("/api/goofish/item/<item_id>")
def goofish_api(item_id: str):
    post = _post_or_404("goofish", item_id)
    published = dt.datetime.fromtimestamp(post["published_at"], _CST)
    return {
        "ret": ["SUCCESS::调用成功"],
        "data": {
            "itemId": post["key"],
            "title": post["title"],
            "desc": post["text"],
            "soldPrice": _money(post["price"]),
            "sellerId": post["account"]["id"],
            "sellerNick": post["account"]["name"],
            "area": post["location"],
            "gmtCreate": post["published_at"] * 1000,
            "gmtCreateText": published.strftime("%Y-%m-%d %H:%M"),
        },
    }


def _auction(post: dict, host: str) -> dict:
    return {
        "nid": post["key"],
        "raw_title": post["title"],
        "title": post["title"],
        "pic_url": f"//{host}/static/img/{post['key']}.jpg",
        "detail_url": f"//{host}/shop/item/{post['key']}",
        "view_price": _money(post["price"]),
        "view_fee": _money(post.get("shipping_fee", 0)),
        "item_loc": post["location"],
        "view_sales": post.get("sales", "0人付款"),
        "user_id": post["account"]["id"],
        "nick": post["account"]["name"],
        "shopLink": f"//{host}/shop/search?q=&seller={post['account']['id']}",
    }


def _kongfz_item(post: dict, base: str, query: str, position: int) -> dict:
    book, shop = post["book"], post["account"]
    published = dt.datetime.fromtimestamp(post["published_at"], _CST)
    return {
        "itemId": int(post["key"]),
        "title": post["title"],
        "author": book["author"],
        "press": book["press"],
        "pubDateText": book["pub_date"],
        "isbn": book["isbn"],
        "isSoldOut": False,
        "quality": book["quality"],
        "qualityText": book["quality_text"],
        "price": float(post["price"]),
        "priceText": _money(post["price"]),
        "importantDesc": summary(post, 60),
        "showTimeText": published.strftime("%Y-%m-%d") + " 上书",
        "link": {"pc": f"{base}/kongfz/book/{shop['id']}/{post['key']}", "app": None, "mp": None, "h5": None},
        "shopName": shop["name"],
        "shopId": int(shop["id"]),
        "shopAreaText": shop["area"],
        "shopNickName": shop.get("nick", ""),
        "shopLink": {"pc": f"{base}/kongfz/search?keyword=&shop={shop['id']}", "app": None, "mp": None, "h5": None},
        "postage": {"shippingList": [_shipping(post.get("shipping_fee", 8.0))], "sellerPayFreight": False},
        "orderIndex": position,
        "cardMetrics": {
            "key": query,
            "itemid": post["key"],
            "res_pos": str(position),
            "isbn": book["isbn"],
            "itemname": post["title"],
        },
    }


def _shipping(fee: float) -> dict:
    return {
        "shippingId": "registerPost",
        "shippingFee": float(fee),
        "shippingName": "挂号印刷品",
        "shippingFeeText": f"￥{fee:.2f}",
        "shippingText": f"挂号印刷品￥{fee:.2f}",
    }


def _by_seller(posts: list[dict], seller: str | None) -> list[dict]:
    return [p for p in posts if str(p["account"]["id"]) == seller] if seller else posts


def _post_or_404(channel: str, key: str) -> dict:
    post = site_state().store.find(channel, key)
    if post is None:
        abort(404)
    return post


def _money(value) -> str:
    return f"{float(value):.2f}"


def _int_arg(name: str, default: int, minimum: int) -> int:
    try:
        return max(minimum, int(request.args.get(name, default)))
    except ValueError:
        return default
