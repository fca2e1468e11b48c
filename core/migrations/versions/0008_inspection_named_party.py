"""Inspections and cases whose subject is a named party, not a registered venue.

An online seller or an unlicensed tour operator has no venue, so `inspections.venue_id` becomes nullable
and the party is recorded as known: `party_name`, `party_account` (platform and account), `party_contact`,
`party_address`. A venue-less inspection belongs to `grid_id`, the grid of the clue (or the venue page)
it was recorded from, so zone checks keep working. Every existing row keeps its venue.

SQLite cannot ALTER a column's NOT NULL. Alembic's table copy would DROP the old `inspections` table,
and with foreign keys on SQLite turns that drop into a DELETE that cascades to `attachments` (the
photos) and fails on `clues.inspection_id`; foreign keys cannot be switched off inside the migration's
transaction. So the NOT NULL is removed the way SQLite documents for exactly this change ("Making Other
Kinds Of Table Schema Changes", https://www.sqlite.org/lang_altertable.html): the table's CREATE
statement in sqlite_schema is edited under `writable_schema`, the schema version is bumped, and an
integrity check must pass. No row is copied or touched. Other databases use ALTER COLUMN.

Downgrade restores NOT NULL and drops the party columns; it refuses while any inspection has no venue
(those rows would have nowhere to go).

Revision ID: 0008
Revises: 0007
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PARTY_COLUMNS = (
    ("party_name", 200),
    ("party_account", 200),
    ("party_contact", 100),
    ("party_address", 300),
)


def upgrade() -> None:
    if _sqlite():
        _set_venue_id_not_null(False)
    else:
        op.alter_column("inspections", "venue_id", existing_type=sa.Integer(), nullable=True)
    op.add_column("inspections", sa.Column("grid_id", sa.Integer(), nullable=True))
    for name, length in PARTY_COLUMNS:
        op.add_column("inspections", sa.Column(name, sa.String(length=length), nullable=True))
    op.create_index("ix_inspections_grid_id", "inspections", ["grid_id"])


def downgrade() -> None:
    bind = op.get_bind()
    orphans = bind.execute(sa.text("SELECT count(*) FROM inspections WHERE venue_id IS NULL")).scalar_one()
    if orphans:
        raise RuntimeError(
            f"cannot downgrade below 0008: {orphans} inspections have a named party and no venue; "
            "export them (台账 → 检查记录) and delete them first"
        )
    op.drop_index("ix_inspections_grid_id", table_name="inspections")
    for name, _ in reversed(PARTY_COLUMNS):
        op.drop_column("inspections", name)
    op.drop_column("inspections", "grid_id")
    if _sqlite():
        _set_venue_id_not_null(True)
    else:
        op.alter_column("inspections", "venue_id", existing_type=sa.Integer(), nullable=False)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _set_venue_id_not_null(not_null: bool) -> None:
    """Add or remove NOT NULL on inspections.venue_id in SQLite's stored CREATE TABLE statement."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'inspections'").scalar()
    if not_null:
        pattern, replacement = re.compile(r"(\bvenue_id\s+INTEGER)(\s*,)", re.IGNORECASE), r"\1 NOT NULL\2"
    else:
        pattern, replacement = re.compile(r"(\bvenue_id\s+INTEGER)\s+NOT\s+NULL", re.IGNORECASE), r"\1"
    new_sql, found = pattern.subn(replacement, sql or "")
    if found != 1:
        raise RuntimeError(f"inspections.venue_id: unexpected table definition, not changed: {sql!r}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'inspections'", (new_sql,)
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = [r[0] for r in bind.exec_driver_sql("PRAGMA integrity_check").fetchall()]
    if problems != ["ok"]:
        raise RuntimeError(f"inspections.venue_id: integrity check failed after the change: {problems[:5]}")
