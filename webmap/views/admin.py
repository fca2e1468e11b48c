"""管理: the audit log (执法全过程记录), searchable by user, action, object and date. Admins only."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, g, render_template, request

from webmap.auth import roles_required
from webmap.dbsession import get_session
from webmap.services import admin as admin_service

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _date(key: str) -> dt.date | None:
    raw = request.args.get(key, "").strip()
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        abort(400)


@bp.route("/")
@roles_required("admin")
def index():
    a = request.args
    q = admin_service.AuditQuery(
        username=a.get("username", "").strip(),
        action=a.get("action", "").strip(),
        object_type=a.get("object_type", "").strip(),
        object_id=a.get("object_id", "").strip(),
        date_from=_date("date_from"),
        date_to=_date("date_to"),
        page=a.get("page", 1, type=int),
    )
    return render_template(
        "admin/audit.html",
        q=q,
        actions=admin_service.ACTION_NAMES,
        users=admin_service.usernames(get_session()),
        tz=g.cfg.core.timezone,
        **admin_service.search_audit(get_session(), q, g.cfg.core.timezone),
    )
