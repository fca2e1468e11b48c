"""Finding 16 of #12: Scrapy's cookies middleware asks tldextract about every cookie's domain, and
tldextract fetched the Public Suffix List from the internet on first use (a stall or a failure on an
intranet machine). A real crawl of a local page that sets cookies must not look anything up or
connect anywhere but loopback: tests.security.netguard logs every attempt to leave the machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from crawlers.summary import parse_summary_line
from tests.conftest import PROJECT_ROOT


class _CookieSite:
    def __init__(self):
        self.cookies_seen: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.cookies_seen.append(self.headers.get("Cookie", ""))
                body = (
                    "<html><head><title>旅游团</title></head><body><h1>旅游团</h1><p>正文</p>"
                    '<a href="/second">下一篇</a></body></html>'
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Set-Cookie", "session=abc; Path=/")
                self.send_header("Set-Cookie", "wide=1; Domain=127.0.0.1; Path=/")
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


def test_a_crawl_with_cookies_makes_no_outbound_lookup(tmp_path):
    site = _CookieSite()
    sources = tmp_path / "sources.toml"
    sources.write_text(
        "[[sources]]\n"
        'name = "cookies"\nkind = "generic"\nplatform = "web"\n'
        f'start_urls = ["http://127.0.0.1:{site.port}/first"]\n'
        'selectors = { links = "a::attr(href)" }\nfollow = ["/second"]\nmax_depth = 1\ndownload_delay = 0.0\n'
        f'private_addresses = ["127.0.0.1:{site.port}"]\n',
        encoding="utf-8",
    )
    log = tmp_path / "netguard.jsonl"
    env = {k: v for k, v in os.environ.items() if not (k.startswith("WANGXUN_") and "__" in k)}
    env.update(
        {
            "WANGXUN_CORE__DATA_DIR": str(tmp_path / "var"),
            "WANGXUN_CORE__DATABASE_URL": "",
            "WANGXUN_CRAWL__SOURCES_FILE": str(sources),
            "WANGXUN_SEARCH__BACKEND": "embedded",
            "WANGXUN_EVIDENCE__ANCHOR_KEY_FILE": str(tmp_path / "keys" / "evidence-anchor.key"),
            "NETGUARD_LOG": str(log),
            # An empty tldextract cache: a cached list from an earlier run must not hide a fetch.
            "TLDEXTRACT_CACHE": str(tmp_path / "tldextract-cache"),
            "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
        }
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "tests.security.netguard", "cookies"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
    finally:
        site.close()
    summary = parse_summary_line(proc.stdout)
    assert proc.returncode == 0 and summary is not None, proc.stderr[-3000:]
    assert summary["pages"] == 2 and summary["errors"] == 0, summary
    assert any("session=abc" in c for c in site.cookies_seen)  # the cookies middleware did its work
    attempts = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    assert attempts == [], attempts
    assert "public_suffix_list" not in proc.stderr.lower() and "publicsuffix" not in proc.stderr.lower()
