"""The item pipeline: detect → store the page version, its evidence and its hit → queue the hit for
the search index. One transaction per page, so a killed crawl loses at most the page in flight and
never leaves half a record (a version without its hit, a hit without its evidence).

Incremental crawling lives here: the same content (parser fingerprint) as a stored version only
moves `last_seen`; new content makes a new version and runs detection again. Gone pages (deleted,
expired, removed…) are recorded as page state, never as content, and never become hits.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: SQLite's busy handler alone orders the writers
    fcntl = None

from scrapy.exceptions import DropItem
from sqlalchemy import bindparam, select

from core import db
from core.models import Page, PageVersion, utcnow
from crawlers.items import PageItem
from evidence.record import append_record, store_files
from hits.lifecycle import insert_hit

log = logging.getLogger(__name__)
# Parser states that are pages without content; "captcha" never reaches the pipeline.
GONE_STATES = ("deleted", "expired", "removed", "unavailable", "empty", "error")


class StorePipeline:
    """Hands each item to the page worker (crawlers.worker), which stores it in its own transaction
    and marks the page done in the crawl journal once that transaction committed. Items are the pages
    the worker could not store while parsing them: rendered pages (stored after their screenshot),
    listing items stored as pages, and 404/410 pages."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_item(self, item: PageItem, spider=None):
        from crawlers import worker

        spider = self.crawler.spider
        closes_entry = item.last_of_response and item.frontier_fp
        item.journal = str(spider.frontier.path) if closes_entry else ""
        try:
            outcome = await spider.worker.call(worker.store, item)
        except Exception as exc:  # noqa: BLE001 - one page's failure must not end the crawl
            log.exception("could not store %s", item.url)
            outcome = f"error: {exc}"
        if not account_for(spider, item, outcome):
            raise DropItem(f"not stored: {item.url} ({outcome})")
        return item


def account_for(spider, item: PageItem, outcome: str) -> bool:
    """The crawl process's bookkeeping once a page worker answered for a page: stats, the journal
    entry (the worker wrote its done line right after committing) and the progress counter.
    False when the page was not stored: its entry stays open, so a resumed crawl fetches it again."""
    stats = spider.crawler.stats
    if outcome.startswith("error"):
        stats.inc_value("wangxun/errors")
        return False
    stats.inc_value("wangxun/pages")
    stats.inc_value(f"wangxun/{outcome}")
    if item.last_of_response and item.frontier_fp:
        spider.frontier.forget(item.frontier_fp, item.fetch.url if item.fetch else item.url)
    return True


def store_page(cfg, detector, item: PageItem) -> str:
    """Store one page in its own transaction; returns new_version, unchanged, hits or gone.

    Reads, detection and the evidence files (which are fsynced) come before the first write, so the
    database's write lock is held only for a few small statements. Prebuilt Core statements on the
    tables rather than ORM objects: this runs for every page, and building a statement per call (or
    the unit of work) cost more CPU than parsing the page."""
    # The write turn is released only after the commit (the scopes close in reverse order).
    with WriteTurn(cfg) as turn, db.statement_scope(cfg) as conn:
        now = utcnow()
        page_id = conn.execute(_PAGE_BY_URL, {"url": item.url}).scalar()
        state = item.parsed.state
        if state != "ok":
            turn.take()
            page_id = page_id or _new_page(conn, item, now)
            _touch(conn, page_id, now, state if state in GONE_STATES else "error")
            return "gone"
        fingerprint = item.parsed.content_fingerprint()
        if page_id is not None and conn.execute(_KNOWN_VERSION, {"page_id": page_id, "sha": fingerprint}).scalar():
            turn.take()
            _touch(conn, page_id, now, "ok")
            return "unchanged"
        # Rendered pages were classified while their browser page was open (to screenshot hits only).
        result = item.detection if item.detection is not None else detector.classify(post_for(item))
        files = store_files(cfg, item.fetch) if result.get("labels") else None
        turn.take()
        page_id = page_id or _new_page(conn, item, now)
        version_id = _new_version(conn, page_id, item, fingerprint)
        _touch(conn, page_id, now, "ok", latest_version_id=version_id)
        if files is None:
            return "new_version"
        _new_hit(conn, page_id, version_id, item, result)
        append_record(conn, cfg, version_id, item.fetch, files)
        return "hits"


class WriteTurn:
    """One writer at a time among the processes storing pages in this data directory.

    SQLite allows one writer anyway; the question is how the others wait. Its busy handler sleeps
    1, 2, 5, 10… ms between retries, while a page's write takes a fraction of a millisecond, so two
    page workers colliding left a core idle for most of each sleep. A blocking flock() wakes the
    waiter the moment the holder lets go. Taken just before the first write, held through the commit;
    reads, detection and the evidence files stay outside it. Where flock is missing (not POSIX) the
    busy handler still does the job."""

    _files: dict[Path, int] = {}

    def __init__(self, cfg):
        self.path = cfg.data_dir / "write.lock"
        self.held = False

    def __enter__(self) -> "WriteTurn":
        return self

    def take(self) -> None:
        if self.held or fcntl is None:
            return
        fd = self._files.get(self.path)
        if fd is None:  # one descriptor per process and lock file, kept open
            fd = self._files[self.path] = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.held = True

    def __exit__(self, *exc) -> None:
        if self.held:
            fcntl.flock(self._files[self.path], fcntl.LOCK_UN)
            self.held = False


_PAGES, _VERSIONS = Page.__table__, PageVersion.__table__
_PAGE_BY_URL = select(_PAGES.c.id).where(_PAGES.c.url == bindparam("url"))
_KNOWN_VERSION = select(_VERSIONS.c.id).where(
    _VERSIONS.c.page_id == bindparam("page_id"), _VERSIONS.c.content_sha256 == bindparam("sha")
)
_TOUCH = _PAGES.update().where(_PAGES.c.id == bindparam("page_id_"))
_INSERT_PAGE, _INSERT_VERSION = _PAGES.insert(), _VERSIONS.insert()


def _new_page(conn, item: PageItem, now) -> int:
    return conn.execute(
        _INSERT_PAGE,
        {
            "url": item.url,
            "source": item.source,
            "platform": item.platform,
            "state": "ok",
            "first_seen": now,
            "last_seen": now,
        },
    ).inserted_primary_key[0]


def _touch(conn, page_id: int, now, state: str, **values) -> None:
    conn.execute(_TOUCH, {"page_id_": page_id, "last_seen": now, "state": state, **values})


def _new_version(conn, page_id: int, item: PageItem, fingerprint: str) -> int:
    p = item.parsed
    extra = dict(p.extra or {})
    for key in ("images", "links"):
        if getattr(p, key, None):
            extra[key] = list(getattr(p, key))[:200]
    return conn.execute(
        _INSERT_VERSION,
        {
            "page_id": page_id,
            "content_sha256": fingerprint,
            "state": "ok",
            "fetched_at": _naive_utc(item.fetch.fetched_at_utc),
            "title": p.title,
            "account": p.account,
            "author": p.author,
            "published_at": _naive_utc(p.published_at),
            "text": p.text,
            "price": p.price,
            "seller_location": p.seller_location,
            "extra": _jsonable(extra),
        },
    ).inserted_primary_key[0]


def post_for(item: PageItem, version_id: int | None = None) -> dict:
    """The detector's view of a page. Its `source_name` is the publisher (public account, shop,
    seller), which the detectors check against the travel-agency registry, not our crawl source."""
    p = item.parsed
    return {
        "id": version_id,
        "url": item.url,
        "platform": item.platform,
        "source_name": p.account or "",
        "title": p.title or "",
        "text": p.text or "",
        "price": p.price,
        "account": p.account or "",
        "seller_location": p.seller_location or "",
    }


def _new_hit(conn, page_id: int, version_id: int, item: PageItem, result: dict) -> int:
    p = item.parsed
    scores = {k: float(v) for k, v in (result.get("scores") or {}).items()}
    loc = result.get("location") or {}
    now = utcnow()
    return insert_hit(
        conn,
        {
            "page_id": page_id,
            "page_version_id": version_id,
            "url": item.url,
            "source": item.source,
            "platform": item.platform,
            "title": p.title,
            "text": p.text,
            "account": p.account,
            "labels": list(result["labels"]),
            "scores": scores,
            "score": max(scores.values(), default=0.0),
            "reasons": _jsonable(result.get("reasons") or []),
            "location_name": loc.get("name"),
            "lon": loc.get("lon"),
            "lat": loc.get("lat"),
            "grid_id": loc.get("grid_id"),
            "published_at": _naive_utc(p.published_at),
            "status": "new",
            "detected_at": now,
            "updated_at": now,
        },
    )


def _naive_utc(value):
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value if isinstance(value, dt.datetime) else None


def _jsonable(value):
    """JSON columns reject datetimes and dataclasses; parser extras may hold either."""
    import dataclasses
    import json

    def default(o):
        if dataclasses.is_dataclass(o):
            return dataclasses.asdict(o)
        return o.isoformat() if hasattr(o, "isoformat") else str(o)

    return json.loads(json.dumps(value, ensure_ascii=False, default=default))
