"""Finding 4: sessions are revocable on the server.

A cookie copied before logout (or before a password change, a role change or disabling the user) must
not work afterwards, in this worker or any other; and a session ends after an absolute lifetime even
when it is used all the time. Every test replays a saved cookie in a fresh client, as a thief would.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from core import db, users
from core.models import User
from tests.webmap.conftest import csrf_from, login
from webmap import create_app

COOKIE = "session"


def _cookie(client) -> str:
    c = client.get_cookie(COOKIE)
    assert c is not None, "no session cookie"
    return c.value


def _replay(app, value: str):
    """A new browser (or another gunicorn worker) presenting a stolen cookie."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, value)
    return thief.get("/", headers={"Accept": "text/html"})


def _logged_in(app, username="patrol"):
    c = app.test_client()
    assert login(c, username).status_code == 302
    assert c.get("/").status_code == 200
    return c


def test_a_cookie_saved_before_logout_is_dead_after_it(app, users_world):
    c = _logged_in(app)
    saved = _cookie(c)
    assert _replay(app, saved).status_code == 200  # the copy works while the session lives
    page = c.get("/")
    assert c.post("/logout", data={"csrf_token": csrf_from(page.text)}).status_code == 302
    r = _replay(app, saved)
    assert r.status_code == 302 and r.location.startswith("/login")


def test_logout_ends_the_session_in_every_worker(cfg, users_world):
    """Two app instances stand for two gunicorn workers sharing one database."""
    worker_a = create_app({"TESTING": True}, config=cfg)
    worker_b = create_app({"TESTING": True}, config=cfg)
    c = _logged_in(worker_a)
    saved = _cookie(c)
    assert _replay(worker_b, saved).status_code == 200
    page = c.get("/")
    c.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert _replay(worker_b, saved).status_code == 302


def test_logout_ends_only_that_session(app, users_world):
    laptop, phone = _logged_in(app), _logged_in(app)
    page = laptop.get("/")
    laptop.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert phone.get("/").status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda s, u: users.set_password(s, u, "a-new-password"), id="password"),
        pytest.param(lambda s, u: users.set_role(s, u, "admin"), id="role"),
        pytest.param(lambda s, u: users.set_active(s, u, False), id="disable"),
        pytest.param(lambda s, u: users.end_sessions(s, u), id="end_sessions"),
    ],
)
def test_account_changes_end_every_session_of_the_user(app, cfg, users_world, change):
    laptop, phone = _logged_in(app), _logged_in(app)
    other_user = _logged_in(app, "admin")
    saved = _cookie(laptop)
    with db.session_scope(cfg) as s:
        change(s, s.scalar(select(User).where(User.username == "patrol")))
    assert _replay(app, saved).status_code == 302
    assert phone.get("/").status_code == 302
    assert other_user.get("/").status_code == 200  # nobody else is logged out


@pytest.mark.parametrize(
    "args, stdin",
    [
        (["user", "passwd", "patrol"], "another-password\nanother-password\n"),
        (["user", "role", "patrol", "--role", "admin"], None),
        (["user", "disable", "patrol"], None),
        (["user", "logout", "patrol"], None),
    ],
    ids=["passwd", "role", "disable", "logout"],
)
def test_user_commands_end_sessions(app, cfg, users_world, args, stdin):
    """`wangxun user passwd|role|disable|logout` (what an administrator runs) end the user's sessions."""
    from click.testing import CliRunner

    from core.cli import cli

    c = _logged_in(app)
    saved = _cookie(c)
    env = {"WANGXUN_CORE__DATA_DIR": str(cfg.data_dir), "WANGXUN_CORE__DATABASE_URL": cfg.database_url}
    result = CliRunner().invoke(cli, args, env=env, input=stdin)
    assert result.exit_code == 0, result.output
    assert _replay(app, saved).status_code == 302


def test_disabled_user_cannot_log_in_again(app, cfg, users_world):
    with db.session_scope(cfg) as s:
        users.set_active(s, s.scalar(select(User).where(User.username == "patrol")), False)
    r = login(app.test_client(), "patrol")
    assert r.status_code == 200 and "用户名或密码错误" in r.text


def test_absolute_lifetime_ends_a_busy_session(cfg, users_world):
    web = create_app(
        {"TESTING": True, "webmap.session_lifetime_minutes": 30, "webmap.session_absolute_minutes": 60}, config=cfg
    )
    c = _logged_in(web)
    saved = _cookie(c)
    # Used a minute ago (so the idle limit is far away), but opened 61 minutes ago.
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    _age_sessions(cfg, created=now - dt.timedelta(minutes=61), seen=now - dt.timedelta(minutes=1))
    assert _replay(web, saved).status_code == 302
    assert c.get("/").status_code == 302


def test_idle_lifetime_is_checked_on_the_server(cfg, users_world):
    web = create_app({"TESTING": True, "webmap.session_lifetime_minutes": 30}, config=cfg)
    c = _logged_in(web)
    saved = _cookie(c)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    _age_sessions(cfg, created=now - dt.timedelta(minutes=40), seen=now - dt.timedelta(minutes=31))
    assert _replay(web, saved).status_code == 302


def test_database_holds_no_usable_session_token(app, cfg, users_world):
    """The table keeps a hash of the session id: reading the database does not give a cookie."""
    from core.models import WebSession

    c = _logged_in(app)
    with c.session_transaction() as sess:
        token = sess["sid"]
    with db.session_scope(cfg) as s:
        stored = list(s.scalars(select(WebSession.token_hash)))
    assert stored and token not in stored and all(len(h) == 64 for h in stored)


def _age_sessions(cfg, created: dt.datetime, seen: dt.datetime) -> None:
    from core.models import WebSession

    with db.session_scope(cfg) as s:
        s.execute(update(WebSession).values(created_at=created, last_seen_at=seen))


def test_0007_upgrade_and_downgrade_keep_users_and_their_zones(tmp_path):
    """0007 drops two columns of `users` in place: a table copy would cascade to user_grids."""
    from alembic import command
    from sqlalchemy import text

    from tests.conftest import make_config

    c = make_config(tmp_path)
    db.upgrade(c, "0006")
    with db.get_engine(c).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO grids (id, code, name, level, geometry, min_lon, min_lat, max_lon, max_lat,"
                " centroid_lon, centroid_lat, created_at) VALUES (1, '320508001001', '平江网格', 'grid', '{}',"
                " 120.6, 31.3, 120.61, 31.31, 120.605, 31.305, '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO users (id, username, password_hash, display_name, role, active, failed_logins,"
                " locked_until, created_at) VALUES (1, 'gm', 'x', '网格员', 'grid_manager', 1, 3, NULL, '2026-01-01')"
            )
        )
        conn.execute(text("INSERT INTO user_grids (user_id, grid_id) VALUES (1, 1)"))
    db.upgrade(c)
    count = "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM user_grids)"
    with db.get_engine(c).connect() as conn:
        assert tuple(conn.execute(text(count)).one()) == (1, 1)
    command.downgrade(db._alembic_config(c), "0006")
    with db.get_engine(c).connect() as conn:
        assert tuple(conn.execute(text(count)).one()) == (1, 1)
        assert conn.execute(text("SELECT failed_logins FROM users")).scalar_one() == 0
    db.dispose(c)
