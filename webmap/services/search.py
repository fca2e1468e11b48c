"""The search page, its JSON API and its export: request arguments → search.search → what the page,
the API or the export file needs. Saved searches and alerts are webmap.services.alerts; the hit
pages are webmap.services.hits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

import search
from core import vocabulary
from core.errors import ServiceUnavailable, UserError
from search.backends.base import SearchResult
from search.query import QueryError
from search.serialize import result_to_json
from webmap.services import clock, exports, hits

FILTER_ARGS = ("label", "platform", "source", "grid", "status", "date_from", "date_to", "score_min", "score_max")
FACET_NAMES = vocabulary.FACET
FACET_FILTER = {"label": "label", "platform": "platform", "grid": "grid", "source": "source"}
# The page's filter menus, by their vocabulary names.
VALUE_NAMES = {**vocabulary.HIT_LABEL_SHORT, **vocabulary.PLATFORM, **vocabulary.HIT_STATUS}


def request_params(args) -> dict[str, Any]:
    """The search request as plain values (query, filters, sort, page) from a MultiDict."""
    filters = {k: args.get(k, "").strip() for k in FILTER_ARGS if args.get(k, "").strip()}
    return {
        "q": args.get("q", ""),
        "filters": filters,
        "sort": args.get("sort") or None,
        "page": args.get("page", 1, type=int) or 1,
        "per_page": args.get("per_page", 20, type=int) or 20,
    }


def run(cfg, p: dict[str, Any], zone: set[int] | None, facets: bool = True) -> SearchResult:
    """Raises UserError for a query or filter the user must fix."""
    return search.search(
        cfg,
        p["q"],
        filters=p["filters"],
        sort=p["sort"],
        page=p["page"],
        per_page=p["per_page"],
        grid_ids=zone,
        facets=facets,
    )


def page_context(cfg, p: dict[str, Any], zone: set[int] | None) -> dict[str, Any]:
    """Everything search/index.html needs; an input error becomes a message, never an error page."""
    ctx: dict[str, Any] = {
        "p": p,
        "result": None,
        "error": None,
        "facet_names": FACET_NAMES,
        "facet_filter": FACET_FILTER,
        "pages": [],
        "names": VALUE_NAMES,
    }
    if not (p["q"].strip() or p["filters"]):
        # No words and no filters: the newest hits of the zone (a patrol's first look), not a blank page.
        ctx["newest"] = True
        p = {**p, "sort": p["sort"] or "time"}
    try:
        r = run(cfg, p, zone)
    except ServiceUnavailable:
        raise  # not the user's query: the app answers 503
    except UserError as exc:
        # A core.i18n.Msg when the query parser gives one: the page shows it in the user's language.
        ctx["error"] = exc.args[0] if exc.args and not isinstance(exc.args[0], str) else str(exc)
        ctx["error_at"] = exc.parts() if isinstance(exc, QueryError) else None  # the query cut at the mistake
        return ctx
    ctx["result"] = r
    ctx["local_times"] = {  # the index keeps UTC; the page shows [core] timezone
        h.id: clock.local_text(dt.datetime.fromisoformat(h.doc["detected_at"]), cfg.core.timezone)
        for h in r.hits
        if h.doc.get("detected_at")
    }
    last = max(1, -(-min(r.total, int(cfg.search.track_total_hits)) // r.per_page))
    ctx["pages"] = [n for n in range(max(1, r.page - 4), min(last, r.page + 4) + 1)]
    ctx["last_page"] = last
    return ctx


def api_payload(cfg, p: dict[str, Any], zone: set[int] | None) -> dict[str, Any]:
    return result_to_json(run(cfg, p, zone))


def api_error(exc: UserError) -> dict[str, Any]:
    """The 400 body of /api/search: the message, and for a malformed query where it is (1-based
    position and length in characters of the query as sent)."""
    out: dict[str, Any] = {"error": str(exc)}
    if isinstance(exc, QueryError):
        out.update(position=exc.position, length=exc.length, reason=exc.reason)
    return out


# ---------------------------------------------------------------- exports


def export(cfg, session: Session, p: dict[str, Any], zone: set[int] | None, fmt: str, translate=lambda text: text):
    """The whole result set (up to export_max_rows) in the hit export's columns. The ids come from one
    search (zone-checked against the database by search.matching_ids), and the rows are read with the
    zone as a condition again, so a hit that left the zone is never written."""
    limit = min(int(cfg.search.export_max_rows), int(cfg.search.track_total_hits))
    ids = search.matching_ids(cfg, p["q"], filters=p["filters"], sort=p["sort"], grid_ids=zone, limit=limit)
    records = hits.records_for_ids(session, ids, zone, cfg.core.timezone, hits.source_names(cfg))
    return exports.render("hits", records, fmt, clock.stamp(cfg.core.timezone), cfg.core.timezone, translate)
