"""Running one step of work (triage, a clue step) for a form or for the JSON API, the same way:
a user's mistake becomes a flash message (forms) or a 400 (API) after the session is rolled back,
and an object outside the user's zone becomes an audited 403 (naming the object that was outside: the
clue or hit of the URL, or a venue it led to).

The ids a request body carries are checked before any step runs (webmap.views.loaders.body_refs); a
step reads them back as loaded objects from body_refs(), never from the raw fields."""

from __future__ import annotations

from flask import abort, current_app, flash, request

from core.errors import UserError
from webmap import audit
from webmap.dbsession import get_session
from webmap.i18n import error_text
from webmap.services.clues import to_json
from webmap.services.hits import NotInZone


def form_step(fn, object_type: str, object_id):
    """Run a step for a form: a user mistake becomes a flash message and None."""
    try:
        return fn()
    except NotInZone as exc:
        get_session().rollback()
        deny(getattr(exc, "object_type", object_type), getattr(exc, "object_id", object_id))
    except UserError as exc:
        get_session().rollback()
        flash(error_text(exc), "error")
        return None


def api_step(fn, object_type: str, object_id):
    """Run a step for the JSON API: a user mistake becomes 400 with {"error": …}."""
    try:
        return fn()
    except NotInZone as exc:
        get_session().rollback()
        deny(getattr(exc, "object_type", object_type), getattr(exc, "object_id", object_id))
    except UserError as exc:
        get_session().rollback()
        abort(current_app.response_class(to_json({"error": error_text(exc)}), status=400, mimetype="application/json"))


def deny(object_type: str, object_id) -> None:
    audit.record("denied", object_type, object_id)
    abort(403)


def payload():
    """Form fields, or the JSON body of an API call."""
    if request.is_json:
        return request.get_json(silent=True) or {}
    return request.form
