"""One path for every change to a hit: drop the SQLite-only triggers that fed the search outbox.

hits.lifecycle now queues every insert, change and deletion of a hit in the writer's transaction,
on every database. The triggers did the same on SQLite only (PostgreSQL deployments never queued
triage changes); kept beside the new path they would queue every change twice. Rows already waiting
in the outbox stay and are drained as before.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TRIGGERS = ("hits_search_outbox_insert", "hits_search_outbox_update", "hits_search_outbox_delete")
# The 0003 definitions, for a downgrade.
_RECREATE = [
    """CREATE TRIGGER IF NOT EXISTS hits_search_outbox_insert AFTER INSERT ON hits BEGIN
        INSERT INTO search_outbox (hit_id, op, created_at, attempts)
        VALUES (NEW.id, 'index', CURRENT_TIMESTAMP, 0); END""",
    """CREATE TRIGGER IF NOT EXISTS hits_search_outbox_update AFTER UPDATE OF
        url, source, platform, title, text, account, labels, score, status, location_name, lon, lat,
        grid_id, venue_id, published_at, detected_at ON hits BEGIN
        INSERT INTO search_outbox (hit_id, op, created_at, attempts)
        VALUES (NEW.id, 'index', CURRENT_TIMESTAMP, 0); END""",
    """CREATE TRIGGER IF NOT EXISTS hits_search_outbox_delete AFTER DELETE ON hits BEGIN
        INSERT INTO search_outbox (hit_id, op, created_at, attempts)
        VALUES (OLD.id, 'delete', CURRENT_TIMESTAMP, 0); END""",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # 0003 created the triggers on SQLite only
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for sql in _RECREATE:
        op.execute(sql)
