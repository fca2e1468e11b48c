"""Test and demo controls under /__admin__: request statistics, live edits, and a reset.

These paths are exempt from the rate limit and captcha and are not counted in the statistics."""

from __future__ import annotations

from flask import Blueprint, abort, request

from samplesite.content import public
from samplesite.state import site_state

bp = Blueprint("admin", __name__, url_prefix="/__admin__")


@bp.get("/stats")
def stats():
    return site_state().stats.snapshot()


@bp.post("/edit/<post_id>")
def edit(post_id: str):
    """Change a post (title, text, status, price) so the next crawl sees a different page."""
    changes = request.get_json(silent=True) or request.form.to_dict()
    if not changes:
        abort(400, "send JSON or form fields: title, text, status, price")
    try:
        post = site_state().store.edit(post_id, changes)
    except KeyError:
        abort(404)
    except ValueError as exc:
        abort(400, str(exc))
    return public(post)


@bp.post("/reset")
def reset():
    """Forget request statistics and throttle history (edits stay)."""
    state = site_state()
    state.stats.reset()
    state.throttle.reset()
    return {"ok": True}
