"""What the spider hands to the page store (crawlers.store): one page, parsed, with the fetch that
produced it."""

from __future__ import annotations

import dataclasses
from typing import Any

from evidence import FetchRecord


@dataclasses.dataclass
class PageItem:
    url: str  # the page's identity in the store (a listing item's own URL for listing-only sources)
    source: str
    platform: str
    kind: str
    parsed: Any  # crawlers.parsers.ParsedPage
    fetch: FetchRecord  # the exchange that showed this content
    journal_fp: str = ""  # the journal entry of the request this page came from
    depth: int = 0
    detection: dict | None = None  # set when classified in the spider (rendered pages)
    # The journal the page worker writes journal_fp's done line to, right after the commit; "" when this
    # page does not close the entry (a listing's items but the last, a request that was not journaled).
    journal: str = ""


def fetch_record(response, text: str, screenshot: bytes | None = None) -> FetchRecord:
    """The evidence view of a Scrapy response (after redirects; the first URL is what was asked)."""
    return FetchRecord(body=response.body, text=text or "", screenshot=screenshot, **fetch_fields(response))


def fetch_fields(response) -> dict[str, Any]:
    """Everything of a FetchRecord but the body, text and screenshot: what a page worker needs to
    build the record itself beside the body it was sent (crawlers.store.store_parsed)."""
    import datetime as dt

    request = response.request
    return {
        "url": (request.meta.get("redirect_urls") or [request.url])[0],
        "final_url": response.url,
        "status": response.status,
        "fetched_at_utc": dt.datetime.now(dt.timezone.utc),
        "method": request.method,
        "request_headers": _headers(request.headers),
        "response_headers": _headers(response.headers),
        "protocol": response.protocol or "HTTP/1.1",
        "crawler": "scrapy + playwright" if "playwright" in response.flags else "scrapy",
    }


def _headers(headers) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for name, values in headers.items():
        decoded = [v.decode("latin-1") for v in values]
        out[name.decode("latin-1")] = decoded[0] if len(decoded) == 1 else decoded
    return out
