"""What a refused request must leave as it was: every table of the product's records (not the audit log,
which records the refusal, nor the tables that track sessions and logins), and the files under
data_dir/attachments."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from core import db
from core.models import Base

# Written by a refusal (the "denied" row) or by any request of a logged-in user (session bookkeeping).
IGNORED_TABLES = {"audit_log"}
IGNORED_WORDS = ("session", "login")
# Of a user, what a write through another's zone could change; not the login bookkeeping columns.
USER_COLUMNS = ("id", "username", "role", "active", "password_hash", "display_name")


def tables() -> list:
    return [
        t
        for t in Base.metadata.sorted_tables
        if t.name not in IGNORED_TABLES and not any(w in t.name for w in IGNORED_WORDS)
    ]


def snapshot(cfg) -> dict[str, list[tuple]]:
    """Every row of every record table, in primary-key order, plus the attachment files."""
    out: dict[str, list[tuple]] = {}
    with db.session_scope(cfg) as s:
        for t in tables():
            columns = [t.c[c] for c in USER_COLUMNS if c in t.c] if t.name == "users" else list(t.c)
            out[t.name] = [_row(r) for r in s.execute(select(*columns).order_by(*t.primary_key.columns)).all()]
    folder = Path(cfg.data_dir) / "attachments"
    out["<attachment files>"] = (
        sorted((str(p.relative_to(folder)),) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
    )
    return out


def _row(row) -> tuple:
    """A row as a hashable tuple (JSON columns hold lists and dicts)."""
    return tuple(json.dumps(v, sort_keys=True, default=str) if isinstance(v, (list, dict)) else v for v in row)


def changes(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> dict[str, str]:
    """{table: 'n rows added, m removed'} for every table that differs."""
    out = {}
    for name in sorted(set(before) | set(after)):
        b, a = set(before.get(name, [])), set(after.get(name, []))
        if a != b:
            out[name] = f"{len(a - b)} rows added or changed, {len(b - a)} rows removed or changed"
    return out
