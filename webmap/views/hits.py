"""An online hit's page and assigning it to a grid (patrol staff and admins)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from core.errors import UserError
from webmap import audit
from webmap.auth import current_user, login_required, roles_required
from webmap.dbsession import get_session
from webmap.services import hits as hit_service
from webmap.views.loaders import load_hit

bp = Blueprint("hits", __name__)


@bp.route("/hits/<int:hit_id>")
@login_required
def show(hit_id: int):
    h = load_hit(hit_id)
    can_assign = current_user().role in ("admin", "patrol")
    grids = hit_service.grid_options(get_session()) if can_assign else []
    return render_template(
        "hits/show.html", can_assign=can_assign, grids=grids, **hit_service.page(get_session(), h, g.cfg.core.timezone)
    )


@bp.route("/hits/<int:hit_id>/assign", methods=["POST"])
@roles_required("admin", "patrol")
def assign(hit_id: int):
    h = load_hit(hit_id, action=None)
    try:
        old, new = hit_service.assign_to_grid(get_session(), h, request.form.get("grid_id", type=int) or 0)
    except UserError as exc:
        flash(str(exc), "error")
        return redirect(url_for("hits.show", hit_id=h.id))
    audit.record("assign", "hit", h.id, from_grid=old, to_grid=new)
    flash("已分配到网格", "ok")
    return redirect(url_for("hits.show", hit_id=h.id))
