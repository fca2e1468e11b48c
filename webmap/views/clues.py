"""线索管理 pages and JSON API: triage hits (patrol staff), work clues (grid managers), close them.

Every step calls one hits.clues function and writes one audit row in the same transaction. A clue
outside a grid manager's zone is a 403 (audited as "denied"); a mistake in the form is a message.
The API takes the same fields as the forms (JSON or multipart for photos) and needs the session
cookie plus the X-CSRFToken header (the token is in every page's <meta name="csrf-token">).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
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
from webmap import audit
from webmap.auth import current_user, login_required, roles_required
from webmap.dbsession import get_session
from webmap.services import clues as svc
from webmap.views.loaders import load_hit

bp = Blueprint("clues", __name__)


@bp.app_template_filter("clue_local_time")
def _clue_local_time(value):
    return svc.local_time(value, g.cfg)


TRIAGE_ROLES = ("admin", "patrol")
WORK_ROLES = ("admin", "grid_manager")
STEPS = {"start": "start_inspection", "inspection": "record_inspection", "close": "close_clue"}


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
        c=svc.detail(get_session(), clue),
        can_work=_can_work(),
        venues=svc.venue_options(get_session(), clue),
        results=svc.INSPECTION_RESULTS,
        outcomes=svc.OUTCOME_CHOICES,
    )


@bp.route("/hits/<int:hit_id>/triage")
@roles_required(*TRIAGE_ROLES)
def triage(hit_id: int):
    s = get_session()
    hit = load_hit(hit_id)
    return render_template(
        "clues/triage.html",
        hit=hit,
        grids=svc.grid_options(s),
        suggested=svc.suggested_grid(s, hit),
        clue=svc.clue_for_hit(s, hit.id),
    )


@bp.route("/hits/<int:hit_id>/dismiss", methods=["POST"])
@roles_required(*TRIAGE_ROLES)
def dismiss(hit_id: int):
    load_hit(hit_id, action=None)
    if _form_step(lambda: _dismiss(hit_id, request.form)) is not None:
        flash("已排除", "ok")
    return redirect(url_for("clues.triage", hit_id=hit_id))


@bp.route("/hits/<int:hit_id>/confirm", methods=["POST"])
@roles_required(*TRIAGE_ROLES)
def confirm(hit_id: int):
    load_hit(hit_id, action=None)
    clue = _form_step(lambda: _confirm(hit_id, request.form))
    if clue is None:
        return redirect(url_for("clues.triage", hit_id=hit_id))
    flash(f"已转为线索 #{clue.id}，派发至网格", "ok")
    return redirect(url_for("clues.show", clue_id=clue.id))


@bp.route("/clues/<int:clue_id>/<any(start, inspection, close):step>", methods=["POST"])
@roles_required(*WORK_ROLES)
def work(clue_id: int, step: str):
    _load(clue_id)
    if _form_step(lambda: _work(clue_id, step, request.form, request.files.getlist("photos"))) is not None:
        flash({"start": "已开始核查", "inspection": "检查记录已保存", "close": "线索已办结"}[step], "ok")
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
    return send_file(path, download_name=att.filename, max_age=0)


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


@bp.route("/api/hits/<int:hit_id>/dismiss", methods=["POST"])
@roles_required(*TRIAGE_ROLES)
def api_dismiss(hit_id: int):
    load_hit(hit_id, action=None)
    hit = _api_step(lambda: _dismiss(hit_id, _payload()))
    return jsonify({"hit": hit.id, "status": hit.status, "dismiss_reason": hit.dismiss_reason})


@bp.route("/api/hits/<int:hit_id>/confirm", methods=["POST"])
@roles_required(*TRIAGE_ROLES)
def api_confirm(hit_id: int):
    load_hit(hit_id, action=None)
    clue = _api_step(lambda: _confirm(hit_id, _payload()))
    return jsonify(svc.detail(get_session(), clue)), 201


@bp.route("/api/clues/<int:clue_id>/<any(start, inspection, close):step>", methods=["POST"])
@roles_required(*WORK_ROLES)
def api_work(clue_id: int, step: str):
    _load(clue_id)
    _api_step(lambda: _work(clue_id, step, _payload(), request.files.getlist("photos")))
    return jsonify(svc.detail(get_session(), _load(clue_id)))


# ---------------------------------------------------------------- steps (shared by pages and API)


def _dismiss(hit_id: int, data):
    hit = svc.logic.dismiss_hit(get_session(), hit_id, current_user(), data.get("reason", ""))
    audit.record("dismiss", "hit", hit.id, reason=hit.dismiss_reason)
    return hit


def _confirm(hit_id: int, data):
    grid_id = _int(data.get("grid_id"))
    venue_id = _int(data.get("venue_id"))
    clue = svc.logic.confirm_hit(
        get_session(),
        hit_id,
        current_user(),
        grid_id=grid_id,
        venue_id=venue_id,
        note=(data.get("note") or "").strip() or None,
    )
    audit.record("confirm", "clue", clue.id, hit_id=hit_id, grid_id=clue.grid_id, routed=clue.history[-1]["routed"])
    return clue


def _work(clue_id: int, step: str, data, files):
    s, user = get_session(), current_user()
    if step == "start":
        result = svc.logic.start_inspection(s, clue_id, user, note=data.get("note") or None)
    elif step == "inspection":
        result = svc.logic.record_inspection(
            s,
            clue_id,
            user,
            data.get("result", ""),
            violations=data.get("violations") or None,
            penalty=svc.parse_penalty(data.get("penalty")),
            notes=data.get("notes") or None,
            photos=svc.parse_photos(files),
            attachments_dir=svc.attachments_dir(g.cfg),
            venue_id=_int(data.get("venue_id")),
            inspectors=data.get("inspectors") or None,
        )
        audit.record("inspect", "clue", clue_id, inspection_id=result.id, result=result.result)
        return result
    else:
        result = svc.logic.close_clue(
            s, clue_id, user, data.get("outcome", ""), case_no=data.get("case_no"), note=data.get("note") or None
        )
        audit.record("close", "clue", clue_id, outcome=result.outcome, case_no=result.case_no)
        return result
    audit.record("start", "clue", clue_id)
    return result


def _form_step(fn):
    """Run a step for a form: a user mistake becomes a flash message and None."""
    try:
        return fn()
    except svc.NotInZone:
        _deny()
    except UserError as exc:
        get_session().rollback()
        flash(str(exc), "error")
        return None


def _api_step(fn):
    try:
        return fn()
    except svc.NotInZone:
        _deny()
    except UserError as exc:
        get_session().rollback()
        abort(current_app.response_class(svc.to_json({"error": str(exc)}), status=400, mimetype="application/json"))


def _load(clue_id: int, audit_view: bool = False):
    try:
        clue = svc.logic.get_clue(get_session(), clue_id, current_user())
    except svc.NotInZone:
        _deny("clue", clue_id)
    except UserError:
        abort(404)
    if audit_view:
        audit.record("view", "clue", clue.id)
    return clue


def _deny(object_type: str = "clue", object_id=None):
    audit.record("denied", object_type, object_id if object_id is not None else request.view_args.get("clue_id"))
    abort(403)


def _can_work() -> bool:
    return current_user().role in WORK_ROLES


def _payload():
    """Form fields, or the JSON body of an API call."""
    if request.is_json:
        return request.get_json(silent=True) or {}
    return request.form


def _int(raw) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise UserError(f"not a number: {raw!r}") from None
