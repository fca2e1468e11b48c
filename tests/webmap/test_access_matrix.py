"""Every route × every role × own/other zone: the status each must get.

Routes are read from the app's url_map, so a new route without an entry in ACCESS fails this test:
whoever adds a route declares who may use it. Variants:
  anon      not logged in
  admin     administrator (whole district)
  patrol    patrol staff (whole district)
  gm_own    grid manager asking for an object in (or a filter on) their own zone
  gm_other  the same grid manager asking for another zone's object (or ?grid=<another grid>)
An entry is keyed by endpoint (for its `method`); a route answering a second method needs a second
entry keyed "endpoint METHOD".
CSRF is switched off here (it is tested in test_auth); this test is about who may do what.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.webmap.conftest import PASSWORD
from webmap import create_app

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL (tests/conftest.py)
VARIANTS = ("anon", "admin", "patrol", "gm_own", "gm_other")
LOGIN = {"admin": "admin", "patrol": "patrol", "gm_own": "gm_own", "gm_other": "gm_own"}


# Access granted, and the outcome then depends on what earlier requests in this test did to the same
# clue (created 201, done 200, or "already confirmed/started" 400) — never 401/403.
GRANTED = (200, 201, 400)


@dataclass(frozen=True)
class Access:
    anon: int
    admin: int | tuple
    patrol: int | tuple
    gm_own: int | tuple
    gm_other: int | tuple
    method: str = "GET"
    data: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)  # fixed URL values (fmt, action, step, filename…)
    zone_query: bool = False  # routes without ids: the "other" variant adds ?grid=<other grid>


def page(admin=200, patrol=200, gm_own=200, gm_other=403, **kw) -> Access:
    """A page for logged-in users; anonymous users are sent to the login page."""
    return Access(302, admin, patrol, gm_own, gm_other, **kw)


def api(admin=200, patrol=200, gm_own=200, gm_other=403, **kw) -> Access:
    """A JSON endpoint; anonymous callers get 401 rather than a redirect."""
    return Access(401, admin, patrol, gm_own, gm_other, **kw)


ADMIN_ONLY = dict(patrol=403, gm_own=403, gm_other=403)
INSPECTION = {"date": "2026-04-01", "inspectors": "王执法、李执法", "result": "未发现问题"}

ACCESS: dict[str, Access] = {
    # --- authentication (webmap/views/auth.py)
    "auth.login": Access(200, 200, 200, 200, 200),
    "auth.login POST": Access(200, 200, 200, 200, 200, method="POST"),  # empty form: shown again
    "auth.logout": Access(302, 302, 302, 302, 302, method="POST"),
    # the user's own language (webmap/i18n.py): every logged-in user, for themselves only
    "auth.set_locale": page(302, 302, 302, 302, method="POST", data={"locale": "zh_CN"}),
    "static": Access(200, 200, 200, 200, 200, values={"filename": "css/app.css"}),
    # --- map and its APIs (webmap/views/map.py)
    "map.index": page(gm_other=403, zone_query=True),
    "map.grid_map": page(),
    "map.api_grids": api(zone_query=True),
    "map.api_roads": api(gm_other=200),  # base-map lines: no zone, no ids, the same for everyone
    "map.api_venues": api(zone_query=True),
    "map.api_venue": api(),
    "map.api_hits": api(zone_query=True),
    "hits.api_hit": api(),
    # --- 一户一档 and hits (webmap/views/venues.py, hits.py)
    "venues.show": page(),
    "venues.add_inspection": page(302, 302, 302, 403, method="POST", data=INSPECTION),
    "hits.show": page(),
    "hits.assign": page(302, 302, 403, 403, method="POST", data={"grid_id": "{grid_id}"}),
    # --- 台账 (webmap/views/ledgers.py): the zone's venues and inspections, ?grid= zone-checked
    "ledgers.index": page(zone_query=True),
    "ledgers.venues_export": page(values={"fmt": "xlsx"}, zone_query=True),
    "ledgers.inspections": page(zone_query=True),
    "ledgers.inspections_export": page(values={"fmt": "csv"}, zone_query=True),
    # --- exports (webmap/views/venues.py, hits.py)
    "venues.export": page(values={"fmt": "csv"}, zone_query=True),
    "hits.export": page(values={"fmt": "xlsx"}, zone_query=True),
    # --- administration (webmap/views/admin.py)
    "admin.index": page(**ADMIN_ONLY),
    # --- clues (webmap/views/clues.py, jobs helper): triage is for admin/patrol, work for admin/grid managers
    "clues.index": page(gm_other=200),
    "clues.show": page(),
    "hits.triage": page(**dict(ADMIN_ONLY, patrol=200)),
    "triage.index": page(**dict(ADMIN_ONLY, patrol=200)),
    # no hit chosen: the list again with a message (302); the route suite sends hit ids in the body
    "triage.bulk": page(302, 302, 403, 403, method="POST", data={"action": "dismiss", "reason": "测试"}),
    "hits.dismiss": page(302, 302, 403, 403, method="POST", data={"reason": "测试"}),
    "hits.transfer": page(302, 302, 403, 403, method="POST", data={"authority": "杭州市文化市场综合行政执法队"}),
    "hits.confirm": page(302, 302, 403, 403, method="POST", data={"grid_id": "{grid_id}"}),
    "clues.work": page(302, 403, 302, 403, method="POST", values={"step": "start"}),
    "clues.photo": page(404, 404, 404, 404, values={"attachment_id": 999999}),
    "clues.api_list": api(gm_other=200),
    "clues.api_geojson": api(gm_other=200),
    "clues.api_show": api(),
    "hits.api_dismiss": api(GRANTED, GRANTED, 403, 403, method="POST", data={"reason": "测试"}),
    "hits.api_transfer": api(GRANTED, GRANTED, 403, 403, method="POST", data={"authority": "杭州市执法队"}),
    "hits.api_confirm": api(GRANTED, GRANTED, 403, 403, method="POST", data={"grid_id": "{grid_id}"}),
    "clues.api_work": api(GRANTED, 403, GRANTED, 403, method="POST", values={"step": "start"}),
    # --- search (webmap/views/search.py, search helper): results are zone-filtered, hits zone-checked
    "search.index": page(gm_other=200),
    "search.api": api(gm_other=200),
    "search.export": page(values={"fmt": "csv"}, gm_other=200),
    "hits.detail": page(301, 301, 301),  # the former evidence page: a redirect to the one hit page
    "hits.evidence_zip": page(302, 302, 302, 403),  # the test hits have no evidence: message + redirect
    "alerts.saved": page(gm_other=200),
    "alerts.saved POST": page(302, 302, 302, 302, method="POST", data={"name": "测试", "query": "一日游"}),
    "alerts.delete_saved": page(404, 404, 404, 404, method="POST", values={"ss_id": 999999}),
    "alerts.alerts": page(gm_other=200),
    "alerts.alerts_seen": page(302, 302, 302, 302, method="POST"),
    # --- jobs, grading, 双随机 draws (webmap/views/jobs.py, jobs helper)
    "jobs.index": page(**ADMIN_ONLY),
    "jobs.act": page(302, 403, 403, 403, method="POST", values={"action": "pause"}, data={"job_id": "none"}),
    "jobs.api_jobs": api(**ADMIN_ONLY),
    "jobs.grading": page(gm_other=200),
    "jobs.draws": page(gm_other=200),
    "jobs.new_draw": page(302, 403, 403, 403, method="POST"),
    "jobs.draw": page(404, 404, 404, 404, values={"draw_id": 999999}),
    "jobs.draw_csv": page(404, 404, 404, 404, values={"draw_id": 999999}),
    "jobs.publish": page(404, 403, 403, 403, method="POST", values={"draw_id": 999999}),
    "jobs.public_draw": Access(404, 404, 404, 404, 404, values={"draw_id": 999999}),
    "jobs.public_draw_csv": Access(404, 404, 404, 404, 404, values={"draw_id": 999999}),
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(app, rule, entry: Access, world, variant: str) -> str:
    values = {k: v for k, v in world.ids(variant).items() if k in rule.arguments}
    values.update(entry.values)
    with app.test_request_context():
        from flask import url_for

        url = url_for(rule.endpoint, **values)
    if entry.zone_query and variant == "gm_other":
        url += ("&" if "?" in url else "?") + f"grid={world.grid_other}"
    return url


@pytest.fixture
def matrix_app(cfg, users_world):
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, config=cfg)


def _clients(app):
    clients = {"anon": app.test_client()}
    for variant, username in LOGIN.items():
        c = app.test_client()
        r = c.post("/login", data={"username": username, "password": PASSWORD})
        assert r.status_code == 302, f"login {username} failed"
        clients[variant] = c
    return clients


def _entry(endpoint: str, method: str) -> Access | None:
    """ACCESS["endpoint"] covers its declared method; a second method needs "endpoint METHOD"."""
    entry = ACCESS.get(f"{endpoint} {method}")
    if entry is None and endpoint in ACCESS and ACCESS[endpoint].method == method:
        entry = ACCESS[endpoint]
    return entry


def test_every_route_has_an_access_entry(matrix_app):
    missing = sorted(
        f"{rule.endpoint} {method}" for rule, method in _routes(matrix_app) if _entry(rule.endpoint, method) is None
    )
    assert missing == [], f"routes without an entry in ACCESS (declare who may use them): {missing}"
    used = {k for rule, method in _routes(matrix_app) for k in (rule.endpoint, f"{rule.endpoint} {method}")}
    stale = sorted(set(ACCESS) - used)
    assert stale == [], f"ACCESS entries for routes that no longer exist: {stale}"


def test_access_matrix(matrix_app, users_world, db_engine):
    clients = _clients(matrix_app)
    failures = []
    for rule, method in sorted(_routes(matrix_app), key=lambda rm: (rm[0].rule, rm[1])):
        entry = _entry(rule.endpoint, method)
        if entry is None:
            continue
        for variant in VARIANTS:
            url = _url(matrix_app, rule, entry, users_world, variant)
            ids = users_world.ids(variant)
            data = {k: str(v).format(**ids) for k, v in entry.data.items()}
            if rule.endpoint == "auth.logout":
                clients_v = matrix_app.test_client()  # never log out the shared clients
                clients_v.post("/login", data={"username": LOGIN.get(variant, "x"), "password": PASSWORD})
                r = clients_v.post(url)
            elif method == "POST":
                r = (
                    clients[variant].post(url, json=data)
                    if rule.rule.startswith("/api/")
                    else clients[variant].post(url, data=data)
                )
            else:
                r = clients[variant].get(url)
            r.close()
            expected = getattr(entry, variant)
            if r.status_code not in (expected if isinstance(expected, tuple) else (expected,)):
                failures.append(f"{method} {url} as {variant}: {r.status_code}, expected {expected}")
    assert failures == [], "\n".join(failures)


def test_grid_manager_refusals_are_audited(matrix_app, users_world, cfg):
    from core import db
    from core.models import AuditLog

    c = _clients(matrix_app)["gm_other"]
    for url in (
        f"/venues/{users_world.venue_other}",
        f"/api/hits/{users_world.hit_other}",
        f"/map/grid/{users_world.grid_other}",
        f"/api/venues?grid={users_world.grid_other}",
    ):
        assert c.get(url).status_code == 403
    with db.session_scope(cfg) as s:
        denied = [
            (a.username, a.object_type) for a in s.query(AuditLog).filter_by(action="denied").order_by(AuditLog.id)
        ]
    assert denied == [("gm_own", "venue"), ("gm_own", "hit"), ("gm_own", "grid"), ("gm_own", "grid")]
