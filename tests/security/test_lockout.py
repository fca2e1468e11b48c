"""Finding 12: no user enumeration through the login, and no lockout of one person by another.

An unknown username costs the same scrypt check as a known one (counted, not timed: the same hash
function runs once with the same parameters). Failures are counted per account *and* source address in
the database, so every web worker sees them, a stranger's wrong passwords lock only the stranger, and
each lock after the first lasts longer.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core import db, users
from core.models import User
from tests.webmap.conftest import PASSWORD, login
from webmap import create_app

HOME, STRANGER = "127.0.0.11", "127.0.0.99"


def _client(web, address: str):
    c = web.test_client()
    c.environ_base["REMOTE_ADDR"] = address
    return c


@pytest.fixture
def hash_calls(monkeypatch):
    """Every password hash the login checks, in order (the stored hash's method and parameters)."""
    calls: list[str] = []
    real = users.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        calls.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr(users, "check_password_hash", counting)
    return calls


def test_unknown_user_costs_the_same_scrypt_check(app, cfg, users_world, hash_calls):
    c = _client(app, HOME)
    with db.session_scope(cfg) as s:
        real_method = s.scalar(select(User.password_hash).where(User.username == "patrol")).split("$", 1)[0]
    assert real_method.startswith("scrypt:")

    wrong = login(c, "patrol", "wrong-password")
    assert hash_calls == [real_method]
    hash_calls.clear()
    unknown = login(c, "no-such-user", "wrong-password")
    assert hash_calls == [real_method], "an unknown user must run the same scrypt check as a real one"
    assert (unknown.status_code, unknown.text.count("用户名或密码错误")) == (wrong.status_code, 1)

    hash_calls.clear()
    with db.session_scope(cfg) as s:
        users.set_active(s, s.scalar(select(User).where(User.username == "admin")), False)
    disabled = login(c, "admin", PASSWORD)  # the right password of a disabled account
    assert hash_calls == [real_method]
    assert (disabled.status_code, disabled.text.count("用户名或密码错误")) == (wrong.status_code, 1)


def test_a_stranger_cannot_lock_out_the_admin(app, cfg, users_world):
    stranger = _client(app, STRANGER)
    for _ in range(cfg.webmap.login_max_failures + 3):
        login(stranger, "admin", "guess")
    assert login(stranger, "admin", PASSWORD).status_code == 429  # the stranger's own address is locked
    assert login(_client(app, HOME), "admin", PASSWORD).status_code == 302  # the admin's is not


def test_unknown_and_known_accounts_lock_alike(app, cfg, users_world):
    """Locking only real accounts would tell an attacker which names exist."""
    c = _client(app, STRANGER)
    answers = {}
    for name in ("patrol", "no-such-user"):
        for _ in range(cfg.webmap.login_max_failures):
            login(c, name, "guess")
        r = login(c, name, "guess")
        answers[name] = (r.status_code, "登录失败次数过多" in r.text)
    assert answers["patrol"] == answers["no-such-user"] == (429, True)


def test_each_lock_lasts_longer_than_the_one_before(app, cfg, users_world):
    c = _client(app, STRANGER)
    lengths = []
    for _ in range(3):
        for _ in range(cfg.webmap.login_max_failures):
            login(c, "patrol", "guess")
        row = _throttle(cfg, "patrol", STRANGER)
        assert row.locked_until is not None
        lengths.append(row.locked_until - row.last_failure_at)
        _expire_lock(cfg, "patrol", STRANGER)
    base = dt.timedelta(minutes=cfg.webmap.login_lockout_minutes)
    assert lengths == [base, 2 * base, 4 * base]


def test_counters_are_shared_by_workers_and_reset_by_a_success(cfg, users_world):
    worker_a = create_app({"TESTING": True}, config=cfg)
    worker_b = create_app({"TESTING": True}, config=cfg)
    n = cfg.webmap.login_max_failures
    for i in range(n - 1):
        login(_client(worker_a if i % 2 else worker_b, HOME), "patrol", "guess")
    assert login(_client(worker_a, HOME), "patrol").status_code == 302  # a success clears the count
    assert _throttle(cfg, "patrol", HOME) is None
    for i in range(n):
        login(_client(worker_a if i % 2 else worker_b, HOME), "patrol", "guess")
    assert login(_client(worker_b, HOME), "patrol").status_code == 429  # locked, whichever worker answers


def test_locked_attempts_do_not_check_the_password(app, cfg, users_world, hash_calls):
    c = _client(app, STRANGER)
    for _ in range(cfg.webmap.login_max_failures):
        login(c, "patrol", "guess")
    hash_calls.clear()
    r = login(c, "patrol", PASSWORD)
    assert r.status_code == 429 and hash_calls == [] and r.headers.get("Retry-After")


def _throttle(cfg, username: str, address: str):
    from core.models import LoginThrottle

    with db.session_scope(cfg) as s:
        row = s.scalar(
            select(LoginThrottle).where(LoginThrottle.username == username, LoginThrottle.address == address)
        )
        if row is not None:
            s.expunge(row)
        return row


def _expire_lock(cfg, username: str, address: str) -> None:
    from core.models import LoginThrottle

    with db.session_scope(cfg) as s:
        row = s.scalar(
            select(LoginThrottle).where(LoginThrottle.username == username, LoginThrottle.address == address)
        )
        row.locked_until = dt.datetime(2000, 1, 1)
