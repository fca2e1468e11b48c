"""#12 finding 14 — `javascript:` URLs rendered as links.

A crawled page's URL (and any URL a user or an import brings) is shown as a link only when it is http
or https, through one filter (`safe_href`, webmap/views/links.py); anything else is shown as text. The
check follows how a browser reads a URL (leading/trailing C0 controls and spaces dropped, tabs and
newlines removed anywhere, scheme case-insensitive), so obfuscated variants fail too, and Chromium
itself is asked what protocol each rendered link has.

A scan of every template makes sure no `href`/`src`/`action` takes a value that bypasses the filter.
"""

from __future__ import annotations

import re
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core import db
from core.chromium import BROWSER_ARGS
from tests.conftest import CHROMIUM
from tests.helpers import make_clue, make_grid, make_hit, make_user
from tests.webmap.conftest import PASSWORD, login
from webmap import create_app

TEMPLATES = Path(__file__).resolve().parents[2] / "webmap" / "templates"

BAD = [
    "javascript:window.__pwned=1",
    "JaVaScRiPt:window.__pwned=1",
    " javascript:window.__pwned=1",
    "\x01\x02javascript:window.__pwned=1",
    "\tjava\nscr\ript:window.__pwned=1",
    "java\tscript:window.__pwned=1",
    "javascript\t:window.__pwned=1",
    "javascript://%0awindow.__pwned=1",
    "javascript&#58;window.__pwned=1",
    "javascript&colon;window.__pwned=1",
    "&#106;avascript:window.__pwned=1",
    "jav&#x09;ascript:window.__pwned=1",
    "data:text/html,<script>window.__pwned=1</script>",
    "data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD0xPC9zY3JpcHQ+",
    "DATA:text/html,x",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/x",
    "/\\evil.example/x",
    "http:/evil.example",
    "https:",
    "http://",
    "ｊａｖａｓｃｒｉｐｔ:window.__pwned=1",
    "\u00a0javascript:window.__pwned=1",
    "",
    None,
]
GOOD = [
    ("https://mp.weixin.qq.com/s/abc?x=1&y=2#f", "https://mp.weixin.qq.com/s/abc?x=1&y=2#f"),
    ("HTTP://EXAMPLE.ORG/A", "HTTP://EXAMPLE.ORG/A"),
    ("  https://example.org/x  ", "https://example.org/x"),
    ("ht\ttps://exa\nmple.org/x", "https://example.org/x"),
    ('https://example.org/"><script>', 'https://example.org/"><script>'),  # Jinja escapes it in the attribute
]


@pytest.mark.parametrize("url", BAD)
def test_safe_href_refuses_everything_but_http_and_https(url):
    from webmap.views.links import safe_href

    assert safe_href(url) == ""


@pytest.mark.parametrize("url,expected", GOOD)
def test_safe_href_keeps_http_and_https_as_the_browser_reads_them(url, expected):
    from webmap.views.links import safe_href

    assert safe_href(url) == expected


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src", "action", "formaction") and value is not None:
                self.urls.append(value)


def _browser_scheme(url: str) -> str:
    """The scheme a browser gives `url` (WHATWG: C0 controls and spaces trimmed, tab/newline removed)."""
    url = re.sub(r"[\t\n\r]", "", url.strip("".join(chr(c) for c in range(0x21))))
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url)
    return m.group(1).lower() if m else ""


@pytest.fixture
def hostile_world(cfg):
    with db.session_scope(cfg) as s:
        grid = make_grid(s, code="320508001001", name="平江一网格", bounds=(120.60, 31.30, 120.62, 31.32))
        hits = [make_hit(s, grid, None, f"坏链接{n}", 120.611, 31.311, url=u) for n, u in enumerate(BAD[:-2])]
        clues = [make_clue(s, h).id for h in hits]
        make_user(s, "admin", role="admin", password=PASSWORD)
        return [h.id for h in hits], clues


def test_no_page_renders_a_non_http_link(cfg, hostile_world):
    hit_ids, clue_ids = hostile_world
    client = create_app({"TESTING": True}, config=cfg).test_client()
    login(client, "admin")
    pages = [f"/hits/{h}" for h in hit_ids] + [f"/hits/{h}" for h in hit_ids]
    pages += [f"/clues/{c}" for c in clue_ids] + ["/search?q=坏链接", "/alerts", "/clues", "/"]
    for path in pages:
        r = client.get(path)
        assert r.status_code == 200, path
        parser = _Links()
        parser.feed(r.text)
        for url in parser.urls:
            if url == "data:,":  # base.html's empty favicon, a fixed literal
                continue
            scheme = _browser_scheme(url)
            assert scheme in ("", "http", "https"), f"{path}: link {url!r}"
            if scheme == "":
                assert url.startswith(("/", "?", "#")) and not url.startswith(("//", "/\\")), f"{path}: {url!r}"


# Attribute values a template may fill from an expression: URLs built by the app or passed through
# the filter. Anything else (a crawled or user URL) must go through `|safe_href`.
_ATTR = re.compile(r"""\b(href|src|action|formaction)\s*=\s*["']([^"']*\{\{.*?\}\}[^"']*)["']""", re.S)
_TRUSTED = re.compile(r"^\s*(url_for|nav_url|static_url|csp_nonce)\(|\|\s*safe_href\b")


def _trusted(expr: str, sets: dict[str, str]) -> bool:
    expr = expr.strip()
    if _TRUSTED.search(expr):
        return True
    name = re.fullmatch(r"(\w+)(?:\s+or\s+'[^']*')?", expr)
    return bool(name and name.group(1) in sets and _TRUSTED.search(sets[name.group(1)]))


def test_every_template_link_goes_through_safe_href():
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        sets = dict(re.findall(r"\{%-?\s*set\s+(\w+)\s*=\s*(.*?)-?%\}", text, re.S))
        for attr, value in _ATTR.findall(text):
            if value.startswith("data:,"):
                continue
            for expr in re.findall(r"\{\{(.*?)\}\}", value, re.S):
                if not _trusted(expr, sets):
                    problems.append(f'{path.relative_to(TEMPLATES)}: {attr}="{{{{{expr.strip()}}}}}"')
    assert problems == [], "URLs that bypass safe_href:\n" + "\n".join(problems)


def test_the_scan_catches_a_bypass():
    sets: dict[str, str] = {}
    assert not _trusted(" hit.url ", sets) and not _trusted("c.hit.url|e", sets)
    assert _trusted(" hit.url|safe_href ", sets) and _trusted("url_for('x')", sets)
    assert _trusted("href", {"href": "nav_url(endpoint)"}) and not _trusted("href", {"href": "hit.url"})
    assert list(urlsplit("https://x/").scheme) == list("https")


@pytest.mark.browser
def test_chromium_sees_only_http_links(cfg, hostile_world):
    """Chromium's own URL parser is the judge: every link on the hit pages is http(s) or this site."""
    from werkzeug.serving import make_server

    sync_api = pytest.importorskip("playwright.sync_api")
    hit_ids, clue_ids = hostile_world
    app = create_app({"webmap.tile_provider": "none"}, config=cfg)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{srv.server_port}"
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=list(BROWSER_ARGS))
            page = browser.new_page()
            page.goto(f"{base}/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            with page.expect_navigation():
                page.click("button[type=submit]")
            for path in [f"/hits/{h}" for h in hit_ids[:6]] + [f"/clues/{c}" for c in clue_ids[:6]]:
                page.goto(base + path)
                protocols = page.evaluate("Array.from(document.links).map(a => a.protocol)")
                assert set(protocols) <= {"http:", "https:"}, (path, protocols)
                assert page.evaluate("window.__pwned === undefined"), path
            browser.close()
    finally:
        srv.shutdown()
        thread.join()
