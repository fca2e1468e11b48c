"""#12 finding 6 — SSRF through alert webhooks.

A saved search's webhook is a URL a user types; the alerts job POSTs to it from inside the intranet.
Only admins (or anyone, for hosts the admin lists in [alerts] webhook_user_hosts) may set one, the
host is resolved and loopback, link-local, private, multicast, reserved and unspecified answers are
refused unless [alerts] webhook_allowed_addresses names them, the POST goes to exactly the address
that was vetted (DNS rebinding) and the socket's peer is checked again, and redirects are not followed.

Every test sends traffic to 127.0.0.1 only: refusals are proven with a loopback listener that must see
no connection, and with a resolver that answers private addresses while socket.connect records (and
refuses) every attempt, so a refusal is shown to happen before any connect.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from core import db
from core.models import Alert, AuditLog, SavedSearch
from search import alerts
from tests.conftest import make_config
from tests.helpers import make_hit, make_saved_search, make_user
from tests.webmap.conftest import PASSWORD, csrf_from, login
from webmap import create_app

HOOK_NAME = "hook.test"  # a name only the monkeypatched resolver knows
PUBLIC_LOOKING = "93.184.215.14"  # a global address; the tests never connect to it (connect is refused)


class _Listener(HTTPServer):
    """A loopback HTTP server that counts every accepted connection, not only complete requests."""

    def __init__(self, status=200, location=None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.accepted = 0
        self.posts: list[dict] = []
        self.hosts: list[str] = []
        self.status, self.location = status, location

    def get_request(self):
        conn = super().get_request()
        self.accepted += 1
        return conn


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append(json.loads(body))
        self.server.hosts.append(self.headers["Host"])
        self.send_response(self.server.status)
        if self.server.location:
            self.send_header("Location", self.server.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST  # a followed redirect would arrive as GET: count it too

    def log_message(self, *a):
        pass


@pytest.fixture
def listener():
    servers = []

    def start(**kw):
        srv = _Listener(**kw)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def net(monkeypatch):
    """A resolver that answers HOOK_NAME from a script, and a socket.connect that records every attempt
    and lets through only loopback (so nothing can leave the machine whatever the code under test does)."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    class Net:
        answers: list[list[str]] = []  # one list per call; the last one repeats
        lookups = 0
        connects: list[str] = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host != HOOK_NAME:
            return real_getaddrinfo(host, port, family, type, proto, flags)
        answer = Net.answers[min(Net.lookups, len(Net.answers) - 1)]
        Net.lookups += 1
        out = []
        for a in answer:
            ip = ipaddress.ip_address(a)
            fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            addr = (a, port or 0, 0, 0) if ip.version == 6 else (a, port or 0)
            out.append((fam, socket.SOCK_STREAM, 6, "", addr))
        return out

    def connect(sock, address):
        Net.connects.append(str(address[0]))
        if not ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback:
            raise ConnectionRefusedError(f"test: refused to connect to {address[0]}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return Net


def _world(cfg, hook_url: str, role="admin") -> tuple[int, int]:
    """A user of `role` with a saved search posting to `hook_url` (stored directly, as an older
    version of the app or a database edit would have), and one new matching hit."""
    with db.session_scope(cfg) as s:
        u = make_user(s, f"u_{role}", role=role)
        ss_id = make_saved_search(s, u, "跟团", webhook_url=hook_url).id
    with db.session_scope(cfg) as s:
        hit_id = make_hit(s, title="港澳跟团游", text="港澳跟团游", score=0.7).id
    return ss_id, hit_id


def _sent(cfg, ss_id) -> list[bool]:
    with db.session_scope(cfg) as s:
        return [a.sent_at is not None for a in s.scalars(select(Alert).where(Alert.saved_search_id == ss_id))]


def _failure(cfg, ss_id) -> str:
    with db.session_scope(cfg) as s:
        fail = alerts.last_failure(s, ss_id)
        return fail.detail["error"] if fail is not None else ""


def test_loopback_webhook_is_refused_and_the_listener_receives_nothing(tmp_path, listener):
    cfg = make_config(tmp_path)  # shipped defaults: no private address allowed
    db.upgrade(cfg)
    srv = listener()
    ss_id, _ = _world(cfg, f"http://127.0.0.1:{srv.server_port}/hook")
    assert alerts.check_alerts(cfg) == 1
    assert _sent(cfg, ss_id) == [False]  # kept for a later run, not lost
    assert "loopback" in _failure(cfg, ss_id)
    assert srv.accepted == 0 and srv.posts == []


@pytest.mark.parametrize(
    "answer",
    [
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (carrier NAT)
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "::",
    ],
)
def test_a_name_answering_a_private_address_is_refused_before_any_connect(tmp_path, net, answer):
    cfg = make_config(tmp_path)
    db.upgrade(cfg)
    net.answers = [[answer]]
    ss_id, _ = _world(cfg, f"http://{HOOK_NAME}:8080/hook")
    alerts.check_alerts(cfg)
    assert net.connects == []  # refused on the resolver's answer, before any socket connected
    assert net.lookups >= 1
    assert _sent(cfg, ss_id) == [False] and "refused" in _failure(cfg, ss_id).lower()


def test_a_name_answering_public_and_private_is_refused_whole(tmp_path, net):
    cfg = make_config(tmp_path)
    db.upgrade(cfg)
    net.answers = [[PUBLIC_LOOKING, "127.0.0.1"]]
    ss_id, _ = _world(cfg, f"http://{HOOK_NAME}/hook")
    alerts.check_alerts(cfg)
    assert net.connects == [] and _sent(cfg, ss_id) == [False]


def test_an_allowed_loopback_address_receives_the_post(tmp_path, listener):
    cfg = make_config(tmp_path, **{"alerts.webhook_allowed_addresses": ["127.0.0.1"]})
    db.upgrade(cfg)
    srv = listener()
    ss_id, hit_id = _world(cfg, f"http://127.0.0.1:{srv.server_port}/hook")
    assert alerts.check_alerts(cfg) == 1
    assert _sent(cfg, ss_id) == [True]
    [post] = srv.posts
    assert post["hits"][0]["id"] == hit_id
    assert srv.hosts == [f"127.0.0.1:{srv.server_port}"]


def test_dns_rebinding_the_post_goes_to_the_vetted_address_with_the_name_as_host(tmp_path, listener, net):
    """The resolver answers the allowed listener first and a private address on every later lookup: the
    POST must reach the listener (one lookup per delivery, the connect pinned to its answer), with the
    name in the Host header, and nothing must connect to the later answer."""
    cfg = make_config(tmp_path, **{"alerts.webhook_allowed_addresses": ["127.0.0.1"]})
    db.upgrade(cfg)
    srv = listener()
    net.answers = [["127.0.0.1"], ["10.0.0.7"]]
    ss_id, _ = _world(cfg, f"http://{HOOK_NAME}:{srv.server_port}/hook")
    alerts.check_alerts(cfg)
    assert net.connects == ["127.0.0.1"]
    assert srv.hosts == [f"{HOOK_NAME}:{srv.server_port}"] and _sent(cfg, ss_id) == [True]


def test_dns_rebinding_public_then_loopback_never_reaches_loopback(tmp_path, listener, net):
    """Answers alternate public-looking and loopback on every lookup (a rebinding attacker's DNS with TTL 0).
    Vetting at save time and again at delivery must not be followed by a connect to a fresh lookup: every
    connect goes to a vetted public answer (which this test refuses) or nothing connects at all."""
    cfg = make_config(tmp_path)
    db.upgrade(cfg)
    srv = listener()
    net.answers = [[PUBLIC_LOOKING], [PUBLIC_LOOKING], ["127.0.0.1"], [PUBLIC_LOOKING], ["127.0.0.1"]] * 4
    web = create_app({"TESTING": True}, config=cfg).test_client()
    with db.session_scope(cfg) as s:
        make_user(s, "admin", role="admin", password=PASSWORD)
    login(web, "admin")
    page = web.get("/saved-searches")
    web.post(
        "/saved-searches",
        data={
            "name": "rebind",
            "query": "跟团",
            "webhook_url": f"http://{HOOK_NAME}:{srv.server_port}/hook",
            "csrf_token": csrf_from(page.text),
        },
    )
    with db.session_scope(cfg) as s:
        make_hit(s, title="港澳跟团游", text="港澳跟团游", score=0.7)
    for _ in range(3):
        alerts.check_alerts(cfg)
    assert "127.0.0.1" not in net.connects and srv.accepted == 0
    assert set(net.connects) <= {PUBLIC_LOOKING}


def test_redirects_are_not_followed(tmp_path, listener):
    cfg = make_config(tmp_path, **{"alerts.webhook_allowed_addresses": ["127.0.0.1"]})
    db.upgrade(cfg)
    target = listener()
    srv = listener(status=302, location=f"http://127.0.0.1:{target.server_port}/elsewhere")
    ss_id, _ = _world(cfg, f"http://127.0.0.1:{srv.server_port}/hook")
    alerts.check_alerts(cfg)
    assert len(srv.posts) == 1 and target.accepted == 0
    assert _sent(cfg, ss_id) == [False] and "302" in _failure(cfg, ss_id)


def test_the_socket_peer_is_checked_again(listener):
    from core.netpolicy import AddressRefused
    from search import webhooks

    srv = listener()
    with socket.create_connection(("127.0.0.1", srv.server_port), timeout=5) as sock:
        with pytest.raises(AddressRefused, match="loopback"):
            webhooks.check_peer(sock, ipaddress.ip_address("127.0.0.1"), allowed=[])
        with pytest.raises(AddressRefused, match="not the vetted"):
            webhooks.check_peer(sock, ipaddress.ip_address("127.0.0.2"), allowed=["127.0.0.0/8"])
        webhooks.check_peer(sock, ipaddress.ip_address("127.0.0.1"), allowed=["127.0.0.1"])


def test_a_demoted_owners_webhook_is_not_posted(tmp_path, listener):
    """Delivery checks who may set webhooks again: an owner who is no longer admin sends nothing."""
    cfg = make_config(tmp_path, **{"alerts.webhook_allowed_addresses": ["127.0.0.1"]})
    db.upgrade(cfg)
    srv = listener()
    ss_id, _ = _world(cfg, f"http://127.0.0.1:{srv.server_port}/hook", role="patrol")
    alerts.check_alerts(cfg)
    assert srv.accepted == 0 and _sent(cfg, ss_id) == [False]


# The web form: who may set a webhook, and what is checked when it is saved.


def _post_saved(client, hook_url):
    page = client.get("/saved-searches")
    return client.post(
        "/saved-searches",
        data={"name": "监控", "query": "跟团", "webhook_url": hook_url, "csrf_token": csrf_from(page.text)},
        follow_redirects=True,
    )


def _saved_hooks(cfg) -> list[str | None]:
    with db.session_scope(cfg) as s:
        return [ss.webhook_url for ss in s.scalars(select(SavedSearch))]


@pytest.mark.parametrize("username", ["gm_own", "patrol"])
def test_only_admins_may_set_a_webhook(cfg, users_world, client, net, username):
    net.answers = [[PUBLIC_LOOKING]]
    login(client, username)
    r = _post_saved(client, f"https://{HOOK_NAME}/hook")
    assert r.status_code == 200 and "管理员" in r.text
    assert _saved_hooks(cfg) == [] and net.lookups == 0 and net.connects == []
    r = _post_saved(client, "")  # without a webhook the same user may still save the search
    assert _saved_hooks(cfg) == [None]


def test_hosts_the_admin_lists_are_open_to_every_role(tmp_path, net):
    cfg = make_config(tmp_path, **{"alerts.webhook_user_hosts": [HOOK_NAME]})
    db.upgrade(cfg)
    with db.session_scope(cfg) as s:
        make_user(s, "gm", role="grid_manager", password=PASSWORD)
    web = create_app({"TESTING": True}, config=cfg).test_client()
    net.answers = [[PUBLIC_LOOKING]]
    login(web, "gm")
    _post_saved(web, f"https://{HOOK_NAME}/hook")
    assert _saved_hooks(cfg) == [f"https://{HOOK_NAME}/hook"] and net.connects == []
    r = _post_saved(web, "https://other.test/hook")
    assert "管理员" in r.text and len(_saved_hooks(cfg)) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]:9/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/",  # 127.0.0.1 as one number
        "http://0x7f.1/",
        "http://10.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://user:pw@127.0.0.1/",
        "http://example.org@127.0.0.1/",
        "gopher://127.0.0.1/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http:///nohost",
    ],
)
def test_the_form_refuses_non_public_and_odd_urls_in_one_line(cfg, users_world, client, url, monkeypatch):
    real_connect = socket.socket.connect
    connects = []

    def connect(sock, address):
        connects.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    login(client, "admin")
    r = _post_saved(client, url)
    assert r.status_code == 200 and "Traceback" not in r.text
    assert _saved_hooks(cfg) == [] and connects == []
    with db.session_scope(cfg) as s:
        assert s.scalars(select(AuditLog).where(AuditLog.action == "create")).first() is None


def test_the_form_accepts_an_allowed_address(tmp_path, listener):
    cfg = make_config(tmp_path, **{"alerts.webhook_allowed_addresses": ["127.0.0.1"]})
    db.upgrade(cfg)
    with db.session_scope(cfg) as s:
        make_user(s, "admin", role="admin", password=PASSWORD)
    web = create_app({"TESTING": True}, config=cfg).test_client()
    srv = listener()
    login(web, "admin")
    _post_saved(web, f"http://127.0.0.1:{srv.server_port}/hook")
    assert _saved_hooks(cfg) == [f"http://127.0.0.1:{srv.server_port}/hook"]
    assert srv.accepted == 0  # saving resolves the name; it never connects
