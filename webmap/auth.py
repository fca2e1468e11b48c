"""Who is asking: the logged-in user, role checks, password checks with a throttle, and where a login
may send the browser next.

Sessions: the signed Flask cookie carries only a random session id. The database holds its hash
(core.models.WebSession) with the login time and the last request, so the server ends a session on
logout, on a password or role change and when the user is disabled (core.users), in every web worker
at once, and after `[webmap] session_lifetime_minutes` without a request or `session_absolute_minutes`
after the login, however busy. A cookie copied before any of these no longer works.

Logins: every attempt runs one scrypt check, against a dummy hash when the name is unknown or the user
disabled, so neither the answer nor its time tells which accounts exist. Wrong passwords are counted
per typed username *and* source address in the database (core.models.LoginThrottle): after
`login_max_failures` in a row that pair is locked for `login_lockout_minutes`, each later wrong
password doubling the lock up to `login_lockout_max_minutes`. A stranger locks only their own address
out, never the user. Flask-Limiter adds a per-address cap on attempts for any usernames.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from core import users
from core.models import User, utcnow
from webmap.dbsession import get_session

_ANON = object()


def current_user() -> User | None:
    """The logged-in, active user of a live session, or None (cached for the request)."""
    cached = g.get("_user", _ANON)
    if cached is not _ANON:
        return cached
    user = None
    token = session.get("sid")
    if token is not None:
        user = users.session_user(get_session(), token, _limits())
        if user is None:
            session.clear()  # ended, expired or forged: the browser gets a fresh cookie
    g._user = user
    return user


def _limits() -> users.SessionLimits:
    w = current_app.extensions["wangxun_cfg"].webmap
    idle = dt.timedelta(minutes=int(w.session_lifetime_minutes))
    return users.SessionLimits(
        idle=idle,
        absolute=dt.timedelta(minutes=int(w.session_absolute_minutes)),
        touch_every=min(dt.timedelta(seconds=60), idle / 4),
    )


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
    s = get_session()
    users.purge_sessions(s, _limits())
    session.clear()  # a fresh session on login: no fixation of a pre-login cookie
    session.permanent = True
    session["sid"] = users.start_session(s, user, client_address())
    g._user = user


def logout_user() -> None:
    users.end_session(get_session(), session.get("sid"))
    session.clear()
    g._user = None


def client_address() -> str:
    """The source address of the request (the client's, when `[webmap] proxy_count` trusts a proxy)."""
    return (request.remote_addr or "")[:64]


# ---------------------------------------------------------------- after the login: only our own paths

# RFC 3986 characters only: no spaces, controls, backslashes or anything non-ASCII, which browsers
# drop, turn into slashes or map before they parse, so "/\t/evil.example" reaches them as "//evil.example".
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]%]+")


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path of this site (what login_required puts in `next`), else None.

    Checked on the value as it is and again on its path after percent-decoding: it must be plain
    URL characters, start with one slash and have no scheme or host however a parser reads it."""
    if not target or not isinstance(target, str) or len(target) > 2000 or not _URL_CHARS.fullmatch(target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    path = parts.path
    for _ in range(3):  # "/%2F%2Fevil" and "/%252F%252Fevil" are refused too
        decoded = unquote(path)
        if decoded.startswith("//") or "\\" in decoded or any(ord(c) < 0x21 or c == "\x7f" for c in decoded):
            return None
        if decoded == path:
            break
        path = decoded
    return target


# ---------------------------------------------------------------- checking passwords


@dataclass
class LoginResult:
    user: User | None
    error: str | None  # Chinese message for the form, None on success
    status: int = 200
    retry_after: int | None = None  # seconds, for a locked (username, address)


LOGIN_RATE_LIMITED = "登录尝试过于频繁，请稍后再试"
WRONG_PASSWORD = "用户名或密码错误"


def init_limiter(app: Flask, cfg) -> Limiter:
    """Flask-Limiter on POST /login: `[webmap] login_ip_attempts_per_minute` per remote address, any
    usernames, over a sliding minute. Call it once the blueprints are registered. The lockout per
    (username, address) (`authenticate`) is separate and lives in the database."""
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


def authenticate(cfg, username: str, password: str, address: str) -> LoginResult:
    """Check a login from `address`: refused while (username, address) is locked, else one scrypt check
    whatever the name; a wrong password is counted, a right one clears the count."""
    s = get_session()
    name = username.strip()
    now = utcnow()
    locked_until = users.login_locked_until(s, name, address, now)
    if locked_until is not None:
        return _locked(locked_until, now)
    user = users.find_user(s, name)
    candidate = user if user is not None and user.active else None
    if not users.verify_password(candidate, password):  # the dummy hash when candidate is None
        users.record_login_failure(s, name, address, _policy(cfg), now)
        return LoginResult(None, WRONG_PASSWORD, 200)
    users.clear_login_failures(s, name, address)
    return LoginResult(candidate, None)


def _locked(until: dt.datetime, now: dt.datetime) -> LoginResult:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    return LoginResult(None, f"登录失败次数过多，请 {minutes} 分钟后再试，或联系管理员", 429, seconds)


def _policy(cfg) -> users.ThrottlePolicy:
    w = cfg.webmap
    first = dt.timedelta(minutes=int(w.login_lockout_minutes))
    return users.ThrottlePolicy(
        max_failures=int(w.login_max_failures),
        first_lock=first,
        longest_lock=max(first, dt.timedelta(minutes=int(w.login_lockout_max_minutes))),
    )
