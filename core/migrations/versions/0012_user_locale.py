"""The language a user reads the web app in: `users.locale` ("zh_CN" or "en"), chosen per user from the
navigation (webmap/i18n.py). Existing users keep Chinese: the column is added with "zh_CN" as the
server default, so every row stays and reads zh_CN; NULL also means zh_CN.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("locale", sa.String(16), nullable=True, server_default="zh_CN"))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+), as 0011: a batch copy would drop `users`, which sessions,
    # zones and the audit log point at.
    op.drop_column("users", "locale")
