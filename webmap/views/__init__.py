"""Blueprints of the web app, one per feature. Add yours with one import line and one list entry."""
from webmap.views.auth import bp as auth_bp
from webmap.views.map import bp as map_bp

BLUEPRINTS = [
    auth_bp,
    map_bp,
]
