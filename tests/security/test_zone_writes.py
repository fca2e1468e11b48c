"""#12 finding 1 — zone writes through a referenced object.

A grid manager recorded an inspection on a venue in another zone by posting to a clue inside their own
zone with the other zone's venue_id in the body: only the clue in the URL was checked. Every id a write
request carries (form field, JSON key at any depth, query string, a list of ids) is now parsed in one
place (webmap.views.loaders.body_refs) into loaded objects whose zone is checked before the view runs;
a refusal is an audited 403 and nothing changes. An id-like field the app does not know is refused
(400), so a new body field cannot skip the check.
"""

from __future__ import annotations

import io

from sqlalchemy import select

from core import db
from core.models import AuditLog, Clue, Inspection
from tests.security.db_snapshot import changes, snapshot
from tests.webmap.conftest import csrf_from, login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _token(client, clue_id: int) -> str:
    return csrf_from(client.get(f"/clues/{clue_id}").text)


def _denied(cfg) -> list[tuple[str, str]]:
    with db.session_scope(cfg) as s:
        return [(a.object_type, a.object_id) for a in s.scalars(select(AuditLog).where(AuditLog.action == "denied"))]


def test_form_inspection_on_a_foreign_venue_through_an_own_clue_is_refused(cfg, client, users_world):
    w = users_world
    login(client, "gm_own")
    token = _token(client, w.clue_own)
    before = snapshot(cfg)
    r = client.post(
        f"/clues/{w.clue_own}/inspection",
        data={"result": "未发现问题", "venue_id": str(w.venue_other), "csrf_token": token},
    )
    assert r.status_code == 403
    assert changes(before, snapshot(cfg)) == {}
    assert ("venue", str(w.venue_other)) in _denied(cfg)


def test_api_inspection_on_a_foreign_venue_is_refused_json_and_multipart(cfg, client, users_world):
    w = users_world
    login(client, "gm_own")
    token = _token(client, w.clue_own)
    before = snapshot(cfg)
    r = client.post(
        f"/api/clues/{w.clue_own}/inspection",
        json={"result": "未发现问题", "venue_id": w.venue_other},
        headers={"X-CSRFToken": token},
    )
    assert r.status_code == 403
    r = client.post(
        f"/api/clues/{w.clue_own}/inspection",
        data={"result": "未发现问题", "venue_id": str(w.venue_other), "photos": (io.BytesIO(PNG), "p.png")},
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )
    assert r.status_code == 403
    assert changes(before, snapshot(cfg)) == {}  # no inspection, no attachment row, no photo file


def test_the_clues_own_venue_is_checked_too(cfg, client, users_world):
    """A clue confirmed with a venue of another zone: inspecting it "by default" reaches that venue."""
    w = users_world
    with db.session_scope(cfg) as s:
        s.get(Clue, w.clue_own).venue_id = w.venue_other
    login(client, "gm_own")
    token = _token(client, w.clue_own)
    before = snapshot(cfg)
    r = client.post(f"/clues/{w.clue_own}/inspection", data={"result": "未发现问题", "csrf_token": token})
    assert r.status_code == 403
    assert changes(before, snapshot(cfg)) == {}


def test_every_id_in_the_body_is_checked_even_where_the_route_ignores_it(cfg, client, users_world):
    w = users_world
    login(client, "gm_own")
    token = _token(client, w.clue_own)
    before = snapshot(cfg)
    attempts = [
        ("form", f"/clues/{w.clue_own}/start", {"hit_id": w.hit_other}),
        ("json", f"/api/clues/{w.clue_own}/start", {"clue_id": w.clue_other}),
        ("json", f"/api/clues/{w.clue_own}/start", {"note": "x", "detail": {"grid_id": w.grid_other}}),
        ("json", f"/api/clues/{w.clue_own}/start", {"venue_ids": [w.venue_own, w.venue_other]}),
        ("form", f"/venues/{w.venue_own}/inspections", {"grid_id": w.grid_other}),
        ("query", f"/clues/{w.clue_own}/start?venue_id={w.venue_other}", {}),
    ]
    for how, url, body in attempts:
        if how == "json":
            r = client.post(url, json=body, headers={"X-CSRFToken": token})
        else:
            r = client.post(url, data={**{k: str(v) for k, v in body.items()}, "csrf_token": token})
        assert r.status_code == 403, (how, url, body, r.status_code)
    assert changes(before, snapshot(cfg)) == {}


def test_unknown_or_malformed_id_fields_are_refused_with_one_line(cfg, client, users_world):
    w = users_world
    login(client, "gm_own")
    token = _token(client, w.clue_own)
    before = snapshot(cfg)
    for body in ({"shop_id": 1}, {"venue_id": "abc"}, {"venue_id": 2**63}, {"venue_id": {"id": 1}}):
        r = client.post(f"/api/clues/{w.clue_own}/start", json=body, headers={"X-CSRFToken": token})
        assert r.status_code == 400, (body, r.status_code)
        assert "Traceback" not in r.text and r.get_json()["error"]
    assert changes(before, snapshot(cfg)) == {}


def test_own_zone_and_district_wide_roles_still_work(cfg, client, users_world):
    w = users_world
    login(client, "gm_own")
    token = _token(client, w.clue_own)
    r = client.post(
        f"/api/clues/{w.clue_own}/inspection",
        json={"result": "未发现问题", "venue_id": w.venue_own},
        headers={"X-CSRFToken": token},
    )
    assert r.status_code == 200, r.text
    admin = client.application.test_client()
    login(admin, "admin")
    token = csrf_from(admin.get(f"/clues/{w.clue_other}").text)
    r = admin.post(
        f"/api/clues/{w.clue_other}/inspection",
        json={"result": "未发现问题", "venue_id": w.venue_own},
        headers={"X-CSRFToken": token},
    )
    assert r.status_code == 200, r.text
    with db.session_scope(cfg) as s:
        venues = sorted(i.venue_id for i in s.scalars(select(Inspection).where(Inspection.clue_id.is_not(None))))
    assert venues == sorted([w.venue_own, w.venue_own])
