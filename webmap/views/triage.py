"""研判台: the open hits, filtered and paged, with bulk confirm, dismiss and 移送 (two steps: the
first post shows how many hits the action will change, the second, confirmed, changes them)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from webmap import audit, zones
from webmap.auth import current_user, roles_required
from webmap.dbsession import get_session
from webmap.i18n import error_text, translate
from webmap.i18n import gettext as _
from webmap.services import triage as svc
from webmap.views import loaders, steps

bp = Blueprint("triage", __name__)
TRIAGE_ROLES = ("admin", "patrol")


@bp.route("/triage")
@roles_required(*TRIAGE_ROLES)
def index():
    try:
        q = svc.TriageQuery.from_args(request.args)
    except svc.TriageError as exc:
        abort(400, description=str(exc))
    if isinstance(q.grid, int):
        zones.require_grid(q.grid)
    page = svc.page(get_session(), zones.allowed_grid_ids(), q, g.cfg.core.timezone)
    return render_template("triage/index.html", **page)


@bp.route("/triage/bulk", methods=["POST"])
@roles_required(*TRIAGE_ROLES)
def bulk():
    # The hits the form names, loaded and zone-checked before this view runs (webmap.views.loaders).
    ids = [h.id for h in loaders.body_refs().all("hit_id")]
    back = request.form.get("back") or url_for("triage.index")
    back = back if back.startswith("/triage") else url_for("triage.index")
    try:
        if request.form.get("expand") == "1" and request.form.get("confirmed") != "1":
            # A ticked representative stands for its whole near-duplicate group, as the list showed it.
            shown = svc.TriageQuery.from_args(dict(parse_qsl(urlsplit(back).query)))
            ids = svc.expand(get_session(), zones.allowed_grid_ids(), shown, ids)
        action = svc.Bulk.from_form(request.form, ids)
    except svc.TriageError as exc:
        flash(error_text(exc), "error")
        return redirect(back)
    if request.form.get("confirmed") != "1":
        rows = svc.preview(get_session(), action, g.cfg.core.timezone)
        return render_template("triage/confirm.html", bulk=action, rows=rows, back=back)
    done = steps.form_step(lambda: _apply(action), "hit", None)
    if done is not None:
        flash(_("已%(action)s %(n)s 条发现", action=translate(action.name), n=len(done)), "ok")
    return redirect(back)


def _apply(action: svc.Bulk) -> list[int]:
    done = svc.apply(get_session(), current_user(), action)
    audit.record(
        f"bulk_{action.action}",
        "hit",
        None,
        hit_ids=action.hit_ids,
        count=len(action.hit_ids),
        reason=action.reason or None,
        authority=action.authority or None,
    )
    return done
