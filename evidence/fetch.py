"""What a crawler hands over after fetching a page that became a hit: one HTTP exchange, the text it
extracted and (for rendered pages) a screenshot."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json


@dataclasses.dataclass
class FetchRecord:
    """One fetch, as the crawler saw it.

    `body` is the response body as the crawler received it: Scrapy and Playwright both hand back the
    body after Content-Encoding/Transfer-Encoding are undone, so the WARC export marks those headers
    as already decoded (the stored headers keep them verbatim).
    """

    url: str  # the URL that was requested
    final_url: str  # the URL after redirects
    status: int
    body: bytes
    text: str  # the text the parser extracted from the page
    fetched_at_utc: dt.datetime  # timezone-aware
    method: str = "GET"
    request_headers: dict[str, str | list[str]] = dataclasses.field(default_factory=dict)
    response_headers: dict[str, str | list[str]] = dataclasses.field(default_factory=dict)
    screenshot: bytes | None = None  # full-page PNG for rendered pages
    protocol: str = "HTTP/1.1"
    crawler: str = ""  # optional: the fetching software, e.g. "scrapy 2.19 + playwright 1.65"

    def __post_init__(self) -> None:
        self._check()

    def headers_document(self) -> bytes:
        """The request line, status and both header sets as one stored (hashed) JSON file."""
        doc = {
            "method": self.method,
            "protocol": self.protocol,
            "status": self.status,
            "url": self.url,
            "final_url": self.final_url,
            "crawler": self.crawler,
            "request_headers": self.request_headers,
            "response_headers": self.response_headers,
        }
        return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")

    def screenshot_is_png(self) -> bool:
        return self.screenshot is None or bytes(self.screenshot[:8]) == b"\x89PNG\r\n\x1a\n"

    def _check(self) -> None:
        # The crawler is the caller; a wrong type here would otherwise surface as a corrupt record.
        if not isinstance(self.body, (bytes, bytearray)):
            raise TypeError(f"FetchRecord.body must be bytes, not {type(self.body).__name__}")
        if self.screenshot is not None and not isinstance(self.screenshot, (bytes, bytearray)):
            raise TypeError("FetchRecord.screenshot must be PNG bytes or None")
        if not self.screenshot_is_png():
            raise ValueError("FetchRecord.screenshot is not a PNG image")
        if not isinstance(self.text, str):
            raise TypeError("FetchRecord.text must be str")
        if self.fetched_at_utc.tzinfo is None or self.fetched_at_utc.utcoffset() is None:
            raise ValueError("FetchRecord.fetched_at_utc must be timezone-aware (UTC)")
        if not self.url or not self.final_url:
            raise ValueError("FetchRecord.url and final_url must not be empty")
        if not isinstance(self.status, int) or not 100 <= self.status <= 599:
            raise ValueError(f"FetchRecord.status {self.status!r} is not an HTTP status code")
        # Scrapy keeps headers as bytes; they must be decoded before they reach the (JSON) record.
        for field in ("request_headers", "response_headers"):
            for name, value in getattr(self, field).items():
                items = value if isinstance(value, list) else [value]
                if not isinstance(name, str) or not all(isinstance(item, str) for item in items):
                    raise TypeError(f"FetchRecord.{field} must map str to str or list[str] (decode bytes first)")


def header_pairs(headers: dict[str, str | list[str]]) -> list[tuple[str, str]]:
    """Headers as (name, value) pairs; a list value (Set-Cookie…) becomes one pair per value."""
    pairs: list[tuple[str, str]] = []
    for name, value in headers.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, str(item)))
    return pairs
