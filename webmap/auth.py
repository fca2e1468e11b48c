"""Who is asking: the logged-in user, role checks, and password checks with lockout and a login rate limit.

A session cookie carries only the user id and is signed with the app's secret key; Flask rejects cookies
older than PERMANENT_SESSION_LIFETIME, and every request renews it, so idle sessions expire.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from dataclasses import dataclass

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from sqlalchemy import select

from core import users
from core.models import User, utcnow
from webmap.dbsession import get_session

_ANON = object()


def current_user() -> User | None:
    """The logged-in, active user, or None (cached for the request)."""
    cached = g.get("_user", _ANON)
    if cached is not _ANON:
        return cached
    user = None
    uid = session.get("uid")
    if uid is not None and _session_expired():
        session.clear()
        uid = None
    if uid is not None:
        user = get_session().get(User, uid)
        if user is None or not user.active:
            session.clear()
            user = None
        else:
            session["seen"] = int(time.time())
    g._user = user
    return user


def _session_expired() -> bool:
    """Idle timeout checked on the server too (the cookie's own expiry is up to the browser)."""
    seen = session.get("seen")
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    return not isinstance(seen, int) or time.time() - seen > lifetime


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
                abort(401)
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def roles_required(*roles: str):
    """Logged in and holding one of `roles`; others get 403."""

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user().role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def login_user(user: User) -> None:
    session.clear()  # a fresh session on login: no fixation of a pre-login cookie
    session.permanent = True
    session["uid"] = user.id
    session["seen"] = int(time.time())
    g._user = user


def logout_user() -> None:
    session.clear()
    g._user = None


# ---------------------------------------------------------------- checking passwords


@dataclass
class LoginResult:
    user: User | None
    error: str | None  # Chinese message for the form, None on success
    status: int = 200


LOGIN_RATE_LIMITED = "登录尝试过于频繁，请稍后再试"


def init_limiter(app: Flask, cfg) -> Limiter:
    """Flask-Limiter on POST /login: `[webmap] login_ip_attempts_per_minute` per remote address, any
    usernames, over a sliding minute. Call it once the blueprints are registered. The per-account
    lockout (`authenticate`) is separate and lives in the database."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        # Given explicitly, memory:// included: Flask-Limiter warns when it has to pick the storage.
        # memory:// counts per process; several gunicorn workers need a shared one such as redis://.
        storage_uri=cfg.webmap.rate_limit_storage_uri,
        strategy="moving-window",
        key_prefix="wangxun",
        # If the shared storage goes down, count in this process rather than refuse every login.
        in_memory_fallback_enabled=True,
    )
    limit = limiter.limit(f"{int(cfg.webmap.login_ip_attempts_per_minute)} per minute", methods=["POST"])
    app.view_functions["auth.login"] = limit(app.view_functions["auth.login"])
    return limiter


def authenticate(cfg, username: str, password: str) -> LoginResult:
    """Check a login; counts failures and locks the account after too many."""
    s = get_session()
    user = s.scalar(select(User).where(User.username == username.strip()))
    now = utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        return LoginResult(None, "账号已被临时锁定，请稍后再试或联系管理员", 403)
    if user is None or not user.active or not users.verify_password(user, password):
        if user is not None:
            _count_failure(cfg, user, now)
        return LoginResult(None, "用户名或密码错误", 200)
    user.failed_logins = 0
    user.locked_until = None
    return LoginResult(user, None)


def _count_failure(cfg, user: User, now: dt.datetime) -> None:
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= int(cfg.webmap.login_max_failures):
        user.locked_until = now + dt.timedelta(minutes=int(cfg.webmap.login_lockout_minutes))
        user.failed_logins = 0
