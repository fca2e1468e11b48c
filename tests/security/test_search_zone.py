"""#12 finding 3 — a stale search index leaked moved hits.

After a hit was reassigned to another grid, the old zone's grid manager still found it through search,
the search export and the facet counts, because the index (fed by the outbox) still held the old grid.
The database decides now: results, totals, pages, facet counts, exports and alerts of a zone-scoped
search keep only hits whose current grid in the database is in the zone. These tests move hits and
search with the outbox NOT drained; the index then catches up through the outbox.

The web tests run on both engines (SQLite with the embedded backend, PostgreSQL with its own); the
library tests run against every backend: embedded and postgres always, Elasticsearch when
WANGXUN_TEST_ELASTICSEARCH_URL points at a cluster.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

import search
from core import db
from core.models import Hit
from hits.lifecycle import change_hit
from search import outbox
from tests.helpers import make_grid, make_hit
from tests.search.test_backends import BACKENDS, backend_config
from tests.webmap.conftest import csrf_from, login

pytestmark = pytest.mark.both_engines  # the `cfg` of the web tests (tests/conftest.py)


def _refresh(cfg) -> None:
    if cfg.search.backend == "elasticsearch":
        search.get_backend(cfg).es.indices.refresh(index=cfg.search.es_index_alias)


# ---------------------------------------------------------------- the web app (each engine's own backend)


def _as(app, username):
    c = app.test_client()
    login(c, username)
    return c


def test_a_reassigned_hit_leaves_the_old_zones_search_at_once(cfg, app, users_world):
    w = users_world
    assert outbox.drain(cfg) == 2  # both hits indexed, with their grids
    patrol = _as(app, "patrol")
    token = csrf_from(patrol.get(f"/hits/{w.hit_own}").text)
    r = patrol.post(f"/hits/{w.hit_own}/assign", data={"grid_id": w.grid_other, "csrf_token": token})
    assert r.status_code == 302
    assert outbox.pending(cfg) == 1  # the index still says: grid_own

    old = _as(app, "gm_own")
    assert "平江路低价一日游" not in old.get("/search?q=一日游").text
    data = old.get("/api/search?q=一日游").get_json()
    assert (data["total"], data["hits"]) == (0, [])
    data = old.get("/api/search?q=label:旅行社,出版物").get_json()
    assert data["total"] == 0 and data["hits"] == []
    assert all(v["count"] == 0 for values in data["facets"].values() for v in values)
    export = old.get("/search/export.csv?q=一日游")
    assert export.status_code == 200 and "平江路低价一日游" not in export.get_data(as_text=True)
    assert old.get(f"/search/hits/{w.hit_own}").status_code == 403

    new = _as(app, "gm_other")
    data = new.get("/api/search?q=label:旅行社,出版物").get_json()
    in_db = _grids(cfg, [h["id"] for h in data["hits"]])
    assert set(in_db.values()) <= {w.grid_other}  # never a hit outside the zone, stale index or not

    assert outbox.drain(cfg) == 1  # the index catches up through the outbox
    data = new.get("/api/search?q=一日游").get_json()
    assert [h["id"] for h in data["hits"]] == [w.hit_own] and data["total"] == 1
    assert {f["value"]: f["count"] for f in data["facets"]["grid"]} == {str(w.grid_other): 1}
    rows = list(csv.reader(io.StringIO(new.get("/search/export.csv?q=一日游").get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 2 and "平江路低价一日游" in rows[1]
    assert old.get("/api/search?q=一日游").get_json()["total"] == 0


def _grids(cfg, ids: list[int]) -> dict[int, int | None]:
    with db.session_scope(cfg) as s:
        return dict(s.execute(select(Hit.id, Hit.grid_id).where(Hit.id.in_(ids or [0]))).all())


# ---------------------------------------------------------------- search.search, every backend


@pytest.fixture(params=BACKENDS)
def zoned(request, tmp_path):
    """Two grids; eight hits with 盗版 in the first grid, two in the second; all indexed."""
    cfg = backend_config(request, tmp_path, request.param)
    with db.session_scope(cfg) as s:
        district = make_grid(s, code="320508", name="姑苏区", level="district")
        a, b = make_grid(s, parent=district), make_grid(s, parent=district)
        ids = [
            make_hit(
                s,
                a if n < 8 else b,
                title=f"盗版教辅{n}",
                platform="shop" if n % 2 else "wechat",
                label="illegal_publication",
                detected_at=dt.datetime(2026, 3, 1 + n, 4, 0),
            ).id
            for n in range(10)
        ]
        grids = (a.id, b.id)
    assert outbox.drain(cfg) == 10
    _refresh(cfg)
    yield cfg, ids, grids
    if request.param == "elasticsearch":
        es = search.get_backend(cfg).es
        es.indices.delete(index=f"{cfg.search.es_index_alias}-v*", ignore_unavailable=True)
        es.indices.delete_index_template(name=cfg.search.es_index_alias)
    db.dispose(cfg)


def _move(cfg, hit_ids, grid_id) -> None:
    with db.session_scope(cfg) as s:
        for hit_id in hit_ids:
            change_hit(s, s.get(Hit, hit_id), grid_id=grid_id)


@pytest.mark.parametrize("sort", ["relevance", "time"])
def test_totals_pages_and_facets_follow_the_database(zoned, sort):
    cfg, ids, (a, b) = zoned
    moved = [ids[1], ids[4], ids[6]]
    _move(cfg, moved, b)
    assert outbox.pending(cfg) == 3  # not drained: the index still has them in grid a

    kept = [i for i in ids[:8] if i not in moved]
    seen, totals = [], set()
    for page in (1, 2, 3):
        r = search.search(cfg, "盗版", sort=sort, grid_ids={a}, page=page, per_page=2)
        totals.add((r.total, r.total_is_exact))
        seen += [h.id for h in r.hits]
        assert len(r.hits) == 2 or page == 3
    assert totals == {(5, True)}
    assert sorted(seen) == sorted(kept) and len(seen) == len(set(seen))
    if sort == "time":
        assert seen == sorted(kept, reverse=True)

    r = search.search(cfg, "盗版", sort=sort, grid_ids={a}, per_page=20)
    facets = {name: {f["value"]: f["count"] for f in values} for name, values in r.facets.items()}
    assert facets["grid"] == {str(a): 5}
    assert facets["label"] == {"illegal_publication": 5}
    assert facets["platform"] == {"wechat": 2, "shop": 3}  # kept: n = 0, 2 (wechat), 3, 5, 7 (shop)
    assert sum(facets["day"].values()) == 5

    # The district-wide view is untouched; the other zone sees only hits the database puts there.
    assert search.search(cfg, "盗版", grid_ids=None, per_page=20).total == 10
    r = search.search(cfg, "盗版", grid_ids={b}, per_page=20)
    assert set(_grids(cfg, [h.id for h in r.hits]).values()) == {b}

    assert outbox.drain(cfg) == 3
    _refresh(cfg)
    r = search.search(cfg, "盗版", grid_ids={b}, per_page=20)
    assert r.total == 5 and sorted(h.id for h in r.hits) == sorted(ids[8:] + moved)


def test_export_ids_follow_the_database(zoned):
    cfg, ids, (a, b) = zoned
    _move(cfg, ids[:4], b)
    for sort in ("relevance", "time"):
        assert sorted(search.matching_ids(cfg, "盗版", sort=sort, grid_ids={a}, limit=100)) == sorted(ids[4:8])
    assert search.matching_ids(cfg, "盗版", sort="time", grid_ids={a}, limit=2) == [ids[7], ids[6]]
    assert len(search.matching_ids(cfg, "盗版", grid_ids=None, limit=100)) == 10
