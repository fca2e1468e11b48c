"""Links to crawled and user-given URLs: only http and https become links (#12 finding 14).

A crawled page's URL is written by the people we investigate; `javascript:`, `data:` or `vbscript:`
there would run in an officer's session when clicked. Every template that links such a URL passes it
through the `safe_href` filter: the URL, normalised the way a browser reads it, when it is an absolute
http(s) URL with a host, else "" (the template then shows the URL as text). tests/security/
test_javascript_links.py scans the templates so no href/src/action takes any other value.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask

# What the URL parser of a browser (WHATWG URL standard) drops before reading the scheme: leading and
# trailing C0 controls and spaces, and every ASCII tab and newline anywhere.
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_HTTP = re.compile(r"https?://[^/\\?#\s]", re.I)


def safe_href(value) -> str:
    """`value` as a link target when it is an http or https URL with a host, else ""."""
    if not isinstance(value, str):
        return ""
    url = _TAB_NEWLINE.sub("", value.strip(_C0_AND_SPACE))
    if not _HTTP.match(url) or any(ord(c) < 0x20 or c == "\x7f" for c in url):
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not host:
        return ""
    return url


def init_app(app: Flask) -> None:
    app.jinja_env.filters["safe_href"] = safe_href
