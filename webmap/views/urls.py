"""URL helpers the views hand to Flask-free services (which must not call url_for themselves)."""

from __future__ import annotations

from flask import url_for


def static_url(path: str) -> str:
    """The URL of a file under webmap/static/ (vendored Leaflet and plugins, our scripts)."""
    return url_for("static", filename=path)
