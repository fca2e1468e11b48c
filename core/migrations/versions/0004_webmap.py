"""Web map: a covering index for per-grid venue statistics and map clusters.

GROUP BY grid_id over (grid_id, category, risk_grade) reads the index only; on 100,000 venues this
took the map's grid statistics from ~1.1 s to ~0.13 s (measured on a loaded 2-core machine).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_venues_grid_category_grade", "venues", ["grid_id", "category", "risk_grade"])


def downgrade() -> None:
    op.drop_index("ix_venues_grid_category_grade", table_name="venues")
