"""The whole product in one pass: the sample district in the database, the bundled sample site on a
free port, a crawl in a subprocess, detection against the registry, indexing, and then what patrol
staff and a grid manager see through the search API and the map.

It runs twice: on SQLite with the embedded search backend, and on PostgreSQL with PostgreSQL's own
full-text backend (what a city deployment without a search cluster runs).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import db, users
from core.models import Grid, Hit, SearchOutbox
from grids import tree
from grids.sample.load import load_sample
from samplesite.server import start
from tests.conftest import ENGINES
from tests.e2e.crawl_helpers import crawl_env, e2e_config, run_crawl
from tests.webmap.conftest import login
from webmap import create_app

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
PASSWORD = "secret-pass"


@pytest.fixture(scope="module", params=ENGINES)
def world(request, tmp_path_factory):
    """A crawled, detected and indexed sample district, with a patrol login and a grid manager whose zone
    holds at least one located hit."""
    tmp = tmp_path_factory.mktemp("pipeline")
    databases = request.getfixturevalue("pg_databases") if request.param == "postgresql" else None
    url = databases.create() if databases else ""
    with start() as site:
        cfg = e2e_config(tmp, site.url, url)
        db.upgrade(cfg)
        load_sample(cfg)  # registry and gazetteer for the detectors
        code, summary, err = run_crawl("wechat_e2e", crawl_env(tmp, site.url, url))
        assert code == 0 and summary is not None, err[-3000:]
    with db.session_scope(cfg) as s:
        users.create_user(s, "patrol", PASSWORD, "patrol")
        located = s.scalar(select(Hit).where(Hit.grid_id.is_not(None)).order_by(Hit.id))
        assert located is not None, "no hit was located in a grid"
        own_grid = s.get(Grid, located.grid_id)
        users.create_user(s, "gm", PASSWORD, "grid_manager", grid_ids=tree.leaves(s, [own_grid.id]))
        zone_hit_ids = {h.id for h in s.scalars(select(Hit).where(Hit.grid_id == own_grid.id))}
    app = create_app({"TESTING": True}, config=cfg)
    yield cfg, summary, app, zone_hit_ids
    db.dispose(cfg)
    if databases:
        databases.drop(url)


def test_crawl_detects_and_indexes_every_hit(world):
    cfg, summary, _app, _zone = world
    assert summary["state"] == "finished" and summary["hits"] > 0
    with db.session_scope(cfg) as s:
        hits = s.scalars(select(Hit)).all()
        assert len(hits) == summary["hits"]
        for hit in hits:
            assert set(hit.labels) <= {"unlicensed_travel", "illegal_publication"} and hit.labels
            assert hit.reasons and all(r["text"] for r in hit.reasons)  # why, in Chinese, for patrol staff
            assert max(hit.scores.values()) == pytest.approx(hit.score)
        assert s.scalar(select(SearchOutbox.id)) is None  # the crawl drained the outbox into the index


def test_search_api_finds_crawled_hits_with_highlights(world):
    _cfg, summary, app, _zone = world
    client = app.test_client()
    login(client, "patrol")
    everything = client.get("/api/search?q=&per_page=100").get_json()
    assert everything["total"] == summary["hits"]
    travel = client.get("/api/search?q=跟团").get_json()
    assert travel["total"] > 0
    first = travel["hits"][0]
    assert any("跟团" in sn["text"] and "<mark>" in sn["html"] for sn in first["snippets"])
    labelled = client.get("/api/search?q=label:unlicensed_travel").get_json()
    assert labelled["total"] > 0 and all("unlicensed_travel" in h["labels"] for h in labelled["hits"])
    assert client.get("/api/search?q=" + "盗" * 10000).status_code == 400


def test_grid_manager_sees_only_their_zone(world):
    _cfg, _summary, app, zone_hit_ids = world
    client = app.test_client()
    login(client, "gm")
    found = client.get("/api/search?q=&per_page=100").get_json()
    assert {h["id"] for h in found["hits"]} == zone_hit_ids
    rows = client.get("/api/hits").get_json()["rows"]
    assert {r[0] for r in rows} <= zone_hit_ids
    outside = next(iter(set(range(1, 500)) - zone_hit_ids))
    assert client.get(f"/api/hits/{outside}").status_code in (403, 404)


def test_map_html_shows_grids_venues_and_hits(world):
    _cfg, _summary, app, _zone = world
    client = app.test_client()
    login(client, "patrol")
    html = client.get("/").text
    assert "leaflet" in html.lower() and "/api/venues" in html and "/api/hits" in html
    grids = client.get("/api/grids").get_json()
    names = str(grids)
    assert "平江街道" in names or "平江路社区第1网格" in names
    venues = client.get("/api/venues?bbox=120.50,31.20,120.70,31.40").get_json()
    assert "网吧" in str(venues)
    hits = client.get("/api/hits").get_json()
    assert hits["count"] > 0
