"""What one running sample site holds (its posts, its throttle, its request statistics), and how a
view reaches it. Apart from app.py so the view modules and the app do not import each other."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from samplesite.content import ContentStore
from samplesite.throttle import RequestStats, Throttle


@dataclass
class SiteState:
    store: ContentStore
    throttle: Throttle = field(default_factory=Throttle)
    stats: RequestStats = field(default_factory=RequestStats)
    latency_ms: int = 0


def site_state() -> SiteState:
    return current_app.extensions["samplesite"]
