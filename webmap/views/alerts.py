"""关键词监控: saved searches and their alerts, per user (alerts never show hits outside the zone)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from core.errors import UserError
from webmap import audit, zones
from webmap.auth import current_user, login_required
from webmap.dbsession import get_session
from webmap.i18n import error_text
from webmap.i18n import gettext as _
from webmap.services import alerts as svc

bp = Blueprint("alerts", __name__)


@bp.app_context_processor
def _unread():
    """`alerts_unread()` for the navigation's 提醒 entry: the user's unread alerts in their zone,
    counted only when a page renders the entry."""

    def alerts_unread() -> int:
        user = current_user()
        return svc.unseen_count(get_session(), user, zones.allowed_grid_ids()) if user is not None else 0

    return {"alerts_unread": alerts_unread}


@bp.route("/saved-searches", methods=["GET", "POST"])
@login_required
def saved():
    user = current_user()
    if request.method == "POST":
        try:
            ss = svc.create_saved(g.cfg, get_session(), user, request.form)
        except UserError as exc:
            flash(error_text(exc), "error")
        else:
            audit.record("create", "saved_search", ss.id, name=ss.name, query=ss.query)
            flash(_("已保存关键词监控「%(name)s」", name=ss.name), "ok")
        return redirect(url_for("alerts.saved"))
    return render_template(
        "alerts/saved.html",
        rows=svc.saved_searches(get_session(), user, g.cfg.core.timezone),
        prefill=request.args.get("q", ""),
    )


@bp.route("/saved-searches/<int:ss_id>/delete", methods=["POST"])
@login_required
def delete_saved(ss_id: int):
    ss = svc.delete_saved(get_session(), current_user(), ss_id)
    if ss is None:
        abort(404)
    audit.record("delete", "saved_search", ss_id, name=ss.name)
    flash(_("已删除"), "ok")
    return redirect(url_for("alerts.saved"))


@bp.route("/alerts")
@login_required
def alerts():
    rows = svc.alerts(get_session(), current_user(), zones.allowed_grid_ids(), tz=g.cfg.core.timezone)
    return render_template("alerts/index.html", rows=rows)


@bp.route("/alerts/seen", methods=["POST"])
@login_required
def alerts_seen():
    n = svc.mark_seen(get_session(), current_user())
    flash(_("%(n)s 条提醒已标记为已读", n=n), "ok")
    return redirect(url_for("alerts.alerts"))
