"""The interface every search backend implements, and the result types both return."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.errors import ServiceUnavailable
from core.i18n import Msg
from search.query import Query


class IndexUnavailable(ServiceUnavailable):
    """The index could not be written or read now (cluster down, timeout); try again later."""


@dataclass
class Snippet:
    """A fragment of a field with highlighted spans; `html` is escaped and safe to render."""

    field: str
    text: str
    spans: list[tuple[int, int]]  # offsets in `text`
    html: str


@dataclass
class ResultHit:
    id: int
    score: float | None  # relevance (backend-specific scale); None when sorted by time
    doc: dict[str, Any]  # the indexed document (search.documents.to_doc) without the long text
    snippets: list[Snippet] = field(default_factory=list)
    # Fragments the backend highlighted itself (Elasticsearch: {shown field: ["…<mark>…</mark>…"]});
    # None: search.highlight marks the hit's text from the database.
    highlights: dict[str, list[str]] | None = None


@dataclass
class SearchResult:
    total: int
    total_is_exact: bool
    hits: list[ResultHit]
    # facet -> [(value, count)] from a backend, largest first (day: date order); search.search turns
    # them into [{value, label, count}] with Chinese labels and grid names.
    facets: dict[str, list]
    page: int
    per_page: int
    notice: Msg | None = None  # e.g. 查询只包含停用字 — shown instead of an error


@dataclass
class SearchParams:
    sort: str = "relevance"  # relevance | time
    page: int = 1
    per_page: int = 20
    grid_ids: set[int] | None = None  # zone scoping: None = everything
    facets: bool = True
    min_hit_id: int = 0  # saved-search alerts look only at hits newer than this
    highlight: bool = True  # backends that highlight (Elasticsearch) mark the page's hits


class SearchBackend(Protocol):
    name: str

    def ensure_ready(self) -> None:
        """Create the index (and alias/template) when missing; cheap when it exists."""

    def index(self, docs: list[dict[str, Any]]) -> None:
        """Add or replace documents by their `id`; raises IndexUnavailable when nothing could be written."""

    def delete(self, hit_ids: list[int]) -> None:
        """Remove documents; ids that are not indexed are ignored."""

    def search(self, query: Query, params: SearchParams) -> SearchResult: ...

    def rebuild(self, docs: Iterable[dict[str, Any]], total: int, advance: Callable[[int], None]) -> int:
        """Build a fresh index from `docs` and switch to it; returns documents indexed."""

    def count(self) -> int: ...
