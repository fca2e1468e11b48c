"""The sample network as one Flask app: blueprints per imitated site, plus the politeness traps.

Every request passes through `_before`: it is counted for /__admin__/stats, delayed by `latency_ms`,
refused with 429 when the client is over the rate limit, and sent to the antispider page when the
client searched too often. Admin paths are exempt from all of it so tests can always read stats.
"""

from __future__ import annotations

import time

from flask import Flask, g, request
from markupsafe import Markup

from samplesite import views_admin, views_hostile, views_misc, views_shop, views_sogou, views_wechat
from samplesite.state import SiteState, site_state
from samplesite.views_sogou import redirect_to_antispider

# Paths that count toward the Sogou captcha: searching and following result links.
CAPTCHA_PREFIXES = ("/weixin", "/link")
ADMIN_PREFIX = "/__admin__"


def create_app(state: SiteState) -> Flask:
    app = Flask(__name__, template_folder="templates")
    app.extensions["samplesite"] = state
    app.jinja_env.filters["wx_js"] = wx_js_string
    app.jinja_env.keep_trailing_newline = True
    for blueprint in (views_wechat.bp, views_sogou.bp, views_shop.bp, views_misc.bp, views_admin.bp, views_hostile.bp):
        app.register_blueprint(blueprint)
    app.before_request(_before)
    app.after_request(_after)
    return app


def wx_js_string(value: str) -> Markup:
    """Text for WeChat's `'…'.html(false)` JS strings: HTML entities inside a single-quoted literal."""
    for raw, entity in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ('"', "&quot;"),
        ("'", "&#39;"),
        ("\\", "\\\\"),
        ("\n", " "),
        ("\r", " "),
    ):
        value = value.replace(raw, entity)
    return Markup(value)


def _before():
    if request.path.startswith(ADMIN_PREFIX):
        return None
    state = site_state()
    g.counted = True
    g.arrived = time.monotonic()  # for the request log: when the client asked, before any latency
    if state.latency_ms:
        time.sleep(state.latency_ms / 1000)
    client = request.remote_addr or "unknown"
    if state.throttle.over_rate_limit(client):
        return _too_many_requests()
    if request.path.startswith(CAPTCHA_PREFIXES) and state.throttle.needs_captcha(client):
        return redirect_to_antispider()
    return None


def _after(response):
    if g.get("counted"):
        query = request.query_string.decode("latin-1")
        site_state().stats.record(request.path, query, response.status_code, arrived=g.get("arrived"))
    return response


def _too_many_requests():
    body = (
        "<html><head><title>429 Too Many Requests</title></head><body><h1>访问过于频繁</h1>"
        "<p>请求过于频繁，请稍后再试。</p></body></html>"
    )
    return body, 429, {"Retry-After": "1", "Content-Type": "text/html; charset=utf-8"}
