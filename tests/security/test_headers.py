"""Finding 13: security headers (flask-talisman) on every response, nonces instead of inline-script
permission, tiles allowed from the configured tile server only, and no server banner.

The browser test opens the main pages in Chromium with the real policy and asserts that the browser
reported no CSP violation: the policy is strict and the app still works under it.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, PROJECT_ROOT
from tests.webmap.conftest import PASSWORD, login
from webmap import create_app

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def _csp(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request.path}"
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def _nonce(policy) -> str:
    nonces = [w[len("'nonce-") : -1] for w in policy["script-src"] if w.startswith("'nonce-")]
    assert len(nonces) == 1, policy["script-src"]
    return nonces[0]


def _check_headers(r) -> None:
    policy = _csp(r)
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert "'self'" in policy["script-src"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert "Server" not in r.headers and "X-Powered-By" not in r.headers


def test_every_kind_of_response_has_the_headers(client, users_world):
    anonymous = [client.get("/login"), client.get("/"), client.get("/no-such-page"), client.get("/static/js/map.js")]
    login(client, "gm_own")
    pages = [
        client.get("/"),
        client.get("/api/grids"),
        client.get(f"/venues/{users_world.venue_other}"),  # 403 page
        client.get(f"/hits/{users_world.hit_own}"),
    ]
    assert [r.status_code for r in anonymous + pages] == [200, 302, 404, 200, 200, 200, 403, 200]
    for r in anonymous + pages:
        _check_headers(r)


def test_every_script_carries_the_request_nonce(client, users_world):
    login(client, "admin")
    nonces = set()
    for path in ("/", f"/hits/{users_world.hit_own}", f"/hits/{users_world.hit_own}", "/login"):
        r = client.get(path)
        assert r.status_code == 200, path
        nonce = _nonce(_csp(r))
        nonces.add(nonce)
        tags = SCRIPT_TAG.findall(r.text)
        for attrs in tags:
            if "src=" in attrs:
                assert re.search(r'src="/static/', attrs), (path, attrs)  # our own copies, never a CDN
            else:
                assert f'nonce="{nonce}"' in attrs, (path, attrs)
        assert not INLINE_HANDLER.search(r.text), path
    assert len(nonces) == 4  # a new nonce for every response


@pytest.mark.parametrize(
    "settings, hosts",
    [
        ({"webmap.tile_provider": "osm"}, ["https://tile.openstreetmap.org"]),
        ({"webmap.tile_provider": "amap"}, [f"https://webrd0{i}.is.autonavi.com" for i in "1234"]),
        (
            {"webmap.tile_provider": "tianditu", "webmap.tianditu_key": "k"},
            [f"https://t{i}.tianditu.gov.cn" for i in "01234567"],
        ),
        (
            {"webmap.tile_provider": "intranet", "webmap.intranet_tile_url": "http://10.0.0.5:8080/t/{z}/{x}/{y}.png"},
            ["http://10.0.0.5:8080"],
        ),
        (
            {"webmap.tile_provider": "custom", "webmap.tile_url": "https://{s}.tiles.example.org/{z}/{x}/{y}.png"},
            [f"https://{s}.tiles.example.org" for s in "abc"],
        ),
        ({"webmap.tile_provider": "none"}, []),
    ],
)
def test_img_src_comes_from_the_tile_setting(cfg, settings, hosts):
    r = create_app({"TESTING": True, **settings}, config=cfg).test_client().get("/login")
    assert _csp(r)["img-src"] == ["'self'", "data:", *hosts]


def test_wangxun_serve_sends_no_server_banner(cfg, users_world):
    """The verb a user runs: the response names no server software or version."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "WANGXUN_CORE__DATA_DIR": str(cfg.data_dir),
        "WANGXUN_CORE__DATABASE_URL": cfg.database_url,
    }
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "wangxun"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        response = None
        deadline = time.monotonic() + 90
        while response is None and time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("GET", "/login")
                response = conn.getresponse()
                response.read()
            except OSError:
                assert proc.poll() is None, "wangxun serve exited"
                time.sleep(0.2)
            finally:
                conn.close()
        assert response is not None and response.status == 200
        assert response.getheader("Server") is None, response.getheader("Server")
        assert response.getheader("X-Content-Type-Options") == "nosniff"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# ---------------------------------------------------------------- the policy in a real browser


@pytest.fixture
def server(cfg, users_world):
    from werkzeug.serving import make_server

    # Tiles from loopback port 9, which refuses: the tile host is allowed by the policy, the tiles fail.
    web = create_app(
        {"webmap.tile_provider": "custom", "webmap.tile_url": "http://127.0.0.1:9/{z}/{x}/{y}.png"}, config=cfg
    )
    srv = make_server("127.0.0.1", 0, web, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join()


COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " +
                    (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


@pytest.mark.browser
def test_main_pages_run_under_the_policy_without_violations(server, users_world):
    sync_api = pytest.importorskip("playwright.sync_api")
    from core.chromium import BROWSER_ARGS

    w = users_world
    pages = [
        "/",
        f"/map/grid/{w.grid_own}",
        f"/hits/{w.hit_own}",
        f"/hits/{w.hit_own}",
        f"/hits/{w.hit_own}/triage",
        "/search?q=%E4%B8%80%E6%97%A5%E6%B8%B8",
        f"/venues/{w.venue_own}",
        "/clues",
        f"/clues/{w.clue_own}",
        "/admin/jobs",
        "/draws",
        "/grading",
        "/admin/",
        "/saved-searches",
        "/alerts",
    ]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(BROWSER_ARGS))
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        console: list[str] = []
        errors: list[str] = []
        page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.add_init_script(COLLECT_VIOLATIONS)
        page.goto(f"{server}/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_function("() => window.wangxunState && window.wangxunState.ready", timeout=30_000)
        seen = {}
        for path in pages:
            response = page.goto(f"{server}{path}")
            assert response.status == 200, path
            assert response.headers.get("content-security-policy"), path
            if path in ("/", f"/map/grid/{w.grid_own}"):
                page.wait_for_function("() => window.wangxunState && window.wangxunState.ready", timeout=30_000)
            else:
                page.wait_for_load_state("load")
            if path.startswith("/hits/") and page.locator(".folium-map").count():
                page.wait_for_function("() => document.querySelector('.leaflet-marker-icon') !== null", timeout=30_000)
            seen[path] = page.evaluate("window.__csp")
        assert {p: v for p, v in seen.items() if v} == {} and console == [] and errors == []

        # The collector works: a script inserted without the nonce is blocked and reported.
        page.evaluate(
            "(() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
            " document.body.appendChild(s); })()"
        )
        page.wait_for_function("() => window.__csp.length > 0", timeout=10_000)
        assert page.evaluate("window.__ran") is None
        browser.close()
