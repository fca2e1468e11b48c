"""一张图: the map page and the JSON/GeoJSON APIs behind its layers."""
from __future__ import annotations

from flask import Blueprint, render_template

from webmap.auth import login_required

bp = Blueprint("map", __name__)


@bp.route("/")
@login_required
def index():
    return render_template("map/index.html")
