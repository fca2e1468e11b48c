"""Finding 17 of #12: the evidence package's `response_body.html` ran the crawled page's scripts when
an officer opened it from disk. The raw bytes stay (they are the evidence, their hash is the chain's),
under a name that opens as text; people read `safe_view.html` (text and screenshot only), and the
提取笔录 says the body is the raw original, not to be opened in a browser. Every file of the package
is opened in Chromium from disk: no dialog, no script, no request to the crawled site."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from pathlib import Path

import pytest

from core import db
from evidence import export_hit, record_fetch
from tests.conftest import CHROMIUM, make_config
from tests.evidence.test_evidence import make_fetch, make_page_hit, tiny_png
from tests.helpers import make_page_version


class _Listener:
    """Stands for the crawled site: any request the opened files make lands here."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(20)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()


@pytest.fixture
def listener():
    lst = _Listener()
    yield lst
    lst.sock.close()


def _hostile_body(port: int) -> bytes:
    return (
        "<html><head><title>出境游</title>"
        f'<meta http-equiv="refresh" content="5; url=http://127.0.0.1:{port}/refresh">'
        "<script>alert('from the crawled page'); document.title = 'RAN';</script></head>"
        f'<body onload="alert(2)"><img src="http://127.0.0.1:{port}/beacon.png">'
        f'<iframe src="http://127.0.0.1:{port}/frame"></iframe>港澳台团队游报名</body></html>'
    ).encode()


@pytest.fixture
def package(tmp_path, listener):
    cfg = make_config(tmp_path, **{"evidence.write_pdf": False})
    db.upgrade(cfg)
    body = _hostile_body(listener.port)
    with db.session_scope(cfg) as session:
        pv = make_page_version(session, 9)
        ev = record_fetch(session, cfg, pv.id, make_fetch(9, body=body, with_screenshot=True))
        hit_id, body_sha = make_page_hit(session, pv).id, ev.files["body"]["sha256"]
    folder = export_hit(cfg, hit_id, tmp_path / "out")
    yield folder, body, body_sha
    db.dispose(cfg)


def test_raw_body_is_kept_byte_for_byte_under_a_name_that_opens_as_text(package):
    folder, body, body_sha = package
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    raw = [f for f in manifest["files"] if f["name"].startswith("response_body.")]
    assert [f["name"] for f in raw] == ["response_body.html.txt"]
    assert (folder / "response_body.html.txt").read_bytes() == body
    assert raw[0]["sha256"] == body_sha == hashlib.sha256(body).hexdigest()
    # No file a browser would render as a page carries the crawled markup.
    for path in folder.iterdir():
        if path.suffix.lower() in (".html", ".htm", ".xhtml", ".svg", ".xml"):
            assert "alert(" not in path.read_text(encoding="utf-8", errors="replace"), path.name
    assert {"safe_view.html", "text.txt", "screenshot.png"} <= {f["name"] for f in manifest["files"]}
    assert (folder / "screenshot.png").read_bytes() == tiny_png()


def test_the_extraction_record_says_the_body_is_the_raw_original(package):
    folder, _body, _sha = package
    html = (folder / "summary.html").read_text(encoding="utf-8")
    assert "response_body.html.txt 为服务器返回的原始内容" in html
    assert "请勿改名后在浏览器中打开" in html and "safe_view.html" in html
    view = (folder / "safe_view.html").read_text(encoding="utf-8")
    assert "港澳台团队游报名" in view and "Content-Security-Policy" in view


@pytest.mark.browser
def test_opening_every_file_of_the_package_runs_nothing_and_calls_nowhere(package, listener):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    from core.chromium import BROWSER_ARGS

    folder, _body, _sha = package
    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=list(BROWSER_ARGS))
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            for path in sorted(folder.iterdir()):
                if path.suffix in (".gz", ".png", ".pem"):
                    continue
                page.goto(path.resolve().as_uri(), wait_until="load")  # head scripts and onload have run
                assert page.title() != "RAN", path.name
        finally:
            browser.close()
    assert dialogs == []
    assert listener.accepted == 0
