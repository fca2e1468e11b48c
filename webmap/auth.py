"""Who is asking: the logged-in user, role checks, and password checks with lockout and rate limits.

A session cookie carries only the user id and is signed with the app's secret key; Flask rejects cookies
older than PERMANENT_SESSION_LIFETIME, and every request renews it, so idle sessions expire.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import threading
import time
from dataclasses import dataclass

from flask import abort, current_app, g, redirect, request, session, url_for
from sqlalchemy import select

from core import users
from core.models import User, utcnow
from webmap.dbsession import get_session

ROLE_NAMES = {"admin": "管理员", "patrol": "巡查人员", "grid_manager": "网格员"}
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


class IpRateLimiter:
    """Sliding one-minute window per IP, in process memory (one app process; behind several workers
    the per-account lockout in the database still holds)."""

    def __init__(self):
        self._hits: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def allow(self, ip: str, limit: int, window_s: float = 60.0) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._hits) > 10_000:  # forget idle addresses so the table cannot grow without end
                for key in [k for k, v in self._hits.items() if not v or now - v[-1] > window_s]:
                    del self._hits[key]
            q = self._hits[ip]
            while q and now - q[0] > window_s:
                q.popleft()
            if len(q) >= limit:
                return False
            q.append(now)
            return True


def authenticate(cfg, limiter: IpRateLimiter, username: str, password: str, ip: str) -> LoginResult:
    """Check a login; counts failures, locks the account after too many, and limits attempts per IP."""
    if not limiter.allow(ip or "?", int(cfg.webmap.login_ip_attempts_per_minute)):
        return LoginResult(None, "登录尝试过于频繁，请稍后再试", 429)
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
