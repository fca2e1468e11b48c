"""Search: the embedded full-text index (SQLite FTS5) and triggers that feed the search outbox.

The FTS5 table is contentless (the hits table already holds the text) and indexes the analysed token
stream from search/analysis.py, because Python's sqlite3 cannot register a CJK tokenizer, plus
hashed filter tags. Contentless FTS5 in SQLite < 3.43 can only delete a row by repeating what was
indexed, so search_fts_docs keeps what each row was indexed from; search_fts_meta holds the values
that date/score ranges and facets read. The search backend recreates the same tables on reindex.

The triggers put every inserted, changed or deleted hit in search_outbox inside the writer's own
transaction, so no writer can forget to queue a hit; search.outbox.enqueue stays for databases
without them (PostgreSQL), and duplicate queue rows are merged when drained. (Revision 0005 dropped the
triggers: hits.lifecycle now queues every change on every database.)

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_UPGRADE = [
    # unicode61 splits the stream on the spaces; the tokens themselves are only letters and digits.
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
        title, body, account, tags, content='', tokenize='unicode61 remove_diacritics 0')""",
    """CREATE TABLE IF NOT EXISTS search_fts_docs (
        rowid INTEGER PRIMARY KEY, title TEXT, body TEXT, account TEXT, tags TEXT)""",
    """CREATE TABLE IF NOT EXISTS search_fts_meta (
        rowid INTEGER PRIMARY KEY, platform TEXT, source TEXT, status TEXT, grid_id INTEGER, score REAL,
        day TEXT, labels TEXT)""",
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
_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS hits_search_outbox_delete",
    "DROP TRIGGER IF EXISTS hits_search_outbox_update",
    "DROP TRIGGER IF EXISTS hits_search_outbox_insert",
    "DROP TABLE IF EXISTS search_fts_meta",
    "DROP TABLE IF EXISTS search_fts_docs",
    "DROP TABLE IF EXISTS search_fts",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # the embedded backend needs SQLite; other databases use the elasticsearch backend
    for sql in _UPGRADE:
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for sql in _DOWNGRADE:
        op.execute(sql)
