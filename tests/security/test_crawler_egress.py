"""Finding 7 of #12: links, redirects and a rendered page's subrequests must not make the crawler fetch
loopback or private addresses the source does not name (the web app's own API, the intranet).

Every test runs a real crawl (`python -m crawlers` through tests.security.netguard, which keeps the
process on loopback and scripts its resolver) against a 127.0.0.1 site the source names
(`private_addresses = ["127.0.0.1:<port>"]`), whose pages point at a second 127.0.0.1 listener the
source does not name. That listener must never see a connection, and the refusals must be counted.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crawlers.egress import EgressPolicy, parse_address_entry, policy_for
from crawlers.sources import build_source
from crawlers.summary import parse_summary_line
from tests.conftest import PROJECT_ROOT


class Listener:
    """A TCP listener on 127.0.0.1 that only counts the connections it is offered."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        self._stop = True
        self.sock.close()


class Site:
    """The crawled site on 127.0.0.1: pages whose links, redirects and subresources point elsewhere."""

    def __init__(self, pages: dict[str, tuple[int, dict, bytes]] | None = None):
        self.requests: list[tuple[str, str]] = []
        self.pages = pages or {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests.append((self.headers.get("Host", ""), self.path))
                status, headers, body = site.pages.get(self.path, (404, {}, b"not here"))
                self.send_response(status)
                for k, v in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def other():
    listener = Listener()
    yield listener
    listener.close()


def _crawl(tmp_path, source: dict, hosts: dict | None = None, timeout: float = 240):
    lines = ["[[sources]]"] + [f"{k} = {json.dumps(v)}" for k, v in source.items() if k != "selectors"]
    if "selectors" in source:
        pairs = ", ".join(f"{k} = {json.dumps(v)}" for k, v in source["selectors"].items())
        lines.append("selectors = { " + pairs + " }")
    sources = tmp_path / "sources.toml"
    sources.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not (k.startswith("WANGXUN_") and "__" in k)}
    env.update(
        {
            "WANGXUN_CORE__DATA_DIR": str(tmp_path / "var"),
            "WANGXUN_CORE__DATABASE_URL": "",
            "WANGXUN_CRAWL__SOURCES_FILE": str(sources),
            "WANGXUN_CRAWL__AUTOTHROTTLE": "false",
            "WANGXUN_CRAWL__RETRY_TIMES": "1",
            "WANGXUN_SEARCH__BACKEND": "embedded",
            "WANGXUN_EVIDENCE__ANCHOR_KEY_FILE": str(tmp_path / "keys" / "evidence-anchor.key"),
            "NETGUARD_LOG": str(tmp_path / "netguard.jsonl"),
            "NETGUARD_HOSTS": json.dumps(hosts or {}),
        }
    )
    proc = subprocess.run(
        [sys.executable, "-m", "tests.security.netguard", source["name"]],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    summary = parse_summary_line(proc.stdout)
    assert proc.returncode == 0 and summary is not None, proc.stderr[-3000:]
    log = tmp_path / "netguard.jsonl"
    left = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return summary, proc.stderr, [e for e in left if e["kind"] != "scripted"]


def _page(links: list[str], extra: str = "") -> tuple[int, dict, bytes]:
    body = "".join(f'<a href="{u}">link</a> ' for u in links)
    html = f"<html><head><title>巡查页面</title></head><body><h1>巡查页面</h1><p>正文{body}</p>{extra}</body></html>"
    return 200, {}, html.encode("utf-8")


def test_links_and_redirects_to_an_unnamed_loopback_port_are_refused(tmp_path, other):
    b = other.port
    site = Site()
    a = site.port
    site.pages = {
        "/start": _page(
            [
                f"http://127.0.0.1:{b}/api/hits",  # the web app's API on the same machine
                "/redirect",  # → 302 to the other port
                "/refresh",  # → a meta refresh to the other port
                f"http://localhost:{a}/byname",  # a host the source does not name
                f"http://[::1]:{b}/v6",
                f"http://intranet.test:{b}/rebind",  # an allowed name that resolves to loopback
                f"http://good.test:{a}/ok-by-name",  # an allowed name resolving to the named address
                "file:///etc/passwd",
                "/ok",
            ]
        ),
        "/redirect": (302, {"Location": f"http://127.0.0.1:{b}/redirected"}, b""),
        "/refresh": (
            200,
            {},
            f'<html><head><meta http-equiv="refresh" content="0; url=http://127.0.0.1:{b}/meta"></head></html>'.encode(),
        ),
        "/ok": _page([]),
        "/ok-by-name": _page([]),
    }
    try:
        summary, err, left = _crawl(
            tmp_path,
            {
                "name": "egress",
                "kind": "generic",
                "platform": "web",
                "start_urls": [f"http://127.0.0.1:{a}/start"],
                "selectors": {"links": "a::attr(href)"},
                "follow": ["."],
                "max_depth": 2,
                "download_delay": 0.0,
                "allowed_domains": ["intranet.test", "good.test"],
                "private_addresses": [f"127.0.0.1:{a}"],
            },
            hosts={"intranet.test": "127.0.0.1", "good.test": "127.0.0.1"},
        )
    finally:
        site.close()
    assert other.accepted == 0, err[-3000:]
    paths = [p for _host, p in site.requests]
    assert "/ok" in paths and "/redirect" in paths  # the allowed pages were fetched
    assert ("good.test:%d" % a, "/ok-by-name") in site.requests  # an allowed name on the named address
    assert "/byname" not in paths
    # api/hits, redirected, meta, localhost, [::1], intranet.test (once, when it resolved to loopback)
    assert summary["egress_refused"] >= 6, (summary, err[-3000:])
    assert "egress refused" in err
    assert left == []  # nothing tried to leave the machine


@pytest.mark.browser
def test_rendered_page_subrequests_and_their_redirects_are_refused(tmp_path, other):
    b = other.port
    render = (
        "<html><head><title>渲染页</title>"
        f'<script src="http://127.0.0.1:{b}/script.js"></script></head>'
        "<body><h1 class='t'>渲染页</h1><p class='x'>正文</p>"
        f'<img src="http://127.0.0.1:{b}/img.png">'
        '<img src="/redirect-img">'
        '<iframe src="/redirect-frame"></iframe>'
        f"<script>fetch('http://127.0.0.1:{b}/xhr').catch(() => 0);"
        f"new Image().src = 'http://localhost:{b}/beacon';</script>"
        "</body></html>"
    ).encode()
    pages = {
        "/render": (200, {}, render),
        "/redirect-img": (302, {"Location": f"http://127.0.0.1:{b}/redirected.png"}, b""),
        "/redirect-frame": (302, {"Location": f"http://127.0.0.1:{b}/frame"}, b""),
    }
    site = Site(pages)
    a = site.port
    try:
        summary, err, left = _crawl(
            tmp_path,
            {
                "name": "egress_render",
                "kind": "generic",
                "platform": "web",
                "render": True,
                "start_urls": [f"http://127.0.0.1:{a}/render"],
                "selectors": {"title": "h1.t", "text": "p.x"},
                "download_delay": 0.0,
                "private_addresses": [f"127.0.0.1:{a}"],
            },
        )
    finally:
        site.close()
    assert other.accepted == 0, err[-3000:]
    paths = [p for _host, p in site.requests]
    assert "/render" in paths and "/redirect-img" in paths and "/redirect-frame" in paths
    # script, img, xhr, beacon (route) and the two redirect hops (proxy)
    assert summary["egress_refused"] >= 5, (summary, err[-3000:])
    assert left == []


# ---------------------------------------------------------------- the policy itself


def test_policy_names_addresses_and_ports():
    source = build_source(
        {
            "name": "s",
            "kind": "generic",
            "platform": "web",
            "selectors": {"title": "h1"},
            "start_urls": ["{sample_site}/start"],
            "allowed_domains": ["weixin.qq.com"],
            "private_addresses": ["{sample_site}", "10.1.0.0/16", "[::1]:9000"],
        }
    )
    policy = policy_for(source, "http://127.0.0.1:8765")
    assert policy.url_refusal("http://127.0.0.1:8765/x") is None
    assert "loopback" in policy.url_refusal("http://127.0.0.1:8000/api/hits")
    assert policy.url_refusal("https://mp.weixin.qq.com/s/abc") is None
    assert "not one of the source's hosts" in policy.url_refusal("http://evilweixin.qq.com.example/")
    assert "scheme" in policy.url_refusal("file:///etc/passwd")
    assert policy.address_refusal("10.1.2.3", 80) is None
    assert "private" in policy.address_refusal("10.2.0.1", 80)
    assert "link-local" in policy.address_refusal("169.254.169.254", 80)
    assert "loopback" in policy.address_refusal("::ffff:127.0.0.1", 8765 + 1)
    assert policy.address_refusal("::1", 9000) is None and policy.address_refusal("::1", 9001)
    assert policy.address_refusal("93.184.216.34", 443) is None
    assert EgressPolicy(frozenset({"a.test"})).url_refusal("http://a.test:99/") is None


@pytest.mark.parametrize("entry", ["localhost", "127.0.0.1:0", "127.0.0.1:x", "[::1]x", "http://10.0.0.1/"])
def test_bad_private_address_entries_are_one_clear_line(entry):
    with pytest.raises(ValueError):
        parse_address_entry(entry)


def test_a_url_with_a_bad_port_is_refused_each_time_not_raised():
    from crawlers.egress import EgressGuard

    guard = EgressGuard(EgressPolicy(hosts=frozenset({"127.0.0.1"})), "egress_refused")
    for _ in range(2):  # the second answer comes from the guard's remembered verdicts
        assert "is not a URL" in guard.request_refusal("http://127.0.0.1:99999/a")
        assert "loopback" in guard.request_refusal("http://127.0.0.1:8000/a")
    assert guard.refused == 4
