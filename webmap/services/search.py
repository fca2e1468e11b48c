"""The web side of search: request arguments → search.search, exports, saved searches and alerts,
and the search hit page's extras (evidence files, reason highlights, a small map).
The only web module that imports `search`."""

from __future__ import annotations

import datetime as dt
import html
import re
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import search
from core.errors import UserError
from core.models import Alert, Evidence, Hit, SavedSearch, User, utcnow
from core.privacy import mask_contacts
from search.backends.base import SearchResult
from search.highlight import mark
from search.serialize import result_to_json

FILTER_ARGS = ("label", "platform", "source", "grid", "status", "date_from", "date_to", "score_min", "score_max")
FACET_NAMES = {"label": "类型", "platform": "平台", "grid": "网格", "source": "来源", "day": "日期"}
FACET_FILTER = {"label": "label", "platform": "platform", "grid": "grid", "source": "source"}
VALUE_NAMES = {**search.FACET_LABELS, "new": "待处理", "clue": "已转线索", "dismissed": "已排除"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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
        return ctx
    try:
        r = run(cfg, p, zone)
    except UserError as exc:
        ctx["error"] = str(exc)
        return ctx
    ctx["result"] = r
    last = max(1, -(-min(r.total, int(cfg.search.track_total_hits)) // r.per_page))
    ctx["pages"] = [n for n in range(max(1, r.page - 4), min(last, r.page + 4) + 1)]
    ctx["last_page"] = last
    return ctx


def api_payload(cfg, p: dict[str, Any], zone: set[int] | None) -> dict[str, Any]:
    return result_to_json(run(cfg, p, zone))


# ---------------------------------------------------------------- exports


def export(cfg, session: Session, p: dict[str, Any], zone: set[int] | None, fmt: str):
    """The whole result set (up to export_max_rows) in the hit export's columns."""
    from webmap.services import exports

    limit = min(int(cfg.search.export_max_rows), int(cfg.search.track_total_hits))
    per_page = int(cfg.search.max_per_page)
    ids: list[int] = []
    page = 1
    while len(ids) < limit:  # bounded by limit / per_page pages
        r = run(cfg, {**p, "page": page, "per_page": per_page}, zone, facets=False)
        ids += [h.id for h in r.hits]
        if len(r.hits) < per_page or page * per_page >= limit:
            break
        page += 1
    records = _records(session, ids[:limit])
    return exports.render("hits", records, fmt, dt.datetime.now().strftime("%Y%m%d-%H%M%S"))


def _records(session: Session, ids: list[int]) -> list[dict]:
    order = {hid: n for n, hid in enumerate(ids)}
    out = []
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        out += _hit_rows(session, part)
    return sorted(out, key=lambda r: order.get(r["id"], 0))


def _hit_rows(session: Session, ids: list[int]) -> list[dict]:
    from core.models import Grid
    from webmap.services.exports import LABEL_NAMES, STATUS_NAMES

    q = select(Hit, Grid.code, Grid.name).join(Grid, Grid.id == Hit.grid_id, isouter=True).where(Hit.id.in_(ids))
    return [
        {
            "id": h.id,
            "title": h.title,
            "labels": "、".join(LABEL_NAMES.get(x, x) for x in h.labels or []),
            "score": round(h.score or 0, 3),
            "status": STATUS_NAMES.get(h.status, h.status),
            "source": h.source,
            "account": h.account,
            "url": h.url,
            "location_name": h.location_name,
            "lon": h.lon,
            "lat": h.lat,
            "grid_code": code,
            "grid_name": name,
            "detected_at": h.detected_at.strftime("%Y-%m-%d %H:%M:%S") if h.detected_at else None,
        }
        for h, code, name in session.execute(q)
    ]


# ---------------------------------------------------------------- saved searches and alerts


def saved_searches(session: Session, user: User) -> list[dict]:
    unseen = dict(
        session.execute(
            select(Alert.saved_search_id, func.count(Alert.id))
            .where(Alert.seen_at.is_(None))
            .group_by(Alert.saved_search_id)
        ).all()
    )
    rows = session.scalars(select(SavedSearch).where(SavedSearch.user_id == user.id).order_by(SavedSearch.id))
    return [{"ss": ss, "unseen": unseen.get(ss.id, 0)} for ss in rows]


def create_saved(cfg, session: Session, user: User, form) -> SavedSearch:
    name = (form.get("name") or "").strip()[:100]
    query = (form.get("query") or "").strip()
    email = (form.get("notify_email") or "").strip() or None
    hook = (form.get("webhook_url") or "").strip() or None
    if not name or not query:
        raise UserError("请填写名称和查询条件")
    parsed = search.parse_query(query, cfg)  # a query that cannot run is refused now, not at 3 a.m.
    if parsed.dropped_all_words:
        raise UserError(parsed.notice or "查询条件无效")
    if email and not _EMAIL.match(email):
        raise UserError(f"邮箱地址格式不对：{email}")
    if hook and not hook.startswith(("http://", "https://")):
        raise UserError("Webhook 地址必须以 http:// 或 https:// 开头")
    newest = session.scalar(select(func.max(Hit.id))) or 0
    ss = SavedSearch(
        user_id=user.id, name=name, query=query, notify_email=email, webhook_url=hook, last_hit_id=newest
    )  # alerts cover hits found from now on
    session.add(ss)
    session.flush()
    return ss


def delete_saved(session: Session, user: User, ss_id: int) -> SavedSearch | None:
    ss = session.get(SavedSearch, ss_id)
    if ss is None or (ss.user_id != user.id and user.role != "admin"):
        return None
    session.query(Alert).filter(Alert.saved_search_id == ss.id).delete()
    session.delete(ss)
    return ss


def alerts(session: Session, user: User, zone: set[int] | None, limit: int = 200) -> list[dict]:
    """The user's alerts, newest first; hits outside the user's zone are never listed."""
    q = (
        select(Alert, SavedSearch.name, Hit)
        .join(SavedSearch, SavedSearch.id == Alert.saved_search_id)
        .join(Hit, Hit.id == Alert.hit_id)
        .where(SavedSearch.user_id == user.id)
        .order_by(Alert.id.desc())
        .limit(limit)
    )
    if zone is not None:
        q = q.where(Hit.grid_id.in_(zone or [0]))
    return [{"alert": a, "search_name": n, "hit": h} for a, n, h in session.execute(q)]


def mark_seen(session: Session, user: User) -> int:
    ids = select(SavedSearch.id).where(SavedSearch.user_id == user.id)
    rows = session.scalars(select(Alert).where(Alert.saved_search_id.in_(ids), Alert.seen_at.is_(None))).all()
    now = utcnow()
    for a in rows:
        a.seen_at = now
    return len(rows)


def unseen_count(session: Session, user: User) -> int:
    ids = select(SavedSearch.id).where(SavedSearch.user_id == user.id)
    return (
        session.scalar(select(func.count(Alert.id)).where(Alert.saved_search_id.in_(ids), Alert.seen_at.is_(None))) or 0
    )


# ---------------------------------------------------------------- the hit page


def hit_page(cfg, session: Session, hit: Hit) -> dict[str, Any]:
    return {
        "hit": hit,
        "text_html": reason_html(hit, "text"),
        "title_html": reason_html(hit, "title"),
        "evidence": evidence_rows(session, hit),
        "map": mini_map(cfg, hit),
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


def mini_map(cfg, hit: Hit) -> dict[str, str] | None:
    """A small Folium map of the hit's location (converted for GCJ-02 tiles), or None without one."""
    if hit.lat is None or hit.lon is None:
        return None
    import folium

    from webmap.services import map_page as maps
    from webmap.services.geo import points_to_display

    lon, lat = points_to_display([hit.lon], [hit.lat], maps.display_crs(cfg))
    m = folium.Map(location=[float(lat[0]), float(lon[0])], zoom_start=16, tiles=None, width="100%", height=260)
    maps._Vendored.apply(m, [("leaflet", "vendor/leaflet/leaflet.js")], [("leaflet_css", "vendor/leaflet/leaflet.css")])
    maps._add_base_layers(cfg, m)
    folium.Marker([float(lat[0]), float(lon[0])], tooltip=html.escape(hit.location_name or hit.title or "")).add_to(m)
    return maps.render_parts(m)


def evidence_zip(cfg, hit_id: int, officer: str) -> Path:
    """The court-ready evidence package of a hit (evidence builds and audits it)."""
    from evidence import export_hit

    out_dir = Path(tempfile.mkdtemp(prefix="wangxun-evidence-", dir=cfg.data_dir))
    folder = export_hit(cfg, hit_id, out_dir, officer=officer)
    return folder.with_name(folder.name + ".zip")
