"""Indexes for the 研判台 (triage) list: open hits ordered by score or by time.

The list always filters on status = 'new' and orders by score or detected_at (then id); with only the
single-column indexes a deep page of 10,000 open hits walked the time index and looked up every row's
status (bench.triage_bench: 271 ms for page 150 by date). A composite index per order serves the
filter and the order together.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_hits_status_score", "hits", ["status", "score", "id"])
    op.create_index("ix_hits_status_detected", "hits", ["status", "detected_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_hits_status_detected", table_name="hits")
    op.drop_index("ix_hits_status_score", table_name="hits")
