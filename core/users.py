"""Users, roles and zones. Passwords are stored as salted scrypt hashes (werkzeug), never in clear."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from core.errors import UserError
from core.models import ROLES, Grid, User, UserGrid

MIN_PASSWORD_LENGTH = 8


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    grid_codes: list[str] | tuple[str, ...] = (),
    email: str | None = None,
) -> User:
    """Add a user; a grid manager needs at least one grid (a street code assigns all its grids)."""
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User).where(User.username == username)):
        raise UserError(f"user {username!r} already exists")
    if role == "grid_manager" and not grid_codes:
        raise UserError("a grid manager needs at least one grid code (--grid)")
    user = User(
        username=username,
        password_hash=generate_password_hash(password),
        display_name=display_name or username,
        role=role,
        email=email,
    )
    session.add(user)
    session.flush()
    for grid in _expand_grids(session, grid_codes):
        session.add(UserGrid(user_id=user.id, grid_id=grid.id))
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


def _expand_grids(session: Session, codes) -> list[Grid]:
    """Grids for the codes given; a street or district code stands for every grid under it."""
    out: dict[int, Grid] = {}
    for code in codes:
        grid = session.scalar(select(Grid).where(Grid.code == code))
        if grid is None:
            raise UserError(f"no grid with code {code!r}")
        stack = [grid]
        while stack:
            g = stack.pop()
            if g.level == "grid":
                out[g.id] = g
            stack.extend(session.scalars(select(Grid).where(Grid.parent_id == g.id)))
    return list(out.values())
