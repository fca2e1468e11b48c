"""执法全过程记录: who did what, when and from where, in the same transaction as the request's work."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from core.models import AuditLog
from webmap.dbsession import get_session


def record(action: str, object_type: str | None = None, object_id: Any = None, **detail: Any) -> AuditLog:
    """Write one audit row (view / export / create / update / assign / login / denied …).

    The row joins the request's session, so it is committed with the change it describes, or not at all.
    """
    from webmap.auth import current_user

    user = current_user() if has_request_context() else None
    row = AuditLog(
        user_id=user.id if user else detail.pop("user_id", None),
        username=user.username if user else detail.pop("username", None),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=detail or None,
        ip=request.remote_addr if has_request_context() else None,
    )
    get_session().add(row)
    return row
