"""Saved searches: new matches become alerts, are e-mailed and POSTed, and failures are retried."""

from __future__ import annotations

import datetime as dt
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core import config, db
from core.models import Alert, AuditLog, Hit, SavedSearch
from search import alerts
from tests.helpers import make_grid, make_hit, make_saved_search, make_user


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to accept one message per connection."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        data, in_data = [], False
        for _ in range(1000):  # bounded conversation
            line = self.rfile.readline()
            if not line:
                return
            if in_data:
                if line == b".\r\n":
                    in_data = False
                    self.server.messages.append(b"".join(data).decode("utf-8", "replace"))
                    self.wfile.write(b"250 queued\r\n")
                else:
                    data.append(line)
                continue
            cmd = line[:4].upper()
            if cmd == b"EHLO" or cmd == b"HELO":
                self.wfile.write(b"250 test\r\n")
            elif cmd == b"DATA":
                in_data = True
                self.wfile.write(b"354 go\r\n")
            elif cmd == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


class _SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def smtp():
    server = _SMTPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages = []
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook():
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.server.posts.append(json.loads(body))
            self.send_response(self.server.status)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.posts, server.status = [], 200
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


def _hit(cfg, title, grid_id=None) -> int:
    with db.session_scope(cfg) as s:
        return make_hit(s, title=title, text=title, score=0.7, grid_id=grid_id).id


def _alerts(cfg, ss_id):
    with db.session_scope(cfg) as s:
        return [
            (a.hit_id, a.sent_at is not None)
            for a in s.scalars(select(Alert).where(Alert.saved_search_id == ss_id).order_by(Alert.hit_id))
        ]


def test_new_matches_become_alerts_and_are_sent(cfg, smtp, webhook):
    cfg = config.with_overrides(
        cfg,
        {
            "alerts.smtp_host": "127.0.0.1",
            "alerts.smtp_port": smtp.server_address[1],
            "alerts.timeout_s": 5,
            "alerts.webhook_allowed_addresses": ["127.0.0.1"],  # the test's listener (loopback is refused by default)
        },
    )
    old = _hit(cfg, "港澳跟团游（旧）")
    with db.session_scope(cfg) as s:
        u = make_user(s, "patrol1", role="admin")  # only admins may have webhooks
        ss_id = make_saved_search(
            s,
            u,
            "跟团 -招聘",
            name="跟团监控",
            notify_email="p@example.invalid",
            webhook_url=f"http://127.0.0.1:{webhook.server_address[1]}/hook",
            last_hit_id=old,
        ).id
    new = _hit(cfg, "港澳跟团游")
    _hit(cfg, "招聘跟团导游")  # excluded by the query
    _hit(cfg, "盗版书")  # does not match
    assert alerts.check_alerts(cfg) == 1
    assert _alerts(cfg, ss_id) == [(new, True)]
    assert len(smtp.messages) == 1 and "Subject:" in smtp.messages[0]
    [post] = webhook.posts
    assert post["count"] == 1 and post["hits"][0]["id"] == new and post["hits"][0]["link"].endswith(f"/hits/{new}")
    # The webhook's time is in [core] timezone with its offset (the e-mail's: tests/e2e/test_alerts_e2e.py).
    with db.session_scope(cfg) as s:
        found = s.get(Hit, new).detected_at.replace(tzinfo=dt.timezone.utc, microsecond=0)
    local = found.astimezone(ZoneInfo("Asia/Shanghai"))
    assert post["hits"][0]["detected_at"] == local.isoformat() and post["hits"][0]["detected_at"].endswith("+08:00")
    assert alerts.check_alerts(cfg) == 0  # nothing new, nothing re-sent
    assert len(webhook.posts) == 1 and len(smtp.messages) == 1


def test_failed_delivery_is_recorded_and_retried(cfg, webhook):
    cfg = config.with_overrides(cfg, {"alerts.webhook_allowed_addresses": ["127.0.0.1"]})
    with db.session_scope(cfg) as s:
        u = make_user(s, "patrol2", role="admin")  # only admins may have webhooks
        ss_id = make_saved_search(s, u, "盗版", webhook_url=f"http://127.0.0.1:{webhook.server_address[1]}/hook").id
    hit = _hit(cfg, "盗版教材")
    webhook.status = 503
    assert alerts.check_alerts(cfg) == 1
    assert _alerts(cfg, ss_id) == [(hit, False)]
    with db.session_scope(cfg) as s:
        fail = alerts.last_failure(s, ss_id)
        assert fail is not None and "503" in fail.detail["error"]
    webhook.status = 200
    assert alerts.check_alerts(cfg) == 0
    assert _alerts(cfg, ss_id) == [(hit, True)]
    assert [p["hits"][0]["id"] for p in webhook.posts] == [hit, hit]


def test_grid_managers_alerts_stay_in_their_zone(cfg):
    with db.session_scope(cfg) as s:
        mine, other = make_grid(s), make_grid(s)
        gm = make_user(s, "gm1", role="grid_manager", grids=[mine])
        ss_id, mine_id, other_id = make_saved_search(s, gm, "跟团").id, mine.id, other.id
    inside = _hit(cfg, "跟团游A", grid_id=mine_id)
    _hit(cfg, "跟团游B", grid_id=other_id)
    assert alerts.check_alerts(cfg) == 1
    assert _alerts(cfg, ss_id) == [(inside, False)]  # no channel: listed in the web app only


def test_a_broken_saved_query_is_audited_not_fatal(cfg):
    with db.session_scope(cfg) as s:
        u = make_user(s, "p3")
        make_saved_search(s, u, "网格:不存在的网格 跟团", name="坏")  # no such grid: fails when it runs
    _hit(cfg, "跟团游")
    assert alerts.check_alerts(cfg) == 0
    with db.session_scope(cfg) as s:
        assert s.scalars(select(AuditLog).where(AuditLog.action == "alert_query_failed")).first() is not None


def test_every_run_records_when_it_checked_even_with_nothing_new(cfg):
    """Two runs of the alerts job: both saved searches (one with a new match, one without) show when they
    were last checked, and the second run moves the time on (the page said 尚未检查 after two runs)."""
    with db.session_scope(cfg) as s:
        u = make_user(s, "p4")
        quiet = make_saved_search(s, u, "包机", name="无新命中").id
        busy = make_saved_search(s, u, "跟团", name="有新命中").id
    _hit(cfg, "跟团游")
    assert alerts.check_alerts(cfg) == 1
    with db.session_scope(cfg) as s:
        first = {ss.id: ss.last_checked_at for ss in s.scalars(select(SavedSearch))}
    assert first[quiet] is not None and first[busy] is not None
    long_ago = dt.datetime(2020, 1, 1)
    with db.session_scope(cfg) as s:
        for ss in s.scalars(select(SavedSearch)):
            ss.last_checked_at = long_ago  # so the second run's time is told apart without a clock
    assert alerts.check_alerts(cfg) == 0  # nothing new for either search
    with db.session_scope(cfg) as s:
        second = {ss.id: ss.last_checked_at for ss in s.scalars(select(SavedSearch))}
    assert second[quiet] > long_ago and second[busy] > long_ago
