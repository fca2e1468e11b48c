"""Hits as search documents: the one shape both backends index and return."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import reasons as hit_reasons
from core import vocabulary
from core.models import Hit

# The shape of an indexed document. Bump when documents gain or change fields: an index built by an
# older version must be rebuilt (`wangxun reindex`); each backend recognises an old index and says so
# in one line (version 2: the reasons' codes and names and the label names are indexed, `reasons`).
INDEX_VERSION = 2

DOC_COLUMNS = (
    "id",
    "url",
    "source",
    "platform",
    "title",
    "text",
    "account",
    "labels",
    "reasons",
    "score",
    "status",
    "grid_id",
    "venue_id",
    "location_name",
    "lat",
    "lon",
    "published_at",
    "detected_at",
)


def _iso(value: dt.datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() if value else None


@lru_cache(maxsize=8)
def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def concepts(labels: list[str] | None, reasons: list | None) -> tuple[list[str], str, str]:
    """(reason codes, their names as shown, the indexed concept text) of a hit.

    The concept text holds each reason's Chinese name (vocabulary.REASON) and code and each label's
    names and code, so a search for a concept (盗版, 无证旅行社, piracy_terms) finds the hits the
    detectors flagged for it whatever words the seller used (高仿, 复印版 …)."""
    codes = hit_reasons.codes(reasons)
    # The speech act (act_offer …) says who speaks, on nearly every hit: not a concept to search for.
    names = [vocabulary.name(vocabulary.REASON, c) for c in codes if not c.startswith("act_")]
    label_words = [
        w
        for label in labels or []
        for w in (
            vocabulary.name(vocabulary.HIT_LABEL, label),
            vocabulary.name(vocabulary.HIT_LABEL_SHORT, label),
            label,
        )
    ]
    shown = "；".join(dict.fromkeys(names))
    words = list(dict.fromkeys([*names, *label_words, *(c for c in codes if not c.startswith("act_"))]))
    return codes, shown, "；".join(words)


def to_doc(hit, tz: str | None = None) -> dict[str, Any]:
    """The indexed document of a hit (an ORM Hit or a row of the hits table). Times are naive UTC;
    `day` is the local day in `tz` (patrol staff count days locally), used by date filters and facets."""
    when = hit.published_at or hit.detected_at
    if when is not None and tz:
        when = when.replace(tzinfo=dt.timezone.utc).astimezone(_zone(tz))
    codes, shown, concept_text = concepts(hit.labels, getattr(hit, "reasons", None))
    return {
        "id": hit.id,
        "url": hit.url,
        "source": hit.source,
        "platform": hit.platform,
        "title": hit.title or "",
        "text": hit.text or "",
        "account": hit.account or "",
        "labels": list(hit.labels or []),
        "reason_codes": codes,
        "reason_names": shown,  # shown in results: each reason once
        "reasons": concept_text,  # indexed, searched with the text fields
        "score": float(hit.score or 0.0),
        "status": hit.status,
        "grid_id": hit.grid_id,
        "venue_id": hit.venue_id,
        "location_name": hit.location_name,
        "location": {"lat": hit.lat, "lon": hit.lon} if hit.lat is not None and hit.lon is not None else None,
        "published_at": _iso(hit.published_at),
        "detected_at": _iso(hit.detected_at),
        "day": when.date().isoformat() if when else None,
    }


def load_docs(session: Session, hit_ids: list[int], tz: str | None = None) -> list[dict[str, Any]]:
    """Documents for the hits that still exist (a deleted hit simply has no document)."""
    if not hit_ids:
        return []
    table = Hit.__table__
    columns = [table.c[name] for name in DOC_COLUMNS]
    rows = session.execute(select(*columns).where(table.c.id.in_(hit_ids)).order_by(table.c.id))
    return [to_doc(h, tz) for h in rows]


def iter_all_docs(session: Session, batch: int = 5000, tz: str | None = None) -> Iterator[dict[str, Any]]:
    """Every hit in id order, read as plain rows (no ORM objects: a million of them is the slow part
    of a reindex), with keyset pagination so memory stays flat."""
    table = Hit.__table__
    columns = [table.c[name] for name in DOC_COLUMNS]  # not scores: JSON decoding costs
    last = 0
    while True:
        rows = session.execute(select(*columns).where(table.c.id > last).order_by(table.c.id).limit(batch)).all()
        if not rows:
            return
        for r in rows:
            yield to_doc(r, tz)
        last = rows[-1].id
