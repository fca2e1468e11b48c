"""mp.weixin.qq.com look-alike: articles at /s/<token>, their error pages, and account histories."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math

from flask import Blueprint, abort, render_template, request, url_for

from samplesite.content import paragraphs, summary
from samplesite.state import site_state

bp = Blueprint("wechat", __name__)
PROFILE_PAGE_SIZE = 10
# Shown under 此内容因违规无法查看, as WeChat names the rule a complaint was upheld under.
VIOLATION_REASON = "违反《即时通信工具公众信息服务发展管理暂行规定》"
# The large page pads its head with inline script, as the real 2026 article carries ~3 MB of it.
LARGE_PAGE_BYTES = 4 * 1024 * 1024


@bp.get("/s/<token>")
def article(token: str):
    post = site_state().store.find("wechat", token)
    if post is None:
        abort(404)
    status = post.get("status", "ok")
    if status == "deleted":
        return render_template("wechat_error.html", kind="deleted")
    if status == "violation":
        return render_template("wechat_error.html", kind="violation", reason=VIOLATION_REASON)
    if status == "expired":
        return render_template("wechat_expired.html")
    if status == "unavailable":
        return render_template("wechat_unavailable.html")
    return _render_article(post)


@bp.get("/profile/<account_id>")
def profile(account_id: str):
    store = site_state().store
    account = store.accounts().get(account_id)
    if account is None:
        abort(404)
    # Deleted and removed articles drop out of the history, though search engines still list them.
    posts = [p for p in store.by_account(account_id) if p.get("status", "ok") not in ("deleted", "violation")]
    page, pages, shown = _page_of(posts, request.args.get("page", "1"), PROFILE_PAGE_SIZE)
    items = [_history_item(p) for p in shown]
    next_url = url_for(".profile", account_id=account_id, page=page + 1) if page < pages else None
    return render_template(
        "wechat_profile.html",
        account=account,
        items=items,
        page=page,
        pages=pages,
        next_url=next_url,
        msg_list={"list": [_msg_list_entry(p) for p in shown]},
    )


def article_path(post: dict) -> str:
    return f"/s/{post['key']}"


def _render_article(post: dict):
    markup = post.get("markup", "normal")
    template = "wechat_article_malformed.html" if markup == "malformed" else "wechat_article.html"
    return render_template(
        template,
        post=post,
        paragraphs=paragraphs(post),
        digest=_digest(post),
        article_url=request.host_url.rstrip("/") + article_path(post),
        nonce=_nonce(post),
        padding=_padding() if markup == "large" else "",
    )


def _page_of(items: list, page_arg: str, size: int) -> tuple[int, int, list]:
    try:
        page = max(1, int(page_arg))
    except ValueError:
        page = 1
    pages = max(1, math.ceil(len(items) / size))
    return page, pages, items[(page - 1) * size : page * size]


def _history_item(post: dict) -> dict:
    return {
        "url": article_path(post),
        "title": post["title"],
        "digest": _digest(post),
        "mid": post["mid"],
        "date": _local_date(post["published_at"]),
    }


def _msg_list_entry(post: dict) -> dict:
    """One entry of `var msgList`, in the shape WeChat's profile history script reads."""
    return {
        "comm_msg_info": {
            "id": int(post["mid"]),
            "type": 49,
            "datetime": post["published_at"],
            "fakeid": post["account"]["biz"],
            "status": 2,
            "content": "",
        },
        "app_msg_ext_info": {
            "title": post["title"],
            "digest": _digest(post),
            "content_url": article_path(post),
            "author": post["author"],
            "copyright_stat": 11 if post.get("original") else 100,
            "is_multi": 0,
            "multi_app_msg_item_list": [],
            "del_flag": 1,
        },
    }


def _digest(post: dict) -> str:
    return summary(post, 54)


def _local_date(ts: int) -> str:
    local = dt.datetime.fromtimestamp(ts, dt.timezone(dt.timedelta(hours=8)))
    return f"{local.year}年{local.month}月{local.day}日"


def _nonce(post: dict) -> str:
    return str(int(hashlib.sha1(post["id"].encode()).hexdigest()[:8], 16))


@functools.cache
def _padding() -> str:
    # Deterministic script noise: the same bytes every fetch, so only an admin edit changes the page.
    line = (
        "        window.__wx_perf_report__ = window.__wx_perf_report__ || []; "
        "window.__wx_perf_report__.push({k: 'n%06d', v: '%s'});\n"
    )
    chunks, size, n = [], 0, 0
    while size < LARGE_PAGE_BYTES:
        chunk = line % (n, hashlib.md5(str(n).encode()).hexdigest() * 2)
        chunks.append(chunk)
        size += len(chunk)
        n += 1
    return "".join(chunks)
