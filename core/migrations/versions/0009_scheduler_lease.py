"""A standby scheduler: the lease one scheduler holds, and one job run per job and scheduled time.

`scheduler_leases` holds the one row the running scheduler renews (jobs.lease); a second `wangxun
jobs` waits until it expires. `job_runs.scheduled_for` is the time APScheduler fired the run for, and a
unique (job_id, scheduled_for) makes the database refuse a second run of the same slot. Existing runs
keep a NULL slot, which a unique constraint does not compare. SQLite cannot add a constraint to an
existing table, so it gets a unique index of the same name, which enforces the same.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("acquired_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.add_column("job_runs", sa.Column("scheduled_for", sa.DateTime(), nullable=True))
    op.create_index("uq_job_runs_job_slot", "job_runs", ["job_id", "scheduled_for"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_job_runs_job_slot", table_name="job_runs")
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("scheduled_for")
    op.drop_table("scheduler_leases")
