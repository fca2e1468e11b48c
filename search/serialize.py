"""Search results as JSON (the /api/search shape, also `wangxun search --json`)."""

from __future__ import annotations

from typing import Any

from search.backends.base import SearchResult


def result_to_json(r: SearchResult) -> dict[str, Any]:
    return {
        "total": r.total,
        "total_is_exact": r.total_is_exact,
        "page": r.page,
        "per_page": r.per_page,
        "notice": str(r.notice) if r.notice else None,  # Chinese, as the API's other messages
        "hits": [
            {
                **h.doc,
                "relevance": h.score,
                "snippets": [
                    {"field": s.field, "text": s.text, "spans": [list(x) for x in s.spans], "html": s.html}
                    for s in h.snippets
                ],
            }
            for h in r.hits
        ],
        "facets": r.facets,
    }
