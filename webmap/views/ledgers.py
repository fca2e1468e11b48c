"""台账: the venue ledger (场所台账) and the inspection ledger (检查记录) of the user's zone, as pages
and as CSV/Excel exports. A grid in the query string is zone-checked (403 outside the zone, audited);
a filter the ledger does not know is a 400 with one line."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, g, render_template, request

from core.i18n import N_
from webmap import audit, zones
from webmap.auth import login_required
from webmap.dbsession import get_session
from webmap.i18n import error_text
from webmap.i18n import gettext as _
from webmap.services import ledgers
from webmap.views import downloads, params

bp = Blueprint("ledgers", __name__)
VENUE_KEYS = ("q", "category", "grade", "grid", "expiry", "days", "sort", "order", "per_page")
FIELD_NAMES = {
    "page": N_("页码"),
    "per_page": N_("每页条数"),
    "days": N_("到期天数"),
    "date_from": N_("开始日期"),
    "date_to": N_("结束日期"),
}
INSPECTION_KEYS = ("q", "inspector", "result", "subject", "date_from", "date_to", "grid", "sort", "order", "per_page")


@bp.route("/ledgers/venues")
@login_required
def index():
    f = _venue_query()
    try:
        page = ledgers.venue_page(get_session(), zones.allowed_grid_ids(), f, _today())
    except ledgers.LedgerError as exc:
        _bad(error_text(exc))
    return render_template("ledgers/venues.html", page=page, f=f, args=_kept(VENUE_KEYS), grids=_grids(), L=ledgers)


@bp.route("/ledgers/venues.<any(csv, xlsx):fmt>")
@login_required
def venues_export(fmt: str):
    f = _venue_query()
    try:
        records = ledgers.venue_records(get_session(), zones.allowed_grid_ids(), f, _today())
    except ledgers.LedgerError as exc:
        _bad(error_text(exc))
    out = ledgers.render("venues", records, fmt, _stamp(), _)
    audit.record("export", "venues", None, format=fmt, count=out.count, ledger=True, filters=_kept(VENUE_KEYS))
    return downloads.attachment(out)


@bp.route("/ledgers/inspections")
@login_required
def inspections():
    f = _inspection_query()
    try:
        page = ledgers.inspection_page(get_session(), zones.allowed_grid_ids(), f)
    except ledgers.LedgerError as exc:
        _bad(error_text(exc))
    return render_template(
        "ledgers/inspections.html", page=page, f=f, args=_kept(INSPECTION_KEYS), grids=_grids(), L=ledgers
    )


@bp.route("/ledgers/inspections.<any(csv, xlsx):fmt>")
@login_required
def inspections_export(fmt: str):
    f = _inspection_query()
    try:
        records = ledgers.inspection_records(get_session(), zones.allowed_grid_ids(), f)
    except ledgers.LedgerError as exc:
        _bad(error_text(exc))
    out = ledgers.render("inspections", records, fmt, _stamp(), _)
    audit.record("export", "inspections", None, format=fmt, count=out.count, filters=_kept(INSPECTION_KEYS))
    return downloads.attachment(out)


# ---------------------------------------------------------------- query string


def _venue_query() -> ledgers.VenueQuery:
    a = request.args
    return ledgers.VenueQuery(
        q=a.get("q", "")[:200],
        categories=_multi("category"),
        grades=_multi("grade"),
        grid_ids=_grid_ids(),
        expiry=a.get("expiry", "").strip(),
        within_days=_int("days", ledgers.DEFAULT_EXPIRING_DAYS),
        paging=_paging(),
    )


def _inspection_query() -> ledgers.InspectionQuery:
    a = request.args
    return ledgers.InspectionQuery(
        q=a.get("q", "")[:200],
        inspector=a.get("inspector", "")[:100],
        results=_multi("result"),
        subject=a.get("subject", "").strip(),
        date_from=_date("date_from"),
        date_to=_date("date_to"),
        grid_ids=_grid_ids(),
        paging=_paging(default_desc=True),
    )


def _paging(default_desc: bool = False) -> ledgers.Paging:
    order = request.args.get("order", "").strip()
    if order not in ("", "asc", "desc"):
        _bad(_("排序方向只能是 asc 或 desc"))
    return ledgers.Paging(
        page=_int("page", 1),
        per_page=_int("per_page", ledgers.DEFAULT_PER_PAGE),
        sort=request.args.get("sort", "").strip(),
        desc=(order == "desc") if order else default_desc,
    )


def _grid_ids() -> set[int] | None:
    raw = params.int_arg(request.args, "grid")
    if raw is None:
        if request.args.get("grid", "").strip():
            _bad(_("网格必须是编号"))
        return None
    zones.require_grid(raw)
    return zones.leaf_grid_ids(raw)


def _grids() -> list[dict]:
    return ledgers.grid_options(get_session(), zones.allowed_grid_ids())


def _multi(key: str) -> tuple[str, ...]:
    return tuple(p.strip() for v in request.args.getlist(key) for p in v.split(",") if p.strip())


def _int(key: str, default: int) -> int:
    raw = request.args.get(key, "").strip()
    if not raw:
        return default
    value = params.int_arg(request.args, key)
    if value is None:
        _bad(_("%(field)s必须是整数", field=_(FIELD_NAMES.get(key, key))))
    return value


def _date(key: str) -> dt.date | None:
    raw = request.args.get(key, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        _bad(_("%(field)s的格式应为 YYYY-MM-DD", field=_(FIELD_NAMES.get(key, key))))


def _kept(keys) -> dict[str, str]:
    """The filters as given, for the pager, the sort links and the export links."""
    return {k: ",".join(request.args.getlist(k)) for k in keys if any(request.args.getlist(k))}


def _bad(message: str):
    """400 with the one line that says what is wrong with the query."""
    abort(current_app.response_class(render_template("error.html", code=400, message=message), status=400))


def _today() -> dt.date:
    return dt.datetime.now(ZoneInfo(g.cfg.core.timezone)).date()


def _stamp() -> str:
    return dt.datetime.now(ZoneInfo(g.cfg.core.timezone)).strftime("%Y%m%d-%H%M%S")
