"""检索: the search page, its JSON API and exports, the search hit page, saved searches and alerts.
Thin: logic lives in webmap.services.search."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    after_this_request,
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
from webmap.auth import current_user, login_required
from webmap.dbsession import get_session
from webmap.services import search as svc
from webmap.views.loaders import load_hit

bp = Blueprint("search", __name__)


@bp.route("/search")
@login_required
def index():
    p = svc.request_params(request.args)
    ctx = svc.page_context(g.cfg, p, zones.allowed_grid_ids())
    if ctx["result"] is not None:
        audit.record("search", "hits", None, query=p["q"], filters=p["filters"], total=ctx["result"].total)
    return render_template("search/index.html", **ctx)


@bp.route("/api/search")
@login_required
def api():
    p = svc.request_params(request.args)
    try:
        payload = svc.api_payload(g.cfg, p, zones.allowed_grid_ids())
    except UserError as exc:
        return jsonify(error=str(exc)), 400
    audit.record("search", "hits", None, query=p["q"], filters=p["filters"], total=payload["total"], via="api")
    return jsonify(payload)


@bp.route("/search/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    p = svc.request_params(request.args)
    try:
        out = svc.export(g.cfg, get_session(), p, zones.allowed_grid_ids(), fmt)
    except UserError as exc:
        flash(str(exc), "error")
        return redirect(url_for("search.index", **request.args))
    audit.record("export", "search", None, format=fmt, count=out.count, query=p["q"], filters=p["filters"])
    return _download(out)


def _download(out):
    from flask import Response

    return Response(
        out.body, mimetype=out.mimetype, headers={"Content-Disposition": f'attachment; filename="{out.filename}"'}
    )


@bp.route("/search/hits/<int:hit_id>")
@login_required
def hit(hit_id: int):
    h = load_hit(hit_id)  # 404 / 403 outside the zone / audited
    return render_template("search/hit.html", **svc.hit_page(g.cfg, get_session(), h))


@bp.route("/hits/<int:hit_id>/evidence.zip")
@login_required
def evidence_zip(hit_id: int):
    h = load_hit(hit_id, action="export")
    user = current_user()
    try:
        path = svc.evidence_zip(g.cfg, h.id, officer=user.display_name or user.username)
    except UserError as exc:
        flash(f"无法导出证据包：{exc}", "error")
        return redirect(url_for("search.hit", hit_id=h.id))

    @after_this_request
    def _cleanup(response):
        import shutil

        response.call_on_close(lambda: shutil.rmtree(path.parent, ignore_errors=True))
        return response

    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=path.name)


@bp.route("/saved-searches", methods=["GET", "POST"])
@login_required
def saved():
    user = current_user()
    if request.method == "POST":
        try:
            ss = svc.create_saved(g.cfg, get_session(), user, request.form)
        except UserError as exc:
            flash(str(exc), "error")
        else:
            audit.record("create", "saved_search", ss.id, name=ss.name, query=ss.query)
            flash(f"已保存关键词监控「{ss.name}」", "ok")
        return redirect(url_for("search.saved"))
    return render_template(
        "search/saved.html", rows=svc.saved_searches(get_session(), user), prefill=request.args.get("q", "")
    )


@bp.route("/saved-searches/<int:ss_id>/delete", methods=["POST"])
@login_required
def delete_saved(ss_id: int):
    ss = svc.delete_saved(get_session(), current_user(), ss_id)
    if ss is None:
        abort(404)
    audit.record("delete", "saved_search", ss_id, name=ss.name)
    flash("已删除", "ok")
    return redirect(url_for("search.saved"))


@bp.route("/alerts")
@login_required
def alerts():
    rows = svc.alerts(get_session(), current_user(), zones.allowed_grid_ids())
    return render_template("search/alerts.html", rows=rows)


@bp.route("/alerts/seen", methods=["POST"])
@login_required
def alerts_seen():
    n = svc.mark_seen(get_session(), current_user())
    flash(f"{n} 条提醒已标记为已读", "ok")
    return redirect(url_for("search.alerts"))
