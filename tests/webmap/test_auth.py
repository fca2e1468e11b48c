"""Logins: CSRF, lockout after repeated failures, per-IP rate limit, session expiry."""

from __future__ import annotations

import datetime as dt

from core import db
from core.models import AuditLog, LoginThrottle, WebSession
from tests.webmap.conftest import PASSWORD, csrf_from, login


def test_anonymous_is_sent_to_login(client, users_world):
    r = client.get("/")
    assert r.status_code == 302 and r.location.startswith("/login")


def test_login_and_logout(client, users_world, cfg):
    r = login(client, "patrol")
    assert r.status_code == 302 and r.location == "/"
    page = client.get("/")
    assert page.status_code == 200 and "巡查人员" in page.text
    r = client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert r.status_code == 302
    assert client.get("/").status_code == 302
    with db.session_scope(cfg) as s:
        actions = [a.action for a in s.query(AuditLog).order_by(AuditLog.id)]
    assert actions == ["login", "logout"]


def test_post_without_csrf_token_is_refused(client, users_world):
    r = client.post("/login", data={"username": "patrol", "password": PASSWORD})
    assert r.status_code == 400


def test_account_locks_after_repeated_failures(client, users_world, cfg):
    """The lock is per username and source address (tests/security/test_lockout.py has the rest)."""
    for _ in range(cfg.webmap.login_max_failures):
        r = login(client, "patrol", "wrong-password")
        assert "用户名或密码错误" in r.text
    r = login(client, "patrol")  # right password, but locked now
    assert r.status_code == 429 and "登录失败次数过多" in r.text and int(r.headers["Retry-After"]) > 0
    with db.session_scope(cfg) as s:
        t = s.query(LoginThrottle).filter_by(username="patrol").one()
        assert t.locked_until is not None
        t.locked_until = dt.datetime(2000, 1, 1)  # the lock has run out
    assert login(client, "patrol").status_code == 302


def test_ip_rate_limit(cfg, users_world):
    from webmap import create_app

    app = create_app({"TESTING": True, "webmap.login_ip_attempts_per_minute": 3}, config=cfg)
    client = app.test_client()
    codes = [login(client, f"nobody{i}", "x").status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = login(client, "patrol")  # the right password does not get past the limit either
    assert refused.status_code == 429
    assert "登录尝试过于频繁，请稍后再试" in refused.text and 'name="password"' in refused.text  # the login page
    assert client.get("/login").status_code == 200  # only POSTs count
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # another address has its own allowance
    assert login(other, "patrol").status_code == 302
    with db.session_scope(cfg) as s:
        statuses = [a.detail["status"] for a in s.query(AuditLog).filter_by(action="login_failed")]
    assert statuses.count(429) == 2


def test_session_expires(cfg, users_world):
    from webmap import create_app

    app = create_app({"TESTING": True, "webmap.session_lifetime_minutes": 30}, config=cfg)
    client = app.test_client()
    login(client, "patrol")
    assert client.get("/").status_code == 200
    with db.session_scope(cfg) as s:  # last request 31 minutes ago
        for row in s.query(WebSession):
            row.last_seen_at -= dt.timedelta(minutes=31)
    assert client.get("/").status_code == 302


def test_secret_key_is_generated_once(cfg):
    from webmap import create_app

    a = create_app({"TESTING": True}, config=cfg)
    b = create_app({"TESTING": True}, config=cfg)
    assert a.secret_key == b.secret_key and len(a.secret_key) >= 32
    assert (cfg.data_dir / cfg.webmap.secret_key_file).stat().st_mode & 0o077 == 0


def test_every_post_route_refuses_a_missing_csrf_token(client, users_world, app):
    """CSRFProtect covers every POST the app has (forms and JSON APIs), not only the login form."""
    login(client, "admin")
    posts = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert len(posts) > 5
    values = {
        "grid_id": users_world.grid_own,
        "venue_id": users_world.venue_own,
        "hit_id": users_world.hit_own,
        "clue_id": users_world.clue_own,
        "draw_id": 1,
        "ss_id": 1,
        "attachment_id": 1,
        "fmt": "csv",
        "action": "pause",
        "step": "start",
    }
    from flask import url_for

    for rule in posts:
        with app.test_request_context():
            url = url_for(rule.endpoint, **{k: v for k, v in values.items() if k in rule.arguments})
        r = client.post(url, data={"x": "1"})
        assert r.status_code == 400, f"POST {url} without a CSRF token: {r.status_code}"
        r = client.post(url, json={"x": "1"})
        assert r.status_code == 400, f"POST {url} (JSON) without a CSRF token: {r.status_code}"
