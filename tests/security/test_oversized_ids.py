"""Finding 15 (ids): numbers SQLite cannot hold (2^63 and up) are a 404 in a path and a 400 in a query
string or form, never a 500.

The test walks every route of the app's url_map, so a route added later is covered without editing
this file: each integer part of its path gets an oversized id, and each route is called with oversized
values in the query-string and form keys the app reads as numbers.
"""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from tests.webmap.conftest import csrf_from, login
from webmap import create_app

BIG = (2**63, 2**64, 10**30)
# Keys some view reads with type=int or as an id (webmap.views.params and the services behind the views).
INT_KEYS = ("grid", "page", "per_page", "zoom", "grid_id", "venue_id", "hit_id", "clue_id", "id")
# Routes that read the key: an oversized value there must be a 400 (elsewhere it is ignored).
MUST_REFUSE = {
    ("map.index", "grid"),
    ("map.api_venues", "grid"),
    ("map.api_venues", "zoom"),
    ("map.api_hits", "grid"),
    ("map.api_grids", "grid"),
    ("search.index", "page"),
    ("search.api", "per_page"),
    ("admin.index", "page"),
}
SAMPLE = {"fmt": "csv", "step": "start", "action": "pause"}


@pytest.fixture
def admin(cfg, users_world):
    app = create_app({"TESTING": True, "evidence.write_pdf": False}, config=cfg)
    c = app.test_client()
    assert login(c, "admin").status_code == 302
    c.csrf = csrf_from(c.get("/").text)
    return app, c


def _rules(app):
    # Not logout: the walk would end its own session half way.
    return [r for r in app.url_map.iter_rules() if r.endpoint not in ("static", "auth.logout")]


def _methods(rule):
    return sorted(m for m in rule.methods if m in ("GET", "POST"))


def _call(c, method: str, url: str, data=None):
    if method == "GET":
        return c.get(url)
    return c.post(url, data={"csrf_token": c.csrf, **(data or {})}, headers={"X-CSRFToken": c.csrf})


def _valid_values(rule, world) -> dict:
    ids = {
        "grid_id": world.grid_own,
        "venue_id": world.venue_own,
        "hit_id": world.hit_own,
        "clue_id": world.clue_own,
        "draw_id": 1,
        "ss_id": 1,
        "attachment_id": 1,
    }
    return {k: ids.get(k, SAMPLE.get(k)) for k in rule.arguments}


def test_oversized_ids_in_paths_are_404(admin, users_world):
    app, c = admin
    adapter = app.url_map.bind("localhost")
    seen = []
    for rule in _rules(app):
        int_args = [k for k, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]
        for arg in int_args:
            for big in BIG:
                url = adapter.build(rule.endpoint, {**_valid_values(rule, users_world), arg: big})
                for method in _methods(rule):
                    r = _call(c, method, url)
                    seen.append((method, url, r.status_code))
    assert len({u for _, u, _ in seen}) >= 15 * len(BIG)
    assert [s for s in seen if s[2] != 404] == []


def test_oversized_ids_in_query_strings_are_400_never_500(admin, users_world):
    app, c = admin
    adapter = app.url_map.bind("localhost")
    failures, refused = [], set()
    for rule in _rules(app):
        base = adapter.build(rule.endpoint, _valid_values(rule, users_world))
        for key in INT_KEYS:
            for big in BIG:
                for method in _methods(rule):
                    url = f"{base}{'&' if '?' in base else '?'}{key}={big}"
                    r = _call(c, method, url)
                    if r.status_code >= 500:
                        failures.append((method, url, r.status_code))
                    if r.status_code == 400:
                        refused.add((rule.endpoint, key))
    assert failures == []
    assert MUST_REFUSE - refused == set()


def test_oversized_ids_in_forms_are_never_500(admin, users_world):
    app, c = admin
    adapter = app.url_map.bind("localhost")
    failures = []
    for rule in _rules(app):
        if "POST" not in rule.methods:
            continue
        url = adapter.build(rule.endpoint, _valid_values(rule, users_world))
        for big in BIG:
            r = _call(c, "POST", url, {k: str(big) for k in INT_KEYS})
            if r.status_code >= 500:
                failures.append((url, r.status_code))
    assert failures == []
