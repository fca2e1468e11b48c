"""The append-only hash chain over evidence rows.

Each record's hash is the SHA-256 of a canonical JSON of all its fields, including the hashes of its
files and the previous record's hash, so changing any field, any file or the order of records breaks
every later link. Appends are serialised so two crawls writing at once cannot fork the chain: on
SQLite the appender takes the database write lock before reading the chain head; on PostgreSQL it
takes a transaction-scoped advisory lock. The unique constraints on seq and record_hash are the
backstop everywhere (a lost race fails the caller's transaction instead of forking the chain).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import false, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.db import StatementConnection, in_write_transaction
from core.models import Evidence

GENESIS_HASH = "0" * 64
CHAIN_VERSION = 1
# Any fixed 64-bit number; it names "the evidence chain" among PostgreSQL advisory locks.
_HEAD = select(Evidence.seq, Evidence.record_hash).order_by(Evidence.seq.desc()).limit(1)
# Built once, like _HEAD: db.StatementConnection compiles each statement object once.
_TAKE_WRITE_LOCK = update(Evidence.__table__).where(false()).values(seq=Evidence.__table__.c.seq)
_PG_LOCK_KEY = int.from_bytes(hashlib.sha256(b"wangxun.evidence.chain").digest()[:8], "big", signed=True)


def chain_fields(ev) -> dict[str, Any]:
    """Every field the record hash covers (the row id is not one: it is storage, not evidence).
    `ev` is an Evidence row or anything with the same attributes (a record about to be inserted)."""
    return {
        "chain_version": CHAIN_VERSION,
        "seq": ev.seq,
        "page_version_id": ev.page_version_id,
        "url": ev.url,
        "final_url": ev.final_url,
        "status": ev.status,
        "fetched_at_utc": utc_iso(ev.fetched_at_utc),
        "fetched_at_local": ev.fetched_at_local,
        "files": ev.files,
        "prev_hash": ev.prev_hash,
    }


def record_hash(ev) -> str:
    return hashlib.sha256(canonical_json(chain_fields(ev))).hexdigest()


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same fields always give the same bytes."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def utc_iso(moment: dt.datetime) -> str:
    """UTC with microseconds and a Z; naive datetimes from the database are UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lock_and_read_head(session: Session | Connection | StatementConnection) -> tuple[int, str]:
    """Take the chain's append lock for the rest of the caller's transaction (a Session's or a
    Connection's), then return (last seq, last record_hash), or (0, GENESIS_HASH) for an empty chain."""
    _take_append_lock(session)
    head = read_head(session)
    return head["seq"], head["record_hash"]


def read_head(session: Session | Connection | StatementConnection) -> dict[str, Any]:
    """The newest record's seq and hash, without locking (for reports and exports)."""
    last = session.execute(_HEAD).first()
    return {"seq": last.seq, "record_hash": last.record_hash} if last else {"seq": 0, "record_hash": GENESIS_HASH}


def _take_append_lock(session: Session | Connection | StatementConnection) -> None:
    conn = session.connection() if isinstance(session, Session) else session
    dialect = conn.dialect.name
    if dialect == "sqlite":
        if in_write_transaction(conn):
            # The driver opens a transaction only before a write, so this one has written already
            # and holds SQLite's single write lock until it ends (the crawl pipeline's case).
            return
        # A write statement that changes nothing still takes SQLite's single write lock (waiting up
        # to the busy timeout), and holding it means no other writer can append until we commit.
        conn.execute(_TAKE_WRITE_LOCK)
    elif dialect == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    # Other databases rely on the unique constraints on seq and record_hash.
