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

from sqlalchemy import select

from core import db
from core.models import Hit, Page, PageVersion, utcnow
from crawlers.evidence import record_fetch
from crawlers.items import PageItem

log = logging.getLogger(__name__)
# Parser states that are pages without content; "captcha" never reaches the pipeline.
GONE_STATES = ("deleted", "expired", "removed", "unavailable", "empty", "error")


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.cfg = None
        self.detector = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        from crawlers.detection import Detector

        self.cfg = self.crawler.spider.cfg
        self.detector = Detector.from_config(self.cfg)

    def process_item(self, item: PageItem, spider=None):
        stats = self.crawler.stats
        outcome = store_page(self.cfg, self.detector, item)
        stats.inc_value("wangxun/pages")
        stats.inc_value(f"wangxun/{outcome}")
        if item.last_of_response and item.frontier_fp:
            self.crawler.spider.frontier.done(item.frontier_fp, item.fetch.url)
        return item


def store_page(cfg, detector, item: PageItem) -> str:
    """Store one page in its own transaction; returns new_version, unchanged, hits or gone."""
    with db.session_scope(cfg) as session:
        page = session.scalar(select(Page).where(Page.url == item.url))
        now = utcnow()
        if page is None:
            page = Page(url=item.url, source=item.source, platform=item.platform, first_seen=now)
            session.add(page)
        page.last_seen = now
        state = item.parsed.state
        if state != "ok":
            page.state = state if state in GONE_STATES else "error"
            session.flush()
            return "gone"
        page.state = "ok"
        fingerprint = item.parsed.content_fingerprint()
        if page.id is not None:
            known = session.scalar(select(PageVersion.id).where(
                PageVersion.page_id == page.id, PageVersion.content_sha256 == fingerprint))
            if known is not None:
                return "unchanged"
        session.flush()
        version = _new_version(session, page, item, fingerprint)
        # Rendered pages were classified while their browser page was open (to screenshot hits only).
        result = item.detection if item.detection is not None else detector.classify(post_for(item, version.id))
        if not result.get("labels"):
            return "new_version"
        hit = _new_hit(session, page, version, item, result)
        record_fetch(session, cfg, version.id, item.fetch)
        from search import outbox

        outbox.enqueue(session, hit.id, op="index")
        return "hits"


def _new_version(session, page: Page, item: PageItem, fingerprint: str) -> PageVersion:
    p = item.parsed
    extra = dict(p.extra or {})
    for key in ("images", "links"):
        if getattr(p, key, None):
            extra[key] = list(getattr(p, key))[:200]
    version = PageVersion(page_id=page.id, content_sha256=fingerprint, state="ok",
                          fetched_at=_naive_utc(item.fetch.fetched_at_utc),
                          title=p.title, account=p.account, author=p.author,
                          published_at=_naive_utc(p.published_at), text=p.text, price=p.price,
                          seller_location=p.seller_location, extra=_jsonable(extra))
    session.add(version)
    session.flush()
    page.latest_version_id = version.id
    return version


def post_for(item: PageItem, version_id: int | None = None) -> dict:
    """The detector's view of a page."""
    p = item.parsed
    return {"id": version_id, "url": item.url, "platform": item.platform, "source_name": item.source,
            "title": p.title or "", "text": p.text or "", "price": p.price, "account": p.account or "",
            "seller_location": p.seller_location or ""}


def _new_hit(session, page: Page, version: PageVersion, item: PageItem, result: dict) -> Hit:
    scores = {k: float(v) for k, v in (result.get("scores") or {}).items()}
    loc = result.get("location") or {}
    hit = Hit(page_id=page.id, page_version_id=version.id, url=item.url, source=item.source,
              platform=item.platform, title=version.title, text=version.text, account=version.account,
              labels=list(result["labels"]), scores=scores, score=max(scores.values(), default=0.0),
              reasons=_jsonable(result.get("reasons") or []), location_name=loc.get("name"),
              lon=loc.get("lon"), lat=loc.get("lat"), grid_id=loc.get("grid_id"),
              published_at=version.published_at)
    session.add(hit)
    session.flush()
    return hit


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
