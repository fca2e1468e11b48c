"""Web sessions the server can end, and login throttling per account and source address.

- `web_sessions`: one row per login; the cookie carries a random id and the row its SHA-256. Logout, a
  password or role change and disabling a user delete rows, so a copied cookie stops working at once,
  in every web worker. The rows also give each session an absolute lifetime besides the idle one.
- `login_throttle`: wrong passwords per typed username and source address, with the lock that grows.
  The per-account counters `users.failed_logins` / `users.locked_until` are dropped: a lock per account
  let anyone lock out the administrator from anywhere. Their values are a few minutes of lock state,
  not records, so nothing is carried over (an account locked when this runs is unlocked).

Dropping the two columns uses ALTER TABLE ... DROP COLUMN, not a table copy: copying `users` would
drop the old table while foreign keys are on, and SQLite cascades that to user_grids. SQLite has
DROP COLUMN since 3.35 (2021).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username", "address"),
    )
    op.create_index("ix_login_throttle_last_failure_at", "login_throttle", ["last_failure_at"])
    _require_drop_column()
    op.drop_column("users", "failed_logins")
    op.drop_column("users", "locked_until")


def downgrade() -> None:
    op.add_column("users", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("users", sa.Column("locked_until", sa.DateTime(), nullable=True))
    op.drop_index("ix_login_throttle_last_failure_at", table_name="login_throttle")
    op.drop_table("login_throttle")
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")


def _require_drop_column() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    version = bind.exec_driver_sql("SELECT sqlite_version()").scalar()
    if tuple(int(p) for p in version.split(".")[:2]) < (3, 35):
        raise RuntimeError(f"this upgrade needs SQLite 3.35 or newer (ALTER TABLE DROP COLUMN); found {version}")
