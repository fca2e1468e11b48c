"""Blueprints of the web app, one per feature. Add yours with one import line and one list entry."""

from webmap.views.admin import bp as admin_bp
from webmap.views.alerts import bp as alerts_bp
from webmap.views.auth import bp as auth_bp
from webmap.views.clues import bp as clues_bp
from webmap.views.hits import bp as hits_bp
from webmap.views.jobs import bp as jobs_bp
from webmap.views.ledgers import bp as ledgers_bp
from webmap.views.map import bp as map_bp
from webmap.views.search import bp as search_bp
from webmap.views.triage import bp as triage_bp
from webmap.views.venues import bp as venues_bp

BLUEPRINTS = [
    auth_bp,
    map_bp,
    venues_bp,
    ledgers_bp,
    hits_bp,
    triage_bp,
    admin_bp,
    clues_bp,
    jobs_bp,
    search_bp,
    alerts_bp,
]
