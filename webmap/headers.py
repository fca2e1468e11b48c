"""Security headers on every response, set by flask-talisman: a Content-Security-Policy, nosniff, no
framing, a same-origin Referrer-Policy.

The policy allows scripts from this site and, inline, only with the request's nonce: Folium writes its
map as inline scripts, so the templates give those (and only those) the nonce, with `csp_nonce()` on a
`<script>` they write and the `nonced` filter on the Folium header they embed. Styles may be inline
(Leaflet and our markers set style attributes); images come from this site, data: URIs and the hosts
of the configured tile server (`[webmap] tile_provider` and its URL), nothing else. Crawled pages are
only ever linked, never framed or fetched by the browser.

Talisman's HTTPS redirect and HSTS follow `[webmap] secure_cookies`; the server banner is not ours to
set here (see webmap/cli.py and webmap/README.md).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, request
from flask_talisman import Talisman
from markupsafe import Markup

from core.errors import ConfigError
from webmap.services import map_page

_SCRIPT_OPEN = re.compile(r"<script(?=[\s>])(?![^>]*\snonce=)", re.I)


def init_headers(app: Flask, cfg) -> Talisman:
    policy = {
        "default-src": "'self'",
        "script-src": "'self'",  # + 'nonce-…' per response (content_security_policy_nonce_in)
        "style-src": "'self' 'unsafe-inline'",
        "img-src": " ".join(["'self'", "data:", *tile_origins(cfg)]),
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    secure = bool(cfg.webmap.secure_cookies)
    talisman = Talisman(
        app,
        content_security_policy=policy,
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="same-origin",  # the crawled sites never learn the app's address from a click
        force_https=False,  # TLS ends at the proxy; redirecting here would loop behind one that hides it
        strict_transport_security=secure,  # sent only on HTTPS requests anyway
        session_cookie_secure=secure,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        x_content_type_options=True,
        permissions_policy={"browsing-topics": "()", "camera": "()", "microphone": "()", "geolocation": "()"},
    )
    app.jinja_env.filters["nonced"] = nonced
    return talisman


def nonced(html) -> Markup:
    """Folium's rendered header with the request's nonce on each `<script>` tag, so its inline setup
    runs under the policy. Use it only on HTML that Folium generated, never on crawled text."""
    nonce = getattr(request, "csp_nonce", "")
    return Markup(_SCRIPT_OPEN.sub(f'<script nonce="{nonce}"', str(html)))


def tile_origins(cfg) -> list[str]:
    """Scheme and host of every tile URL the map loads ({s} expanded over the subdomains)."""
    spec = map_page.tile_spec(cfg)
    if spec is None:
        return []
    origins: list[str] = []
    for url in filter(None, (spec.url, spec.overlay_url)):
        parts = urlsplit(url)
        hosts = [parts.netloc.replace("{s}", s) for s in spec.subdomains] if "{s}" in parts.netloc else [parts.netloc]
        for host in hosts:
            if not host or not re.fullmatch(r"[A-Za-z0-9.\-:\[\]]+", host):
                raise ConfigError(
                    f"tile URL {url!r}: the host must be a plain name or address (only {{s}} may vary in it)"
                )
            origin = f"{parts.scheme}://{host}" if parts.scheme else host
            if origin not in origins:
                origins.append(origin)
    return origins
