"""What every parser returns: a ParsedPage (one fetched page) holding ListingItems (search results)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from typing import Any

# "ok": the content is there. The gone states say why it is not (WeChat's own error pages), "captcha"
# is an anti-spider wall, "empty" a blank body or a search with no results, "error" anything unreadable.
# "unknown_layout": a page of the expected site that no known layout reads (a redesign, a new page
# type); the parser says so, with extra["reason"], rather than returning plausible wrong fields.
# "needs_render": an HTML shell whose content loads by script (extra["reason"] names the source's
# `render = true`).
PAGE_STATES = (
    "ok",
    "deleted",
    "expired",
    "removed",
    "unavailable",
    "captcha",
    "empty",
    "error",
    "unknown_layout",
    "needs_render",
)
# States that say "this parser cannot read this page as it is", counted apart in the crawl summary.
LAYOUT_STATES = ("unknown_layout", "needs_render")
# Longer clean text is cut here (extra["truncated"] = True) so one odd page cannot bloat the store.
MAX_TEXT_CHARS = 200_000

_SPACE_RE = re.compile(r"\s+")


@dataclasses.dataclass
class ListingItem:
    """One result of a search or listing page. `seller` and `account` are the same party: a shop's
    seller or the public account of an article; whichever a parser fills, the other mirrors it."""

    url: str | None = None
    title: str = ""
    price: float | None = None
    seller: str = ""
    account: str = ""
    location: str = ""
    snippet: str = ""
    published_at: dt.datetime | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.seller = self.seller or self.account or ""
        self.account = self.account or self.seller

    def fingerprint_fields(self) -> dict[str, Any]:
        # The URL is left out on purpose: Sogou and WeChat sign result links per request
        # (timestamp=…&signature=…, /link?url=<token>), so it changes on every fetch.
        return {
            "id": str(self.extra.get("id") or ""),
            "title": _norm(self.title),
            "price": self.price,
            "seller": _norm(self.seller),
            "location": _norm(self.location),
            "snippet": _norm(self.snippet),
            "published_at": _iso(self.published_at),
        }

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["published_at"] = _iso(self.published_at)
        return out


@dataclasses.dataclass
class ParsedPage:
    kind: str = ""
    url: str = ""
    state: str = "ok"
    title: str = ""
    account: str | None = None
    author: str | None = None
    published_at: dt.datetime | None = None
    text: str = ""
    price: float | None = None
    seller_location: str | None = None
    images: list[str] = dataclasses.field(default_factory=list)
    links: list[str] = dataclasses.field(default_factory=list)
    items: list[ListingItem] = dataclasses.field(default_factory=list)
    next_page: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def content_fingerprint(self) -> str:
        """SHA-256 of the meaningful content only, so re-fetching an unchanged page gives the same value
        even when its markup differs (nonces, script timestamps, ads, signed links)."""
        content = {
            "state": self.state,
            "title": _norm(self.title),
            "account": _norm(self.account),
            "author": _norm(self.author),
            "text": _norm(self.text),
            "price": self.price,
            "items": [item.fingerprint_fields() for item in self.items],
        }
        encoded = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (datetimes as ISO 8601 strings)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["published_at"] = _iso(self.published_at)
        out["items"] = [item.to_dict() for item in self.items]
        out["images"], out["links"] = list(self.images), list(self.links)
        out["extra"] = json.loads(json.dumps(self.extra, ensure_ascii=False, default=str))
        return out


def _norm(value: Any) -> str:
    # Whitespace is dropped, not collapsed: a re-flowed line ("正文\n一" vs "正文 一") is no change.
    return _SPACE_RE.sub("", str(value or ""))


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
