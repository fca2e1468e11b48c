"""Site-wide pages: the index of entry points, robots.txt, a disallowed area, and placeholder images."""

from __future__ import annotations

import base64

from flask import Blueprint, Response, render_template

from samplesite.state import site_state

bp = Blueprint("misc", __name__)
# Crawlers must not fetch anything under this prefix; tests check the statistics for it.
DISALLOWED_PREFIX = "/private/"
ROBOTS_TXT = f"""User-agent: *
Disallow: {DISALLOWED_PREFIX}
Disallow: /__admin__/

User-agent: BadBot
Disallow: /
"""
# A 1x1 grey GIF stands in for every product and article picture.
_PIXEL = base64.b64decode("R0lGODlhAQABAIAAAMzMzAAAACH5BAAAAAAALAAAAAABAAEAAAICRAEAOw==")


@bp.get("/")
def index():
    store = site_state().store
    counts = {channel: len(store.channel(channel)) for channel in ("wechat", "shop", "kongfz", "goofish")}
    return render_template(
        "index.html", counts=counts, accounts=sorted(store.accounts().values(), key=lambda a: a["id"])
    )


@bp.get("/robots.txt")
def robots():
    return Response(ROBOTS_TXT, mimetype="text/plain")


@bp.get(DISALLOWED_PREFIX)
@bp.get(DISALLOWED_PREFIX + "<path:name>")
def private(name: str = ""):
    return render_template("private.html", name=name)


@bp.get("/static/img/<name>")
def image(name: str):
    return Response(_PIXEL, mimetype="image/gif", headers={"Cache-Control": "max-age=86400"})
