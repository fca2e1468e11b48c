"""关键词监控 end to end: a patrol officer saves a search in the web app, the real crawler finds a new
matching page on the sample site, the alerts job runs as the scheduler runs it (`wangxun jobs run
check_alerts`, a process of its own), and the alert shows in the web app, arrives in a real SMTP server
(aiosmtpd) and in a webhook receiver, both on 127.0.0.1.

Loopback is refused to webhooks by default (SSRF, search/webhooks.py): this test's configuration allows
it explicitly, as an operator would for an intranet receiver — [alerts] webhook_user_hosts lets a
patrol officer name the host, webhook_allowed_addresses lets the job connect to the address.

The query is 盗版, and neither page says 盗版 (they offer 复印本): the alert comes from the detectors'
piracy reason, which the index holds by name (#15 item 5).
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from core import db, users
from core.models import Alert, Hit, JobRun
from grids.sample.load import load_sample
from samplesite.server import start
from tests.conftest import PROJECT_ROOT, make_config
from tests.e2e.crawl_helpers import crawl_env, run_crawl
from tests.webmap.conftest import csrf_from, login
from webmap import create_app

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
PASSWORD = "secret-pass"
BEFORE = "QX7GLENC1ftImvomNr1j5S"  # 整本复印《线性代数》: on the site before the search is saved
NEW = "3_fnCizh0xMpb1F3JIpibu"  # 红楼梦全套2册 复印本: crawled after
SOURCES = """
[defaults]
max_depth = 0
page_budget = 5
download_delay = 0.0
concurrency = 1
private_addresses = ["{{sample_site}}"]

[[sources]]
name = "alerts_before"
kind = "wechat_article"
item_kind = "wechat_article"
platform = "wechat"
start_urls = ["{{sample_site}}/s/{before}"]

[[sources]]
name = "alerts_new"
kind = "wechat_article"
item_kind = "wechat_article"
platform = "wechat"
start_urls = ["{{sample_site}}/s/{new}"]
"""


class _Inbox:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


class _LoopbackSMTP(Controller):
    """aiosmtpd on 127.0.0.1 with a port the kernel picks: the bound port is read back before aiosmtpd
    connects to its own server to start it."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def smtp_sink():
    inbox = _Inbox()
    controller = _LoopbackSMTP(inbox, hostname="127.0.0.1", port=0)
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def webhook_receiver():
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.server.posts.append((self.path, self.headers.get("Content-Type"), json.loads(body)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.posts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_a_saved_search_alerts_on_a_newly_crawled_page_in_the_app_by_mail_and_webhook(
    tmp_path: Path, smtp_sink, webhook_receiver
):
    controller, inbox = smtp_sink
    hook_url = f"http://127.0.0.1:{webhook_receiver.server_address[1]}/wangxun-hook"
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES.format(before=BEFORE, new=NEW), encoding="utf-8")
    alerts = {  # what the operator sets in [alerts]; the crawl and the job processes get it as environment
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(controller.port),
        "TIMEOUT_S": "10",
        "BASE_URL": "http://wangxun.example.invalid",
        "WEBHOOK_USER_HOSTS": "127.0.0.1",  # a patrol officer may name this host …
        "WEBHOOK_ALLOWED_ADDRESSES": "127.0.0.1",  # … and the job may connect to it (loopback is refused otherwise)
    }
    with start() as site:
        cfg = make_config(
            tmp_path,
            **{"crawl.sample_site_url": site.url, "crawl.sources_file": str(sources)},
            **{
                "alerts.smtp_host": "127.0.0.1",
                "alerts.smtp_port": controller.port,
                "alerts.timeout_s": 10,
                "alerts.base_url": alerts["BASE_URL"],
                "alerts.webhook_user_hosts": ["127.0.0.1"],
                "alerts.webhook_allowed_addresses": ["127.0.0.1"],
            },
        )
        env = crawl_env(
            tmp_path,
            site.url,
            WANGXUN_CRAWL__SOURCES_FILE=str(sources),
            **{f"WANGXUN_ALERTS__{k}": v for k, v in alerts.items()},
        )
        db.upgrade(cfg)
        load_sample(cfg)  # the registers the detectors check against
        with db.session_scope(cfg) as s:
            users.create_user(s, "patrol", PASSWORD, "patrol")

        code, summary, err = run_crawl("alerts_before", env)
        assert code == 0 and summary["hits"] == 1, err[-3000:]
        with db.session_scope(cfg) as s:
            before_id = s.scalar(select(Hit.id).where(Hit.url.contains(BEFORE)))

        app = create_app({"TESTING": True}, config=cfg)
        client = app.test_client()
        login(client, "patrol", PASSWORD)
        form = client.get("/saved-searches?q=盗版")
        saved = client.post(
            "/saved-searches",
            data={
                "name": "盗版监控",
                "query": "盗版",
                "notify_email": "patrol@example.invalid",
                "webhook_url": hook_url,
                "csrf_token": csrf_from(form.text),
            },
            follow_redirects=True,
        )
        assert "已保存关键词监控「盗版监控」" in saved.text, saved.text[-2000:]

        code, summary, err = run_crawl("alerts_new", env)  # a new matching page appears
        assert code == 0 and summary["hits"] == 1, err[-3000:]
        with db.session_scope(cfg) as s:
            new = s.scalar(select(Hit).where(Hit.url.contains(NEW)))
            new_id, new_title = new.id, new.title
            assert "盗版" not in f"{new.title}{new.text}" and "piracy_terms" in {r["code"] for r in new.reasons}

        job = subprocess.run(
            [sys.executable, "-m", "core.cli", "jobs", "run", "check_alerts"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert job.returncode == 0, job.stdout + job.stderr
    with db.session_scope(cfg) as s:
        run = s.scalars(select(JobRun).where(JobRun.job_id == "check_alerts")).one()
        assert run.status == "ok" and run.hits == 1
        assert [(a.hit_id, a.sent_at is not None) for a in s.scalars(select(Alert))] == [(new_id, True)]

    # the web app: the alert, its unread count in the navigation, and when the search was checked
    nav = client.get("/").text.split("</nav>", 1)[0]
    assert '<span class="badge" title="未读提醒 1 条">1</span>' in nav
    listing = client.get("/alerts").text
    assert new_title in listing and f"/hits/{new_id}" in listing and f"/hits/{before_id}" not in listing
    saved_page = client.get("/saved-searches").text
    assert "盗版监控" in saved_page and "尚未检查" not in saved_page

    # the mail, through a real SMTP conversation
    [message] = inbox.messages
    assert inbox.recipients == [["patrol@example.invalid"]]
    assert message["Subject"] == "【网巡】关键词监控「盗版监控」有 1 条新命中"
    body = message.get_content()
    assert new_title in body and f"http://wangxun.example.invalid/hits/{new_id}" in body and NEW in body
    assert re.search(r"发现时间：\d{4}-\d\d-\d\d \d\d:\d\d（北京时间）", body)  # local time, labelled

    # the webhook
    [(path, content_type, payload)] = webhook_receiver.posts
    assert path == "/wangxun-hook" and content_type.startswith("application/json")
    assert payload["saved_search"]["name"] == "盗版监控" and payload["count"] == 1
    assert [(h["id"], h["title"]) for h in payload["hits"]] == [(new_id, new_title)]
    assert payload["hits"][0]["link"] == f"http://wangxun.example.invalid/hits/{new_id}"
    assert payload["hits"][0]["detected_at"].endswith("+08:00")  # local time with its offset
    db.dispose(cfg)
