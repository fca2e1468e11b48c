"""One hit, one blueprint: its disposal page and evidence page, its map popup, triage (confirm as a
clue, dismiss) as forms and as JSON, assignment to a grid, the evidence package, and the hit export.

Every view loads the hit through load_hit: 404 when missing, 403 (audited) outside the zone.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from core.errors import UserError
from webmap import audit, zones
from webmap.auth import current_user, login_required, roles_required
from webmap.dbsession import get_session
from webmap.i18n import error_text
from webmap.i18n import gettext as _
from webmap.services import clock, exports
from webmap.services import clues as clue_service
from webmap.services import hits as svc
from webmap.views import downloads, loaders, params, steps
from webmap.views.loaders import load_hit
from webmap.views.urls import static_url

bp = Blueprint("hits", __name__)
# For the whole app, not only this blueprint: every id a write request carries is loaded and
# zone-checked before the view runs (an audited 403 outside the zone, 400 for an unknown id field).
bp.before_app_request(loaders.check_body_refs)
TRIAGE_ROLES = ("admin", "patrol")
FORMATS = "any(csv, xlsx, geojson)"


@bp.route("/hits/<int:hit_id>")
@login_required
def show(hit_id: int):
    """The one page of a hit: text and reasons, seller, place, evidence, actions, clue and history."""
    h = load_hit(hit_id)
    page = svc.hit_page(g.cfg, get_session(), h, static_url, current_user().role in TRIAGE_ROLES)
    return render_template("hits/show.html", **page)


@bp.route("/search/hits/<int:hit_id>")
@login_required
def detail(hit_id: int):
    # The former evidence half of the hit page: old links and bookmarks land on the one page.
    load_hit(hit_id, action=None)
    return redirect(url_for("hits.show", hit_id=hit_id) + "#evidence", code=301)


@bp.route("/api/hits/<int:hit_id>")
@login_required
def api_hit(hit_id: int):
    h = load_hit(hit_id)
    body = svc.popup(get_session(), h, url_for("hits.show", hit_id=h.id), g.cfg.core.timezone)
    return jsonify(body)


@bp.route("/hits/<int:hit_id>/assign", methods=["POST"])
@roles_required(*TRIAGE_ROLES)
def assign(hit_id: int):
    h = load_hit(hit_id, action=None)
    try:
        grid = loaders.body_refs().one("grid_id")
        old, new = svc.assign_to_grid(get_session(), h, grid.id if grid else 0)
    except UserError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("hits.show", hit_id=h.id))
    audit.record("assign", "hit", h.id, from_grid=old, to_grid=new)
    flash(_("已分配到网格"), "ok")
    return redirect(url_for("hits.show", hit_id=h.id))


# ---------------------------------------------------------------- triage


@bp.route("/hits/<int:hit_id>/triage")
@roles_required(*TRIAGE_ROLES)
def triage(hit_id: int):
    return render_template("hits/triage.html", **svc.triage_page(get_session(), load_hit(hit_id)))


@bp.route("/hits/<int:hit_id>/dismiss", methods=["POST"])
@roles_required(*TRIAGE_ROLES)
def dismiss(hit_id: int):
    load_hit(hit_id, action=None)
    if steps.form_step(lambda: _dismiss(hit_id, request.form), "hit", hit_id) is not None:
        flash(_("已排除"), "ok")
    return redirect(url_for("hits.triage", hit_id=hit_id))


@bp.route("/hits/<int:hit_id>/confirm", methods=["POST"])
@roles_required(*TRIAGE_ROLES)
def confirm(hit_id: int):
    load_hit(hit_id, action=None)
    clue = steps.form_step(lambda: _confirm(hit_id, request.form), "hit", hit_id)
    if clue is None:
        return redirect(url_for("hits.triage", hit_id=hit_id))
    flash(_("已转为线索 #%(id)s，派发至网格", id=clue.id), "ok")
    return redirect(url_for("clues.show", clue_id=clue.id))


@bp.route("/api/hits/<int:hit_id>/dismiss", methods=["POST"])
@roles_required(*TRIAGE_ROLES)
def api_dismiss(hit_id: int):
    load_hit(hit_id, action=None)
    hit = steps.api_step(lambda: _dismiss(hit_id, steps.payload()), "hit", hit_id)
    return jsonify({"hit": hit.id, "status": hit.status, "dismiss_reason": hit.dismiss_reason})


@bp.route("/api/hits/<int:hit_id>/confirm", methods=["POST"])
@roles_required(*TRIAGE_ROLES)
def api_confirm(hit_id: int):
    load_hit(hit_id, action=None)
    clue = steps.api_step(lambda: _confirm(hit_id, steps.payload()), "hit", hit_id)
    return jsonify(clue_service.detail(get_session(), clue)), 201


@bp.route("/hits/<int:hit_id>/transfer", methods=["POST"])
@roles_required(*TRIAGE_ROLES)
def transfer(hit_id: int):
    load_hit(hit_id, action=None)
    clue = steps.form_step(lambda: _transfer(hit_id, request.form), "hit", hit_id)
    if clue is None:
        return redirect(url_for("hits.triage", hit_id=hit_id))
    flash(
        _("已移送外地（%(authority)s），记录于线索 #%(id)s", authority=clue.history[-1]["authority"], id=clue.id), "ok"
    )
    return redirect(url_for("clues.show", clue_id=clue.id))


@bp.route("/api/hits/<int:hit_id>/transfer", methods=["POST"])
@roles_required(*TRIAGE_ROLES)
def api_transfer(hit_id: int):
    load_hit(hit_id, action=None)
    clue = steps.api_step(lambda: _transfer(hit_id, steps.payload()), "hit", hit_id)
    return jsonify(clue_service.detail(get_session(), clue)), 201


def _transfer(hit_id: int, data):
    clue = svc.transfer(get_session(), hit_id, current_user(), data.get("authority", ""), data.get("note"))
    audit.record("transfer", "hit", hit_id, clue_id=clue.id, authority=clue.history[-1]["authority"])
    return clue


def _dismiss(hit_id: int, data):
    hit = svc.dismiss(get_session(), hit_id, current_user(), data.get("reason", ""))
    audit.record("dismiss", "hit", hit.id, reason=hit.dismiss_reason)
    return hit


def _confirm(hit_id: int, data):
    refs = loaders.body_refs()  # the grid and venue the body names, loaded and zone-checked
    grid, venue = refs.one("grid_id"), refs.one("venue_id")
    grid_id, venue_id = (grid.id if grid else None), (venue.id if venue else None)
    note = (data.get("note") or "").strip() or None
    clue = svc.confirm(get_session(), hit_id, current_user(), grid_id, venue_id, note)
    audit.record("confirm", "clue", clue.id, hit_id=hit_id, grid_id=clue.grid_id, routed=clue.history[-1]["routed"])
    return clue


# ---------------------------------------------------------------- evidence package and export


@bp.route("/hits/<int:hit_id>/evidence.zip")
@login_required
def evidence_zip(hit_id: int):
    h = load_hit(hit_id, action="export")
    user = current_user()
    try:
        # An open file whose temporary folder is already gone (webmap.services.hits.evidence_zip).
        package, name = svc.evidence_zip(g.cfg, h.id, officer=user.display_name or user.username)
    except UserError as exc:
        flash(_("无法导出证据包：") + error_text(exc), "error")
        return redirect(url_for("hits.show", hit_id=h.id))
    return send_file(package, mimetype="application/zip", as_attachment=True, download_name=name)


@bp.route(f"/export/hits.<{FORMATS}:fmt>")
@login_required
def export(fmt: str):
    filters = params.filters(request.args)
    records = svc.records_for_filters(get_session(), zones.allowed_grid_ids(), filters, svc.source_names(g.cfg))
    out = exports.render("hits", records, fmt, clock.stamp(g.cfg.core.timezone), g.cfg.core.timezone, _)
    audit.record("export", "hits", None, format=fmt, count=out.count, filters=params.passthrough(request.args))
    return downloads.attachment(out)
