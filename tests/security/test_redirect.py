"""Finding 5: the login form's `next` goes only to a path of this site.

Each payload is a known way to make a "local-looking" value leave the site: tabs and newlines that
browsers drop, backslashes they read as slashes, scheme-relative and absolute URLs, userinfo, encoded
and double-encoded separators, unicode look-alikes, control characters. After a real login with each,
the redirect must stay on this origin, judged twice: by Python's URL parser with the browser's own
clean-up rules, and by Chromium's URL parser itself (the browser is the one that follows it).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from tests.conftest import CHROMIUM
from tests.webmap.conftest import csrf_from

ORIGIN = "http://localhost"
BYPASSES = [
    "/\t/evil.example/x",  # the probe's payload: next=/%09/evil.example/x
    "/\n/evil.example",
    "/\r/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "\\evil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%252F%252Fevil.example",
    "/%09/evil.example",
    "https://evil.example",
    "http://evil.example/",
    "HTTPS://evil.example",
    "https:evil.example",
    "https:/evil.example",
    "http:\\\\evil.example",
    "//evil.example@localhost",
    "//localhost@evil.example",
    "https://localhost@evil.example",
    "http://localhost:80@evil.example/",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "\x00//evil.example",
    "/\x00/evil.example",
    "\x0b//evil.example",
    "\x0c//evil.example",
    "\u3000//evil.example",  # ideographic space
    "\u00a0//evil.example",
    "／／evil.example",  # fullwidth solidus
    "/／evil.example",
    "\uff3c\uff3cevil.example",  # fullwidth reverse solidus
    "/\u2215evil.example",  # division slash
    "//evil。example",  # ideographic full stop as a dot
    "//ｅｖｉｌ.example",
    "//evil.example%00.localhost",
    "//evil.example\\@localhost",
    "/.//evil.example",  # stays on this site, but must not become //evil.example on the way
    "http:/\\/evil.example",
    "//%65vil.example",
    "/\u202e/evil.example",
    "https:\t//evil.example",
]
GOOD = ["/", "/search?q=%E7%BD%91%E5%90%A7&page=2", "/hits/1", "/map/grid/3?grade=D#top", "/venues/7"]


def _login_redirect(client, target: str) -> str:
    page = client.get("/login")
    r = client.post(
        "/login?next=" + quote(target, safe=""),
        data={"username": "patrol", "password": "secret-pass", "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 302, (target, r.status_code)
    return r.headers["Location"]


def _browser_cleanup(location: str) -> str:
    """What the WHATWG URL parser does before it parses: strip C0 controls and spaces at both ends,
    drop every tab and newline, and read a backslash as a slash in http(s) URLs."""
    location = location.strip("".join(chr(c) for c in range(0x21)))
    location = location.replace("\t", "").replace("\n", "").replace("\r", "")
    return location.replace("\\", "/")


def _same_origin(location: str) -> bool:
    cleaned = _browser_cleanup(location)
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc:
        return f"{parts.scheme}://{parts.netloc}" == ORIGIN
    return cleaned.startswith("/") and not cleaned.startswith("//")


@pytest.mark.parametrize("target", BYPASSES)
def test_login_never_redirects_off_site(client, users_world, target):
    location = _login_redirect(client, target)
    assert _same_origin(location), f"next={target!r} -> Location {location!r}"
    assert "evil" not in urlsplit(_browser_cleanup(location)).netloc


@pytest.mark.parametrize("target", GOOD)
def test_local_paths_are_kept(client, users_world, target):
    assert _login_redirect(client, target) == target


def test_every_bypass_falls_back_to_the_map(users_world):
    from webmap.auth import safe_next

    for target in BYPASSES:
        result = safe_next(target)
        assert result is None or _same_origin(result), (target, result)


@pytest.mark.browser
def test_chromium_agrees_the_redirects_stay_on_site(cfg, users_world):
    """The browser is what follows the Location header: ask its URL parser where each one leads."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from core.chromium import BROWSER_ARGS
    from webmap import create_app

    # One login per payload: more than the per-address login limit allows in a minute.
    web = create_app({"TESTING": True, "webmap.login_ip_attempts_per_minute": 10 * len(BYPASSES)}, config=cfg)
    client = web.test_client()
    locations = [_login_redirect(client, t) for t in BYPASSES]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(BROWSER_ARGS))
        page = browser.new_page()
        page.set_content("<p>url parser</p>")
        origins = page.evaluate(
            "([locs, base]) => locs.map(l => { try { return new URL(l, base).origin } catch (e) { return 'error' } })",
            [locations, f"{ORIGIN}/login"],
        )
        browser.close()
    off_site = [(t, loc, o) for t, loc, o in zip(BYPASSES, locations, origins, strict=True) if o != ORIGIN]
    assert off_site == []
