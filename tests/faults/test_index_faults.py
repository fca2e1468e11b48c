"""The search cluster refuses connections, answers 503, or swallows requests (a black hole): every
command says so in one line and exits 3, the web app answers 503 in Chinese, no hit is lost, and
once an index answers again the waiting hits go in. Every listener is on 127.0.0.1."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading

import pytest

import search
from core import db
from search import outbox
from tests.conftest import PROJECT_ROOT, make_config
from tests.helpers import make_grid, make_hit, make_user
from webmap import create_app

# Short timeouts and no retries: a fault must show within seconds, whatever the listener does.
FAST = {"search.es_request_timeout_s": 2, "search.es_max_retries": 0}


def _refusing() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there: connections are refused at once
    return f"http://127.0.0.1:{port}"


class _Unavailable(http.server.BaseHTTPRequestHandler):
    def _answer(self):
        body = b'{"error":"unavailable"}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture(params=["refused", "503", "black hole"])
def cluster(request):
    """The URL of a cluster that fails in one of three ways."""
    if request.param == "refused":
        yield _refusing()
        return
    if request.param == "503":
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.server_address[1]}"
        server.shutdown()
        server.server_close()
        return
    hole = socket.socket()  # accepts connections (the kernel's backlog) and never answers
    hole.bind(("127.0.0.1", 0))
    hole.listen(64)
    yield f"http://127.0.0.1:{hole.getsockname()[1]}"
    hole.close()


def _down_config(tmp_path, url):
    cfg = make_config(tmp_path, **{"search.backend": "elasticsearch", "search.es_url": url, **FAST})
    db.upgrade(cfg)
    return cfg


def _env(cfg) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGXUN_")}
    env.update(
        {
            "WANGXUN_CORE__DATA_DIR": str(cfg.data_dir),
            "WANGXUN_SEARCH__BACKEND": "elasticsearch",
            "WANGXUN_SEARCH__ES_URL": cfg.search.es_url,
            "WANGXUN_SEARCH__ES_REQUEST_TIMEOUT_S": "2",
            "WANGXUN_SEARCH__ES_MAX_RETRIES": "0",
        }
    )
    return env


def _run(cfg, *args):
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        cwd=PROJECT_ROOT,
        env=_env(cfg),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_line(proc) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_commands_say_the_index_is_down_in_one_line_and_lose_nothing(tmp_path, cluster):
    cfg = _down_config(tmp_path, cluster)
    with db.session_scope(cfg) as s:
        hit_id = make_hit(s, title="盗版教材", text="影印教材低价出", label="illegal_publication").id
    found = _run(cfg, "search", "盗版")
    assert found.returncode == 3 and "Elasticsearch" in _one_line(found)
    drained = _run(cfg, "reindex", "--drain-only")
    assert drained.returncode == 3 and "still wait in the outbox" in _one_line(drained)
    rebuilt = _run(cfg, "reindex")
    assert rebuilt.returncode == 3 and "Elasticsearch" in _one_line(rebuilt)
    status = outbox.status(cfg)
    assert status.waiting == 1 and status.failing == 1 and status.last_error
    # An index that answers again (here the embedded one on the same database) takes what waited.
    up = make_config(tmp_path, **{"search.backend": "embedded"})
    assert outbox.drain_report(up).ok and outbox.pending(up) == 0
    assert [h.id for h in search.search(up, "盗版").hits] == [hit_id]


def test_the_web_app_answers_503_in_chinese(tmp_path, cluster):
    cfg = _down_config(tmp_path, cluster)
    with db.session_scope(cfg) as s:
        make_grid(s)
        make_user(s, "patrol", role="patrol", password="secret-pass")
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, config=cfg)
    client = app.test_client()
    assert client.post("/login", data={"username": "patrol", "password": "secret-pass"}).status_code == 302
    page = client.get("/search?q=盗版")
    assert page.status_code == 503 and "检索服务暂时不可用" in page.text
    api = client.get("/api/search?q=盗版")
    assert api.status_code == 503 and "检索服务暂时不可用" in api.get_json()["error"]
    export = client.get("/search/export.csv?q=盗版")
    assert export.status_code == 503


def test_a_bug_in_a_view_is_a_chinese_error_page_not_a_bare_500(cfg):
    app = create_app({"TESTING": True}, config=cfg)

    @app.route("/__boom")
    def boom():
        raise RuntimeError("a bug")

    page = app.test_client().get("/__boom")
    assert page.status_code == 500 and "系统内部错误" in page.text
    api = app.test_client().get("/__boom", headers={"Accept": "application/json"})
    assert api.status_code == 500 and api.get_json()["status"] == 500
