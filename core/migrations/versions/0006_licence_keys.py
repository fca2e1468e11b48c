"""Licence keys: venues and agencies are matched on a normalised licence number, kept as written.

Imports compared licence numbers as typed, so L-JS-CJ00001 and l－js－cj00001 made two venues (or an
IntegrityError for agencies, whose importer upper-cased before inserting). Each table gets
`licence_key` (core.licences.licence_key: NFKC, upper case, no dashes or spaces) with a unique index;
`licence_no` stays as the user wrote it.

Every row is kept. Rows that already share a key (the duplicates the old imports made) cannot all
carry it under a unique index: the oldest row (lowest id) keeps the key, the others get none and are
named in a warning so someone can merge them; the importer refuses to guess between them.

Revision ID: 0006
Revises: 0005
"""

import logging
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLES = ("venues", "agencies")
# core.licences.licence_key as of this revision. Copied, not imported: a migration is history, and
# keys written by a later normalisation would need a revision of their own.
_DASHES = (
    "\u002d\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d"
    "\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead"
    "\u2212\u2043\u30fc"
)
_DROP = re.compile(f"[\\s{re.escape(_DASHES)}\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]+")


def _licence_key(number):
    if number is None:
        return None
    return _DROP.sub("", unicodedata.normalize("NFKC", str(number))).upper() or None


def upgrade() -> None:
    log = logging.getLogger("alembic.runtime.migration")
    bind = op.get_bind()
    for table in _TABLES:
        op.add_column(table, sa.Column("licence_key", sa.String(length=64), nullable=True))
        rows = bind.execute(sa.text(f"SELECT id, licence_no FROM {table} ORDER BY id")).all()
        holder: dict[str, int] = {}
        keys = []
        for row_id, number in rows:
            key = _licence_key(number)
            if key is not None and key in holder:
                log.warning(
                    "%s %s has the licence of %s %s written another way (%r); it keeps its row but no "
                    "licence_key: merge the two",
                    table,
                    row_id,
                    table,
                    holder[key],
                    number,
                )
                continue
            if key is not None:
                holder[key] = row_id
                keys.append({"id": row_id, "key": key})
        if keys:
            bind.execute(sa.text(f"UPDATE {table} SET licence_key = :key WHERE id = :id"), keys)
        op.create_index(f"uq_{table}_licence_key", table, ["licence_key"], unique=True)


def downgrade() -> None:
    for table in _TABLES:
        op.drop_index(f"uq_{table}_licence_key", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("licence_key")
