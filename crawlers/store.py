"""The page store: a crawled page stored in one transaction, and its journal entry closed.

Storing (in a page worker, crawlers.worker calls these): detect → the page, its new version, its hit,
the hit's evidence and its search-outbox row, all in one transaction, so a killed crawl loses at most
the pages in flight and never leaves half a record (a version without its hit, a hit without its
evidence). Right after the commit the worker writes the page's done line to the crawl journal, in
the same process, so a kill can hardly fall in between. A page that failed to store keeps its entry
open, and a resumed crawl fetches it again.

Incremental crawling lives here too: the same content (parser fingerprint) as a stored version only
moves `last_seen`; new content makes a new version and runs detection again. Gone pages (deleted,
expired, removed…) are recorded as page state, never as content, and never become hits.

Bookkeeping (in the crawl process, PageStore): it sends pages to the page workers, counts every
outcome (the crawl summary and the progress bar read the counts), and closes the journal entries of
requests that store no page: listings, requests given up, redirects to a page this run already has.
Nothing else in the crawler touches a journal entry once it is scheduled.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import json
import logging
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: SQLite's busy handler alone orders the writers
    fcntl = None

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from core import db
from core.errors import is_disk_full
from core.models import Page, PageVersion, utcnow
from crawlers.frontier import mark_done
from crawlers.items import PageItem
from crawlers.request_meta import JOURNAL_FP
from crawlers.sources import is_listing
from evidence import FetchRecord
from evidence.record import append_record, store_files
from hits.lifecycle import insert_hit

log = logging.getLogger(__name__)
# Parser states that are pages without content; "captcha" is never stored.
GONE_STATES = ("deleted", "expired", "removed", "unavailable", "empty", "error")
# Pages a parser could not read as they are (a layout it does not know, a shell that needs a browser):
# stored as page state under their own names, never content, never hits, and counted apart so that a
# site's redesign shows in the crawl summary the day it happens.
LAYOUT_STATES = ("unknown_layout", "needs_render")
STAT_PREFIX = "wangxun/"
PAGES_STAT = STAT_PREFIX + "pages"  # pages this crawl process stored (the progress bar's count)
SKIPPED_STAT = STAT_PREFIX + "skipped"  # requests robots.txt or a budget turned down
# Requests, connections and browser subrequests the source's egress policy refused (crawlers.egress):
# never fetched; the summary's `egress_refused`.
EGRESS_STAT = STAT_PREFIX + "egress_refused"


class Outcome(enum.Enum):
    """What became of one page. The value names the page's counter in the crawl stats, which the crawl
    summary reports (`new_versions` = NEW_VERSION + HIT)."""

    NEW_VERSION = "new_version"  # new content, no hit
    HIT = "hits"  # new content that is a hit: stored with its evidence and queued for the index
    UNCHANGED = "unchanged"  # content already stored: only last_seen moved
    GONE = "gone"  # deleted, expired, removed… or 404/410: page state only
    UNKNOWN_LAYOUT = "unknown_layout"  # a page no known layout reads: page state only
    NEEDS_RENDER = "needs_render"  # an HTML shell whose content loads by script: page state only
    FAILED = "errors"  # nothing stored; the journal entry stays open
    DISK_FULL = "disk_full"  # nothing stored, the entry stays open, and the crawl stops

    @property
    def stored(self) -> bool:
        return self not in (Outcome.FAILED, Outcome.DISK_FULL)

    @property
    def stat(self) -> str:
        return STAT_PREFIX + self.value


# ---------------------------------------------------------------- in the page worker


def store_item(cfg, detector, item: PageItem) -> Outcome:
    """Store one page and, when `item.journal` names the journal, write its entry's done line right
    after the commit. A failure is logged and returned as FAILED, never raised: one page must not end
    the crawl, and its entry stays open, so a resumed crawl fetches it again."""
    try:
        for attempt in range(3):
            try:
                outcome = store_page(cfg, detector, item)
                break
            except IntegrityError:
                # The other worker stored the same page (one URL reached twice) first; the next attempt
                # finds it and records this fetch as unchanged or as a new version.
                if attempt == 2:
                    raise
        if item.journal:
            mark_done(item.journal, item.journal_fp, item.fetch.url)
        return outcome
    except Exception as exc:  # noqa: BLE001 - one page's failure must not end the crawl
        if is_disk_full(exc):
            return Outcome.DISK_FULL  # no traceback per page: the crawl stops and says it once
        log.exception("could not store %s", item.url)
        return Outcome.FAILED


def is_content(kind: str, parsed, is_item: bool) -> bool:
    """A page to store as it is; listings and captcha walls are the spider's to decide about."""
    return parsed.state != "captcha" and not is_listing(kind, is_item, parsed)


def store_parsed(cfg, detector, kind: str, parsed, body: bytes, spec: dict) -> Outcome:
    """Store a content page the worker has just parsed (see store_item). `spec` is what the spider
    knows of the response (SourceSpider._store_spec): url, is_item, source, platform, depth,
    journal_fp, journal and the fetch's fields but its body, which was sent once, beside it."""
    item = PageItem(
        url=spec["url"],
        source=spec["source"],
        platform=spec["platform"],
        kind=kind,
        parsed=parsed,
        fetch=FetchRecord(body=body, text=parsed.text or "", **spec["fetch"]),
        journal_fp=spec["journal_fp"],
        depth=spec["depth"],
        journal=spec["journal"],
    )
    return store_item(cfg, detector, item)


def store_page(cfg, detector, item: PageItem) -> Outcome:
    """Store one page in its own transaction (raises on failure, leaving nothing behind).

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
            if state in LAYOUT_STATES:
                _touch(conn, page_id, now, state)
                return Outcome(state)
            _touch(conn, page_id, now, state if state in GONE_STATES else "error")
            return Outcome.GONE
        fingerprint = item.parsed.content_fingerprint()
        if page_id is not None and conn.execute(_KNOWN_VERSION, {"page_id": page_id, "sha": fingerprint}).scalar():
            turn.take()
            _touch(conn, page_id, now, "ok")
            return Outcome.UNCHANGED
        # Rendered pages were classified while their browser page was open (to screenshot hits only).
        result = item.detection if item.detection is not None else detector.classify(post_for(item))
        files = store_files(cfg, item.fetch) if result.get("labels") else None
        turn.take()
        page_id = page_id or _new_page(conn, item, now)
        version_id = _new_version(conn, page_id, item, fingerprint)
        _touch(conn, page_id, now, "ok", latest_version_id=version_id)
        if files is None:
            return Outcome.NEW_VERSION
        _new_hit(conn, page_id, version_id, item, result)
        append_record(conn, cfg, version_id, item.fetch, files)
        return Outcome.HIT


class WriteTurn:
    """One writer at a time among the processes storing pages in this data directory.

    SQLite allows one writer anyway; the question is how the others wait. Its busy handler sleeps
    1, 2, 5, 10… ms between retries, while a page's write takes a fraction of a millisecond, so two
    page workers colliding left a core idle for most of each sleep. A blocking flock() wakes the
    waiter the moment the holder lets go. Taken just before the first write, held through the commit;
    reads, detection and the evidence files stay outside it. Where flock is missing (not POSIX) the
    busy handler still does the job.

    SQLite only: PostgreSQL orders concurrent writers itself (row locks, the unique constraints that
    make a lost race an IntegrityError the caller retries, the evidence chain's advisory lock), on
    one machine or many, where a file lock in data_dir would only serialise this machine's writers."""

    _files: dict[Path, int] = {}

    def __init__(self, cfg):
        self.path = cfg.data_dir / "write.lock"
        self.held = False
        self.needed = fcntl is not None and cfg.database_url.startswith("sqlite")

    def __enter__(self) -> WriteTurn:
        return self

    def take(self) -> None:
        if self.held or not self.needed:
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
    extra = p.extra or {}
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
        # Who verified the account (认证主体, from its account-information page): the detector's registry
        # check takes an account whose subject is a registered agency to be that agency.
        "account_subject": extra.get("subject") or "",
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

    def default(o):
        if dataclasses.is_dataclass(o):
            return dataclasses.asdict(o)
        return o.isoformat() if hasattr(o, "isoformat") else str(o)

    return json.loads(json.dumps(value, ensure_ascii=False, default=default))


# ---------------------------------------------------------------- in the crawl process


class PageStore:
    """The crawl process's side of the page store: sends pages to the page workers (a
    crawlers.worker.PageWorker) and keeps the books once they answer. Every journal entry of the
    crawl is closed here or by a worker's commit (store_item), once.

    Closing an entry in the crawl process: `Frontier.done` writes the done line; `Frontier.forget` only
    drops the entry from memory after a worker wrote its line."""

    def __init__(self, crawler, frontier, worker):
        from scrapy import signals

        self.crawler = crawler
        self.frontier = frontier
        self.worker = worker
        self._stopping = False
        frontier.on_disk_full = self.stop_disk_full  # the journal's own writes can fill the disk too
        crawler.signals.connect(self._request_dropped, signal=signals.request_dropped)

    @property
    def stats(self):
        return self.crawler.stats  # made when the crawl starts, after the spider

    def journal_for(self, fp: str) -> str:
        """The journal a page worker closes entry `fp` in after its commit ("" for no entry)."""
        return self.frontier.journal if fp else ""

    async def store(self, item: PageItem, closes_entry: bool = True) -> Outcome:
        """Store one page in a page worker; its journal entry closes right after the commit unless
        `closes_entry` is false."""
        item.journal = self.journal_for(item.journal_fp) if closes_entry else ""
        try:
            outcome = await self.worker.store(item)
        except Exception:  # noqa: BLE001 - the worker died or could not answer: this page is not stored
            log.exception("could not store %s", item.url)
            outcome = Outcome.FAILED
        self.account(outcome, item.journal_fp if item.journal else "", item.fetch.url)
        return outcome

    async def store_all(self, items: list[PageItem], fp: str, url: str) -> None:
        """Store the pages of one response (a listing's items). Its entry closes with the last commit,
        and only when every page was stored: a failed one leaves it open, to be fetched again."""
        if not items:
            self.close(fp, url)
            return
        *first, last = items
        outcomes = await asyncio.gather(*(self.store(item, closes_entry=False) for item in first))
        await self.store(last, closes_entry=all(o.stored for o in outcomes))

    def account(self, outcome: Outcome, closed_fp: str, url: str) -> None:
        """Count a page a worker answered for. `closed_fp`: the entry it closed after its commit."""
        self.stats.inc_value(outcome.stat)
        if outcome is Outcome.DISK_FULL:
            self.stop_disk_full()
        if outcome.stored:
            self.stats.inc_value(PAGES_STAT)
            if closed_fp:
                self.frontier.forget(closed_fp, url)

    def count_layout(self, state: str) -> None:
        """A listing page (not stored) that its parser could not read: counted under the same name as a
        stored page of that state (Outcome.UNKNOWN_LAYOUT / NEEDS_RENDER)."""
        if state in LAYOUT_STATES:
            self.stats.inc_value(Outcome(state).stat)

    def close(self, fp: str, url: str) -> None:
        """A request is finished without a page to store (a listing whose requests are handed over)."""
        if fp:
            self.frontier.done(fp, url)

    def give_up(self, fp: str, url: str, skipped: bool, refused: bool = False) -> None:
        """A request failed for good (`skipped`: robots.txt or a budget said no; `refused`: the egress
        policy said no, counted under EGRESS_STAT where it did); it is not retried on resume either."""
        if not refused:
            self.stats.inc_value(SKIPPED_STAT if skipped else Outcome.FAILED.stat)
        self.close(fp, url)

    def stop_disk_full(self) -> None:
        """The disk is full: stop the crawl once (reason "disk_full"); what was committed stays, and the
        entries still open are fetched again by the next run."""
        if self._stopping:
            return
        self._stopping = True
        from scrapy.utils.defer import deferred_from_coro

        deferred_from_coro(self.crawler.engine.close_spider_async(reason="disk_full"))

    def _request_dropped(self, request, spider=None) -> None:
        # A redirect that led to a page this run already has: the request that redirected is finished.
        self.close(request.meta.get(JOURNAL_FP, ""), request.url)
