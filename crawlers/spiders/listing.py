"""A listing item as a page of its own, for sources whose listing already carries the content
(a JSON search API): no detail page is fetched, so the item is the stored content."""

from __future__ import annotations

from crawlers.parsers import ParsedPage


def listing_page(item) -> ParsedPage:
    text = "\n".join(part for part in (item.title, item.snippet) if part)
    return ParsedPage(
        kind="listing_item",
        url=item.url or "",
        state="ok",
        title=item.title,
        account=item.seller or None,
        text=text,
        price=item.price,
        seller_location=item.location or None,
        published_at=item.published_at,
        extra={"listing": dict(item.extra or {})},
    )
