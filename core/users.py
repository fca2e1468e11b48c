"""Users, roles and zones (the leaf grids a grid manager may see and touch). Passwords are stored as
salted scrypt hashes (werkzeug), never in clear."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from core.errors import UserError
from core.models import Grid, User, UserGrid
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


def verify_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = generate_password_hash(password)


def zone_grid_ids(session: Session, user: User) -> set[int] | None:
    """Grid ids a user may see: None means the whole district (admin, patrol staff)."""
    if user.role != "grid_manager":
        return None
    return set(session.scalars(select(UserGrid.grid_id).where(UserGrid.user_id == user.id)))
