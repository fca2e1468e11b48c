"""任务: the scheduled jobs page (admins), grading runs, and 双随机 draws with their public list.

A draw is the administrators' until it is published (its page, CSV and line in the list); published,
it is public (双随机、一公开) at /public/draws/… and visible to every user under /draws.

The web app never runs a scheduler. Pause, resume and run-now edit the shared job store through
jobs.control; the scheduler process (`wangxun jobs`) sees the change at its next wake-up.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, jsonify, redirect, render_template, request, url_for

from core.errors import UserError
from core.i18n import N_
from webmap import audit, zones
from webmap.auth import current_user, login_required, roles_required
from webmap.dbsession import get_session
from webmap.i18n import error_text, job_name, translate
from webmap.i18n import gettext as _
from webmap.services import jobs as svc

bp = Blueprint("jobs", __name__)


@bp.route("/admin/jobs")
@roles_required("admin")
def index():
    return render_template("jobs/index.html", **svc.overview(g.cfg, get_session()))


@bp.route("/admin/jobs/<any(pause, resume, run):action>", methods=["POST"])
@roles_required("admin")
def act(action: str):
    job_id = (request.form.get("job_id") or (request.get_json(silent=True) or {}).get("job_id") or "").strip()
    try:
        job = svc.job_action(g.cfg, action, job_id)
    except UserError as exc:
        if request.is_json:
            return jsonify({"error": error_text(exc)}), 404
        flash(error_text(exc), "error")
        return redirect(url_for("jobs.index"))
    audit.record(f"job_{action}", "job", job_id)
    if request.is_json:
        return jsonify({"id": job.id, "next_run_time": job.next_run_time.isoformat() if job.next_run_time else None})
    done = {"pause": N_("已暂停"), "resume": N_("已恢复"), "run": N_("已请求立即运行（调度进程将在数秒内执行）")}
    flash(_(done[action]) + _("：") + translate(job_name(job_id)), "ok")
    return redirect(url_for("jobs.index"))


@bp.route("/api/jobs")
@roles_required("admin")
def api_jobs():
    o = svc.overview(g.cfg, get_session())
    return jsonify(
        {
            "scheduler": svc.scheduler_json(o["scheduler"]),
            "jobs": [svc.job_json(j) for j in o["jobs"]],
            "runs": [svc.run_json(r) for r in o["runs"]],
        }
    )


@bp.route("/grading")
@login_required
def grading():
    return render_template("jobs/grading.html", runs=svc.grading_runs(get_session()))


@bp.route("/draws")
@login_required
def draws():
    admin = current_user().role == "admin"
    return render_template(
        "jobs/draws.html",
        draws=svc.draw_list(get_session(), published_only=not admin),  # unpublished: admins only
        can_draw=admin,
        campaign=g.cfg.draws.campaign,
    )


@bp.route("/draws", methods=["POST"])
@roles_required("admin")
def new_draw():
    try:
        row = svc.make_draw(
            g.cfg, get_session(), request.form.get("seed", "").strip(), request.form.get("campaign", "").strip()
        )
    except UserError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("jobs.draws"))
    audit.record("draw", "spot_check_draw", row.id, seed=row.seed, campaign=row.params.get("campaign"))
    return redirect(url_for("jobs.draw", draw_id=row.id))


@bp.route("/draws/<int:draw_id>")
@login_required
def draw(draw_id: int):
    _visible(draw_id)
    d = svc.draw_detail(get_session(), draw_id) or abort(404)
    return render_template("jobs/draw.html", public=False, can_publish=current_user().role == "admin", **d)


@bp.route("/draws/<int:draw_id>/publish", methods=["POST"])
@roles_required("admin")
def publish(draw_id: int):
    try:
        svc.publish(get_session(), draw_id)
    except UserError:
        abort(404)
    audit.record("publish", "spot_check_draw", draw_id)
    flash(_("抽查结果已公开"), "ok")
    return redirect(url_for("jobs.draw", draw_id=draw_id))


@bp.route("/draws/<int:draw_id>.csv")
@login_required
def draw_csv(draw_id: int):
    _visible(draw_id)
    audit.record("export", "spot_check_draw", draw_id, format="csv")
    return _csv(draw_id)


# 一公开: a published draw is public, without login.
@bp.route("/public/draws/<int:draw_id>")
def public_draw(draw_id: int):
    d = _published(draw_id)
    return render_template("jobs/draw.html", public=True, can_publish=False, **d)


@bp.route("/public/draws/<int:draw_id>.csv")
def public_draw_csv(draw_id: int):
    _published(draw_id)
    return _csv(draw_id)


def _visible(draw_id: int) -> None:
    """404 for no such draw; an audited 403 for an unpublished draw asked for by anyone but an admin
    (until 一公开 the list, the inspectors and the seed that reproduces them are the admins')."""
    row = svc.get_draw(get_session(), draw_id)
    if row is None:
        abort(404)
    zones.require_draw(row, via=request.endpoint)


def _published(draw_id: int) -> dict:
    d = svc.draw_detail(get_session(), draw_id)
    if d is None or not d["draw"].published:
        abort(404)
    return d


def _csv(draw_id: int) -> Response:
    return Response(
        svc.draw_csv(get_session(), draw_id),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename=draw-{draw_id}.csv"},
    )
