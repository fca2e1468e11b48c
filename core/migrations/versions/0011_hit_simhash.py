"""A near-duplicate fingerprint per hit: `hits.simhash`, a 64-bit SimHash of title and text
(hits.neardup), so the 研判台 can group reposts of one listing under one representative.

New hits get it when they are written. Existing rows stay NULL here, since computing it means reading
every hit's text. The triage page fills it in for the open hits it lists, once.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("hits", sa.Column("simhash", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch table copy would drop `hits`, which clues, alerts and
    # evidence rows point at.
    op.drop_column("hits", "simhash")
