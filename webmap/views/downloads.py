"""Sending an export file (services.exports.Export) as a download."""

from __future__ import annotations

from flask import Response


def attachment(out) -> Response:
    """The file as an attachment under its own name (the browser saves it instead of showing it)."""
    return Response(
        out.body, mimetype=out.mimetype, headers={"Content-Disposition": f'attachment; filename="{out.filename}"'}
    )
