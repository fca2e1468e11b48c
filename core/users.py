"""Users, roles and zones (the leaf grids a grid manager may see and touch), their web sessions and the
login throttle. Passwords are stored as salted scrypt hashes (werkzeug), never in clear.

Web sessions live in the database (core.models.WebSession), so the server can end them and every web
worker sees the same ones: a password change, a role change and disabling a user end all the user's
sessions here, whoever calls them (the CLI, a future admin page). Plain functions, no Flask.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from core.errors import UserError
from core.models import Grid, LoginThrottle, User, UserGrid, WebSession, utcnow
from core.vocabulary import ROLES

MIN_PASSWORD_LENGTH = 8


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    grid_ids: Iterable[int] = (),
    email: str | None = None,
) -> User:
    """Add a user. A grid manager's zone is `grid_ids`, leaf grids; callers holding grid, street or
    district codes turn them into leaf grids with grids.tree.leaves_for_codes."""
    grid_ids = sorted(set(grid_ids))
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User).where(User.username == username)):
        raise UserError(f"user {username!r} already exists")
    if role == "grid_manager" and not grid_ids:
        raise UserError("a grid manager needs at least one grid (--grid CODE)")
    found = set(session.scalars(select(Grid.id).where(Grid.id.in_(grid_ids), Grid.level == "grid")))
    if found != set(grid_ids):
        raise UserError(f"not leaf grids: {sorted(set(grid_ids) - found)}")
    user = User(
        username=username,
        password_hash=generate_password_hash(password),
        display_name=display_name or username,
        role=role,
        email=email,
    )
    session.add(user)
    session.flush()
    for grid_id in grid_ids:
        session.add(UserGrid(user_id=user.id, grid_id=grid_id))
    session.flush()
    return user


def verify_password(user: User | None, password: str) -> bool:
    """The password check of a login. With no user (an unknown name, or one the caller will refuse
    anyway) the password is checked against a dummy hash made the same way, so an unknown name costs
    the same scrypt run as a known one and its answer time tells nothing."""
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(user.password_hash, password)


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))  # the same method and parameters as real hashes


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def set_password(session: Session, user: User, password: str) -> None:
    """A new password; every session of the user ends (a thief's copy of the cookie included)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = generate_password_hash(password)
    end_sessions(session, user)


def set_role(session: Session, user: User, role: str, grid_ids: Iterable[int] | None = None) -> None:
    """A new role (and, for a grid manager, a new zone when `grid_ids` is given); every session of the
    user ends, so no page keeps the old rights."""
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if grid_ids is not None:
        grid_ids = sorted(set(grid_ids))
        found = set(session.scalars(select(Grid.id).where(Grid.id.in_(grid_ids), Grid.level == "grid")))
        if found != set(grid_ids):
            raise UserError(f"not leaf grids: {sorted(set(grid_ids) - found)}")
        session.execute(delete(UserGrid).where(UserGrid.user_id == user.id))
        session.add_all(UserGrid(user_id=user.id, grid_id=g) for g in grid_ids)
    if role == "grid_manager" and not session.scalar(select(UserGrid.grid_id).where(UserGrid.user_id == user.id)):
        raise UserError("a grid manager needs at least one grid (--grid CODE)")
    user.role = role
    end_sessions(session, user)


def set_active(session: Session, user: User, active: bool) -> None:
    """Enable or disable a login; disabling ends every session of the user."""
    user.active = active
    if not active:
        end_sessions(session, user)


# ---------------------------------------------------------------- web sessions


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User, address: str | None, now: dt.datetime | None = None) -> str:
    """A new web session; returns the random id for the cookie (the database keeps only its hash)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(token_hash=_token_hash(token), user_id=user.id, created_at=now, last_seen_at=now, address=address)
    )
    session.flush()
    return token


@dataclass(frozen=True)
class SessionLimits:
    idle: dt.timedelta  # without a request
    absolute: dt.timedelta  # since login, however busy
    touch_every: dt.timedelta = dt.timedelta(seconds=60)  # last_seen_at is written at most this often


def session_user(
    session: Session, token: str | None, limits: SessionLimits, now: dt.datetime | None = None
) -> User | None:
    """The active user of a live session, or None. An expired session, or one of a disabled user, is
    deleted on the way. Marks the session as used (at most once per `limits.touch_every`)."""
    if not token or not isinstance(token, str):
        return None
    now = now or utcnow()
    row = session.scalar(select(WebSession).where(WebSession.token_hash == _token_hash(token)))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if (
        user is None
        or not user.active
        or now - row.created_at > limits.absolute
        or now - row.last_seen_at > limits.idle
    ):
        session.delete(row)
        return None
    if now - row.last_seen_at >= limits.touch_every:
        row.last_seen_at = now
    return user


def end_session(session: Session, token: str | None) -> None:
    if token and isinstance(token, str):
        session.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))


def end_sessions(session: Session, user: User) -> int:
    """End every session of `user` (all browsers, all workers); returns how many there were."""
    session.flush()
    return session.execute(delete(WebSession).where(WebSession.user_id == user.id)).rowcount or 0


def purge_sessions(session: Session, limits: SessionLimits, now: dt.datetime | None = None) -> None:
    """Delete sessions past either lifetime (called at login, so the table stays small)."""
    now = now or utcnow()
    session.execute(
        delete(WebSession).where(
            or_(WebSession.last_seen_at < now - limits.idle, WebSession.created_at < now - limits.absolute)
        )
    )


# ---------------------------------------------------------------- login throttle


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int  # wrong passwords in a row before the first lock
    first_lock: dt.timedelta  # each later wrong password doubles the lock ...
    longest_lock: dt.timedelta  # ... up to this


def login_locked_until(
    session: Session, username: str, address: str, now: dt.datetime | None = None
) -> dt.datetime | None:
    """When the lock of (typed username, source address) ends, or None when it may try now."""
    now = now or utcnow()
    row = _throttle_row(session, username, address)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return row.locked_until
    return None


def record_login_failure(
    session: Session, username: str, address: str, policy: ThrottlePolicy, now: dt.datetime | None = None
) -> dt.datetime | None:
    """Count a wrong password of (typed username, source address), known user or not; returns the end
    of the lock it starts, if any. Failures older than the longest lock are forgotten."""
    now = now or utcnow()
    session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - policy.longest_lock))
    row = _throttle_row(session, username, address)
    if row is None:
        row = LoginThrottle(username=_key(username), address=address, failures=0)
        session.add(row)
    row.failures = (row.failures or 0) + 1
    row.last_failure_at = now
    over = row.failures - policy.max_failures
    if over >= 0:
        length = min(policy.first_lock * (2 ** min(over, 32)), policy.longest_lock)
        row.locked_until = now + length
    session.flush()
    return row.locked_until if over >= 0 else None


def clear_login_failures(session: Session, username: str, address: str) -> None:
    session.execute(
        delete(LoginThrottle).where(LoginThrottle.username == _key(username), LoginThrottle.address == address)
    )


def _key(username: str) -> str:
    return username.strip()[:50]


def _throttle_row(session: Session, username: str, address: str) -> LoginThrottle | None:
    return session.scalar(
        select(LoginThrottle).where(LoginThrottle.username == _key(username), LoginThrottle.address == address)
    )


def zone_grid_ids(session: Session, user: User) -> set[int] | None:
    """Grid ids a user may see: None means the whole district (admin, patrol staff)."""
    if user.role != "grid_manager":
        return None
    return set(session.scalars(select(UserGrid.grid_id).where(UserGrid.user_id == user.id)))
