"""线索管理 pages and JSON API: the task list, a grid manager's clue work (start, inspection with
photos, close), and the photos. Triage of a hit (confirm, dismiss) is in webmap.views.hits.

Every step calls one service function and writes one audit row in the same transaction. A clue
outside a grid manager's zone is a 403 (audited as "denied"); a mistake in the form is a message.
The API takes the same fields as the forms (JSON or multipart for photos) and needs the session
cookie plus the X-CSRFToken header (the token is in every page's <meta name="csrf-token">).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, send_file, url_for

from core.errors import UserError
from core.i18n import N_
from webmap import audit
from webmap.auth import current_user, login_required, roles_required
from webmap.dbsession import get_session
from webmap.i18n import gettext as _
from webmap.services import clues as svc
from webmap.services.hits import NotInZone
from webmap.views import loaders, steps

bp = Blueprint("clues", __name__)
TRIAGE_ROLES = ("admin", "patrol")
WORK_ROLES = ("admin", "grid_manager")
DONE = {"start": N_("已开始核查"), "inspection": N_("检查记录已保存"), "close": N_("线索已办结")}


@bp.app_template_filter("clue_local_time")
def _clue_local_time(value):
    return svc.local_time(value, g.cfg)


# ---------------------------------------------------------------- pages


@bp.route("/clues")
@login_required
def index():
    status = request.args.get("status", "active")
    user = current_user()
    rows = svc.task_list(get_session(), user, None if status == "all" else status)
    new_hits = svc.untriaged_hits(get_session()) if user.role in TRIAGE_ROLES else []
    return render_template(
        "clues/index.html", rows=rows, status=status, new_hits=new_hits, can_triage=user.role in TRIAGE_ROLES
    )


@bp.route("/clues/<int:clue_id>")
@login_required
def show(clue_id: int):
    clue = _load(clue_id, audit_view=True)
    return render_template(
        "clues/show.html",
        c=svc.page_detail(get_session(), clue),
        can_work=current_user().role in WORK_ROLES,
        venues=svc.venue_options(get_session(), clue),
        results=svc.INSPECTION_RESULTS,
        outcomes=svc.OUTCOME_CHOICES,
    )


@bp.route("/clues/<int:clue_id>/<any(start, inspection, close):step>", methods=["POST"])
@roles_required(*WORK_ROLES)
def work(clue_id: int, step: str):
    _load(clue_id)
    done = steps.form_step(lambda: _work(clue_id, step, request.form, request.files.getlist("photos")), "clue", clue_id)
    if done is not None:
        flash(_(DONE[step]), "ok")
    return redirect(url_for("clues.show", clue_id=clue_id))


@bp.route("/clues/attachments/<int:attachment_id>")
@login_required
def photo(attachment_id: int):
    found = svc.attachment(get_session(), attachment_id)
    if found is None:
        abort(404)
    att, clue = found
    if clue is None:  # photos exist only through the clue loop
        abort(404)
    _load(clue.id)
    path = svc.attachments_dir(g.cfg) / att.path
    if not path.is_file():
        abort(404)
    audit.record("view", "attachment", att.id, sha256=att.sha256)
    # A download, typed by its bytes, never sniffed: an uploaded page cannot run on this origin.
    response = send_file(
        path, mimetype=svc.attachment_mimetype(path), as_attachment=True, download_name=att.filename, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------- JSON API


@bp.route("/api/clues")
@login_required
def api_list():
    status = request.args.get("status") or None
    return jsonify(svc.task_list(get_session(), current_user(), status))


@bp.route("/api/clues.geojson")
@login_required
def api_geojson():
    return jsonify(svc.geojson(get_session(), current_user()))


@bp.route("/api/clues/<int:clue_id>")
@login_required
def api_show(clue_id: int):
    return jsonify(svc.detail(get_session(), _load(clue_id, audit_view=True)))


@bp.route("/api/clues/<int:clue_id>/<any(start, inspection, close):step>", methods=["POST"])
@roles_required(*WORK_ROLES)
def api_work(clue_id: int, step: str):
    _load(clue_id)
    steps.api_step(lambda: _work(clue_id, step, steps.payload(), request.files.getlist("photos")), "clue", clue_id)
    return jsonify(svc.detail(get_session(), _load(clue_id)))


# ---------------------------------------------------------------- steps (shared by pages and API)


def _work(clue_id: int, step: str, data, files):
    s, user = get_session(), current_user()
    if step == "start":
        result = svc.start(s, clue_id, user, note=data.get("note") or None)
        audit.record("start", "clue", clue_id)
    elif step == "inspection":
        venue = loaders.body_refs().one("venue_id")  # loaded and zone-checked before the view ran
        result = svc.record_inspection(g.cfg, s, clue_id, user, data, files, venue.id if venue else None)
        audit.record("inspect", "clue", clue_id, inspection_id=result.id, result=result.result)
    else:
        result = svc.close(s, clue_id, user, data)
        audit.record("close", "clue", clue_id, outcome=result.outcome, case_no=result.case_no)
    return result


def _load(clue_id: int, audit_view: bool = False):
    try:
        clue = svc.get_clue(get_session(), clue_id, current_user())
    except NotInZone:
        steps.deny("clue", clue_id)
    except UserError:
        abort(404)
    if audit_view:
        audit.record("view", "clue", clue.id)
    return clue
