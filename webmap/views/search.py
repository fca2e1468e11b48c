"""检索: the search page, its JSON API and its export. Thin: logic lives in webmap.services.search.
A hit found here opens in webmap.views.hits; saved searches and alerts are webmap.views.alerts."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from core.errors import ServiceUnavailable, UserError
from webmap import audit, zones
from webmap.auth import login_required
from webmap.dbsession import get_session
from webmap.i18n import error_text, gettext
from webmap.services import search as svc
from webmap.views import downloads

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
    except ServiceUnavailable:
        raise  # 503 from the app's handler, not the user's mistake
    except UserError as exc:
        return jsonify(svc.api_error(exc)), 400
    audit.record("search", "hits", None, query=p["q"], filters=p["filters"], total=payload["total"], via="api")
    return jsonify(payload)


@bp.route("/search/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    p = svc.request_params(request.args)
    try:
        out = svc.export(g.cfg, get_session(), p, zones.allowed_grid_ids(), fmt, gettext)
    except ServiceUnavailable:
        raise
    except UserError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("search.index", **request.args))
    audit.record("export", "search", None, format=fmt, count=out.count, query=p["q"], filters=p["filters"])
    return downloads.attachment(out)
