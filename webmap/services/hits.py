"""One service for a hit, behind the one hits blueprint: its pages (the disposal page and the evidence
page), its map popup, triage (confirm as a clue, dismiss), assignment to a grid, the evidence
package, and the export rows every hit export uses.

Every change goes through hits.lifecycle or hits.clues, which queue the search index; nothing here
writes a hit itself.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import reasons, vocabulary
from core.errors import UserError
from core.i18n import N_, Msg
from core.models import Clue, Evidence, Grid, Hit, User, Venue
from core.privacy import mask_contacts
from grids import location
from hits import clues
from hits.lifecycle import change_hit
from search.highlight import mark
from webmap.services import map_data, map_page
from webmap.services.clock import local_text

# A hit outside the user's zone: the views answer 403 and audit it.
NotInZone = clues.NotInZone


def get_hit(session: Session, hit_id: int) -> Hit | None:
    return session.get(Hit, hit_id)


def summary(session: Session, h: Hit, tz: str = "Asia/Shanghai") -> dict:
    """The fields the disposal page, the map popup and the API share, with their names."""
    grid = session.get(Grid, h.grid_id) if h.grid_id else None
    venue = session.get(Venue, h.venue_id) if h.venue_id else None
    return {
        "id": h.id,
        "title": h.title,
        "url_original": h.url,
        "source": h.source,
        "platform": h.platform,
        "platform_name": vocabulary.name(vocabulary.PLATFORM, h.platform),
        "account": h.account,
        "labels": list(h.labels or []),
        "label_names": vocabulary.names(vocabulary.HIT_LABEL, h.labels),
        "score": round(h.score or 0, 3),
        "status": h.status,
        "status_name": vocabulary.name(vocabulary.HIT_STATUS, h.status),
        "location_name": h.location_name,
        "lon": h.lon,
        "lat": h.lat,
        "grid_id": h.grid_id,
        "grid_name": grid.name if grid else None,
        "grid_code": grid.code if grid else None,
        "venue_id": h.venue_id,
        "venue_name": venue.name if venue else None,
        "detected_at": local_text(h.detected_at, tz),
        "published_at": local_text(h.published_at, tz),
    }


def popup(session: Session, h: Hit, url: str, tz: str) -> dict:
    return {**summary(session, h, tz), "url": url}


# Reasons that say what the registries made of the seller (licensed agency, someone else's licence,
# a publisher's own shop): the hit page shows them under the seller, apart from the offer's reasons.
REGISTRY_CODES = frozenset(
    {
        "venue_seller",
        "licensed_agency",
        "licence_not_in_registry",
        "licence_held_by_other",
        "malformed_licence",
        "no_licence",
        "genuine_seller",
        "licensed_platform",
    }
)


def hit_page(cfg, session: Session, h: Hit, static_url, can_triage: bool) -> dict[str, Any]:
    """The one hit page (/hits/<id>): the text with its reasons marked, the seller and what the
    registries say, place and grid with a small map, the evidence files and their hashes, the actions
    the user may take, and the clue with its history."""
    tz = cfg.core.timezone
    where = None
    if h.lat is not None and h.lon is not None:
        where = map_page.hit_map(cfg, h.lon, h.lat, h.location_name or h.title or "", static_url)  # text, not HTML
    found = reasons.unique(h.reasons)  # once each, though found in the title and the text
    clue = session.scalar(select(Clue).where(Clue.hit_id == h.id).order_by(Clue.id.desc()))
    suggested = suggested_grid(session, h) if can_triage else h.grid_id
    return {
        "hit": summary(session, h, tz),
        "text_html": reason_html(h, "text"),
        "title_html": reason_html(h, "title"),
        "reasons": [r for r in found if r.get("code") not in REGISTRY_CODES],
        "registry": [r for r in found if r.get("code") in REGISTRY_CODES],
        "evidence": evidence_rows(session, h),
        "map": where,
        "clue": clue,
        "clue_history": clues.history_lines(session, clue) if clue is not None else [],
        "dismiss_reason": h.dismiss_reason,
        "can_triage": can_triage,
        "grids": map_data.grid_choices(session, None) if can_triage else [],
        "suggested": suggested,
    }


def reason_html(hit: Hit, field: str) -> str:
    """The field's text, escaped, with every reason span (detector offsets) marked."""
    text = mask_contacts((hit.title if field == "title" else hit.text) or "")  # length kept: spans still fit
    spans = []
    for r in hit.reasons or []:
        if (r.get("field") or "text") != field:
            continue
        for s in r.get("spans") or []:
            if isinstance(s, (list, tuple)) and len(s) == 2 and 0 <= int(s[0]) < int(s[1]) <= len(text):
                spans.append((int(s[0]), int(s[1])))
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return mark(text, merged)


def evidence_rows(session: Session, hit: Hit) -> list[dict]:
    if hit.page_version_id is None:
        return []
    rows = session.scalars(
        select(Evidence).where(Evidence.page_version_id == hit.page_version_id).order_by(Evidence.seq)
    )
    out = []
    for ev in rows:
        files = [
            {"kind": k, "sha256": (v or {}).get("sha256"), "path": (v or {}).get("path"), "size": (v or {}).get("size")}
            for k, v in sorted((ev.files or {}).items())
            if isinstance(v, dict)
        ]
        out.append(
            {
                "seq": ev.seq,
                "url": ev.final_url or ev.url,
                "status": ev.status,
                "fetched_at": ev.fetched_at_local,
                "record_hash": ev.record_hash,
                "files": files,
            }
        )
    return out


def evidence_zip(cfg, hit_id: int, officer: str) -> tuple[BinaryIO, str]:
    """The court-ready evidence package of a hit (the evidence package builds and audits it), as an open
    file and its download name.

    It is built in a temporary folder under data_dir that is gone when this returns, built or not: the
    zip is opened first and its name removed with the folder (the open file stays readable), so neither
    a failed build nor a client that never reads the download can leave anything behind."""
    from evidence import export_hit

    out_dir = Path(tempfile.mkdtemp(prefix="wangxun-evidence-", dir=cfg.data_dir))
    try:
        folder = export_hit(cfg, hit_id, out_dir, officer=officer)
        zip_path = folder.with_name(folder.name + ".zip")
        return zip_path.open("rb"), zip_path.name
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


# ---------------------------------------------------------------- triage and assignment


def assign_to_grid(session: Session, h: Hit, grid_id: int) -> tuple[int | None, int]:
    """Route a hit to a leaf grid; returns (old grid id, new grid id) for the audit record."""
    grid = session.get(Grid, grid_id)
    if grid is None or grid.level != "grid":
        raise UserError(Msg(N_("请选择一个网格（不是街道或区县）")))
    old = h.grid_id
    change_hit(session, h, grid_id=grid.id)
    return old, grid.id


def dismiss(session: Session, hit_id: int, user: User, reason: str) -> Hit:
    return clues.dismiss_hit(session, hit_id, user, reason)


def confirm(
    session: Session, hit_id: int, user: User, grid_id: int | None, venue_id: int | None, note: str | None
) -> Clue:
    return clues.confirm_hit(session, hit_id, user, grid_id=grid_id, venue_id=venue_id, note=note)


def transfer(session: Session, hit_id: int, user: User, authority: str, note: str | None) -> Clue:
    return clues.transfer_hit(session, hit_id, user, authority, note)


def suggested_grid(session: Session, hit: Hit) -> int | None:
    """Where confirming would route the hit without a choice: its grid, else the grid around its point."""
    if hit.grid_id is not None or hit.lon is None or hit.lat is None:
        return hit.grid_id
    return location.grid_at(session, hit.lon, hit.lat)


def triage_page(session: Session, hit: Hit) -> dict[str, Any]:
    """The triage form: where confirm would route the hit without a choice, and its clue if any."""
    suggested = suggested_grid(session, hit)
    clue = session.scalar(select(Clue).where(Clue.hit_id == hit.id).order_by(Clue.id.desc()))
    return {"hit": hit, "grids": map_data.grid_choices(session, None), "suggested": suggested, "clue": clue}


# ---------------------------------------------------------------- export rows


def source_names(cfg) -> dict[str, str]:
    """Crawl source name -> its description in the sources file (crawlers/sources.toml; the name when
    it has none), for exports, e-mails and the jobs page; empty when the file cannot be read (the
    crawl reports that), so sources then show by name."""
    from crawlers.sources import load_sources

    try:
        return {name: src.description or name for name, src in load_sources(cfg).items()}
    except UserError:
        return {}


def records_for_filters(
    session: Session, zone, f: map_data.MapFilters, sources: Mapping[str, str] | None = None
) -> list[dict]:
    """Export rows of the zone's hits under the map's filters, oldest first (times in f.tz); `sources`
    names the crawl sources (source_names), else they show as their ids."""
    return _records(session, map_data.hit_conditions(zone, f), f.tz, sources)


def records_for_ids(
    session: Session, ids: list[int], zone: set[int] | None, tz: str, sources: Mapping[str, str] | None = None
) -> list[dict]:
    """Export rows of these hits (a search result) that lie in the zone now (None: the district), in
    the order given, with times in `tz`."""
    order = {hit_id: n for n, hit_id in enumerate(ids)}
    in_zone = [] if zone is None else [Hit.grid_id.in_(sorted(zone))]
    out: list[dict] = []
    for start in range(0, len(ids), 500):  # bounded IN lists
        out += _records(session, [Hit.id.in_(ids[start : start + 500]), *in_zone], tz, sources)
    return sorted(out, key=lambda r: order[r["id"]])


def _records(session: Session, conditions: list, tz: str, sources: Mapping[str, str] | None = None) -> list[dict]:
    q = (
        select(Hit, Grid.code, Grid.name)
        .join(Grid, Grid.id == Hit.grid_id, isouter=True)
        .where(*conditions)
        .order_by(Hit.id)
    )
    return [
        {
            "id": h.id,
            "title": h.title,
            "labels": "、".join(vocabulary.names(vocabulary.HIT_LABEL, h.labels)),
            "score": round(h.score or 0, 3),
            "status": vocabulary.name(vocabulary.HIT_STATUS, h.status),
            "source": (sources or {}).get(h.source, h.source),
            "account": h.account,
            "url": h.url,
            "location_name": h.location_name,
            "lon": h.lon,
            "lat": h.lat,
            "grid_code": code,
            "grid_name": name,
            "detected_at": local_text(h.detected_at, tz, "%Y-%m-%d %H:%M:%S"),
        }
        for h, code, name in session.execute(q)
    ]
