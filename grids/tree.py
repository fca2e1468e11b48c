"""The grid hierarchy (区县 → 街道 → 网格): a grid and everything under it.

Zones, search filters and user creation all ask here. A street or district code stands for every
grid under it; the walk guards against a parent cycle in imported data.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import UserError
from core.models import Grid


def descendants(session: Session, grid_ids: Iterable[int]) -> set[int]:
    """The grids and every grid under them, at any level (a district filter matches its streets too)."""
    children = _children(session)
    out: set[int] = set()
    stack = list(grid_ids)
    while stack:
        gid = stack.pop()
        if gid not in out:
            out.add(gid)
            stack.extend(children.get(gid, ()))
    return out


def leaves(session: Session, grid_ids: Iterable[int]) -> set[int]:
    """The leaf grids (网格) at or under the given grids: what a zone is made of."""
    children = _children(session)
    return {gid for gid in descendants(session, grid_ids) if gid not in children}


def leaves_for_codes(session: Session, codes: Iterable[str]) -> set[int]:
    """Leaf grids under the given grid, street or district codes; an unknown code is a UserError."""
    ids = []
    for code in codes:
        gid = session.scalar(select(Grid.id).where(Grid.code == code))
        if gid is None:
            raise UserError(f"no grid with code {code!r}")
        ids.append(gid)
    return leaves(session, ids)


def _children(session: Session) -> dict[int | None, list[int]]:
    """parent id -> child ids, in one query (a district has at most a few thousand grids)."""
    children: dict[int | None, list[int]] = {}
    for gid, parent in session.execute(select(Grid.id, Grid.parent_id)):
        children.setdefault(parent, []).append(gid)
    return children
