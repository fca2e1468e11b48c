"""weixin.sogou.com look-alike: article search, /link redirects, and the antispider captcha page."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import math
from urllib.parse import quote, urlencode

from flask import Blueprint, abort, redirect, render_template, request
from markupsafe import Markup, escape

from samplesite.state import site_state

bp = Blueprint("sogou", __name__)
PAGE_SIZE = 10
PAGE_LINKS = 10
SNIPPET_CHARS = 80


@bp.get("/weixin")
def search():
    query = request.args.get("query", "").strip()
    page = _int_arg("page", 1)
    hits = site_state().store.search("wechat", query) if query else []
    pages = max(1, math.ceil(len(hits) / PAGE_SIZE))
    shown = hits[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    words = query.split()
    results = [_result(p, words, query) for p in shown]
    return render_template(
        "sogou_search.html",
        query=query,
        results=results,
        total=len(hits),
        page_links=_page_links(query, page, pages),
        next_href=_page_href(query, page + 1) if page < pages else None,
    )


@bp.get("/link")
def link():
    """Sogou hides result URLs behind /link?url=…; following it is the only way to the article."""
    try:
        target = _decode_link(request.args.get("url", ""))
    except ValueError:
        abort(400)
    return redirect(target, code=302)


@bp.get("/antispider/")
def antispider():
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
    return render_template(
        "sogou_antispider.html",
        ip=request.remote_addr,
        from_=request.args.get("from", ""),
        when=now.strftime("%Y.%m.%d %H:%M:%S"),
        tc=int(now.timestamp()),
    )


@bp.post("/antispider/thank.php")
def antispider_answer():
    # The sample site has no real captcha to solve: a crawler must back off, not type codes.
    return {"code": 3, "msg": "验证码输入错误, 请重新输入!"}


def redirect_to_antispider():
    """Where a client that searched too often is sent instead of its results."""
    original = request.full_path if request.query_string else request.path
    return redirect("/antispider/?from=" + quote(original, safe=""), code=302)


def encode_link(path: str) -> str:
    """The opaque /link?url=… token for a local path."""
    return base64.urlsafe_b64encode(path.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_link(token: str) -> str:
    try:
        path = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(token) from exc
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(token)
    return path


def _result(post: dict, words: list[str], query: str) -> dict:
    account = post["account"]
    common = {"type": 2, "query": query, "token": hashlib.md5(post["id"].encode()).hexdigest().upper()}
    return {
        "docid": hashlib.sha1(post["id"].encode()).hexdigest(),
        "link": "/link?" + urlencode({"url": encode_link(f"/s/{post['key']}"), **common}),
        "title_html": _highlight(post["title"], words),
        "snippet_html": _highlight(_snippet(post["text"], words), words),
        "ts": post["published_at"],
        "account_name": account["name"],
        "account_openid": account.get("openid", ""),
        "is_verified": 1 if account.get("verified") else 0,
        "account_link": "/link?" + urlencode({"url": encode_link(f"/profile/{account['id']}"), **common}),
    }


def _highlight(text: str, words: list[str]) -> Markup:
    html = str(escape(text))
    for word in sorted({str(escape(w)) for w in words if w}, key=len, reverse=True):
        html = _replace_casefold(html, word, "<em><!--red_beg-->{}<!--red_end--></em>")
    return Markup(html)


def _replace_casefold(html: str, word: str, wrap: str) -> str:
    out, lower, needle, i = [], html.lower(), word.lower(), 0
    while (j := lower.find(needle, i)) >= 0:
        out.append(html[i:j] + wrap.format(html[j : j + len(word)]))
        i = j + len(word)
    return "".join(out) + html[i:]


def _snippet(text: str, words: list[str]) -> str:
    flat = " ".join(text.split())
    pos = min([flat.lower().find(w.lower()) for w in words if w.lower() in flat.lower()] or [0])
    start = max(0, pos - 20)
    return flat[start : start + SNIPPET_CHARS] + ("..." if len(flat) > start + SNIPPET_CHARS else "")


def _page_links(query: str, page: int, pages: int) -> list[dict]:
    first = max(1, min(page - PAGE_LINKS // 2, pages - PAGE_LINKS + 1))
    return (
        [
            {"number": n, "current": n == page, "href": _page_href(query, n)}
            for n in range(first, min(pages, first + PAGE_LINKS - 1) + 1)
        ]
        if pages > 1
        else []
    )


def _page_href(query: str, page: int) -> str:
    return "?" + urlencode(
        {"query": query, "_sug_type_": "", "s_from": "input", "_sug_": "n", "type": 2, "page": page, "ie": "utf8"}
    )


def _int_arg(name: str, default: int) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except ValueError:
        return default
