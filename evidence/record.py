"""Recording evidence for a fetch: files first, then one appended chain row, inside the caller's
transaction (the pipeline commits the page version, the evidence and the hit together)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.config import Config
from core.db import StatementConnection
from core.models import Evidence
from evidence import chain, store
from evidence.fetch import FetchRecord

_INSERT = Evidence.__table__.insert()


def record_fetch(session: Session, cfg: Config, page_version_id: int, fetch: FetchRecord) -> Evidence:
    """Store the fetch's files and append its chain record; returns the Evidence row.

    Files are written before the row, so a committed row never points at a missing file; if the
    caller's transaction rolls back, the files stay behind unreferenced (harmless: content-addressed
    and reused by the next identical fetch). The caller must commit or roll back soon: the chain's
    append lock is held until then.
    """
    row_id = append_record(session.connection(), cfg, page_version_id, fetch, store_files(cfg, fetch))
    return session.get(Evidence, row_id)


def append_record(
    conn: Connection | StatementConnection,
    cfg: Config,
    page_version_id: int,
    fetch: FetchRecord,
    files: dict[str, dict],
) -> int:
    """Append the chain record of a fetch whose `files` are already stored; returns its row id.
    Core statements, not the ORM: the crawl pipeline runs this for every hit."""
    utc = fetch.fetched_at_utc.astimezone(dt.timezone.utc)
    last_seq, last_hash = chain.lock_and_read_head(conn)
    record = SimpleNamespace(
        seq=last_seq + 1,
        page_version_id=page_version_id,
        url=fetch.url,
        final_url=fetch.final_url,
        status=fetch.status,
        fetched_at_utc=utc.replace(tzinfo=None),
        fetched_at_local=utc.astimezone(ZoneInfo(cfg.core.timezone)).isoformat(),
        files=files,
        prev_hash=last_hash,
    )
    record.record_hash = chain.record_hash(record)
    return conn.execute(_INSERT, vars(record)).inserted_primary_key[0]


def store_files(cfg: Config, fetch: FetchRecord) -> dict[str, dict]:
    """The fetch's parts in the content-addressed store, keyed by role."""
    content_type = _first_header(fetch.response_headers, "content-type") or "application/octet-stream"
    parts = {
        "body": (bytes(fetch.body), content_type),
        "headers": (fetch.headers_document(), "application/json"),
        "text": (fetch.text.encode("utf-8"), "text/plain; charset=utf-8"),
    }
    if fetch.screenshot:
        parts["screenshot"] = (bytes(fetch.screenshot), "image/png")
    files = dict(zip(parts, store.put_many(cfg, list(parts.values())), strict=True))
    return files


def _first_header(headers: dict[str, str | list[str]], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) and value else (value or None)
    return None
