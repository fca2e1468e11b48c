"""App and client fixtures for the web app: a two-street sample with users of every role."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest

from core import db
from tests.helpers import make_clue, make_grid, make_hit, make_inspection, make_user, make_venue
from webmap import create_app

PASSWORD = "secret-pass"


@pytest.fixture
def app(cfg):
    app = create_app({"TESTING": True}, config=cfg)
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert m, "no CSRF token in page"
    return m.group(1)


def login(client, username: str, password: str = PASSWORD):
    """Log in through the real form, CSRF token included."""
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_from(page.text)})


@dataclass
class World:
    """Ids of one object per kind in the grid manager's zone ("own") and one outside it ("other")."""

    grid_own: int
    grid_other: int
    street_own: int
    street_other: int
    venue_own: int = 0
    venue_other: int = 0
    hit_own: int = 0
    hit_other: int = 0
    clue_own: int = 0
    clue_other: int = 0

    def ids(self, variant: str) -> dict[str, int]:
        """URL values for routes with object ids: the own or the other zone's objects."""
        own = not variant.endswith("other")
        return {
            "grid_id": self.grid_own if own else self.grid_other,
            "venue_id": self.venue_own if own else self.venue_other,
            "hit_id": self.hit_own if own else self.hit_other,
            "clue_id": self.clue_own if own else self.clue_other,
        }


@pytest.fixture
def users_world(cfg):
    """Two streets with one grid each, a venue, an inspection, a hit and its clue in each; users admin,
    patrol, gm_own (zone = the first grid) and gm_other (zone = the second grid)."""
    with db.session_scope(cfg) as s:
        st1 = make_grid(s, code="320508001", name="平江街道", level="street", bounds=(120.60, 31.30, 120.62, 31.32))
        st2 = make_grid(s, code="320508002", name="沧浪街道", level="street", bounds=(120.62, 31.30, 120.64, 31.32))
        g1 = make_grid(s, code="320508001001", name="平江一网格", parent=st1, bounds=(120.60, 31.30, 120.62, 31.32))
        g2 = make_grid(s, code="320508002001", name="沧浪一网格", parent=st2, bounds=(120.62, 31.30, 120.64, 31.32))
        v1 = make_venue(s, grid=g1, name="平江网吧", lon=120.61, lat=31.31, risk_grade="D", risk_score=80.0)
        v2 = make_venue(s, grid=g2, name="沧浪书店", category="书店与出版物零售", lon=120.63, lat=31.31, risk_grade="A")
        make_inspection(s, v1, dt.date(2026, 3, 1), result="责令整改", violations="未核验身份证")
        make_inspection(s, v2, dt.date(2026, 2, 1))
        h1 = make_hit(s, g1, v1, "平江路低价一日游", 120.611, 31.311)
        h2 = make_hit(s, g2, None, "沧浪盗版教辅", 120.631, 31.311, label="illegal_publication")
        # Each hit is already a clue (status "clue"), as confirming it leaves it: triage routes on these
        # hits answer "already a clue" (the access matrix counts that as granted, never 401/403).
        c1, c2 = make_clue(s, h1), make_clue(s, h2)
        make_user(s, "admin", role="admin", password=PASSWORD)
        make_user(s, "patrol", role="patrol", password=PASSWORD)
        make_user(s, "gm_own", role="grid_manager", password=PASSWORD, grids=[g1])
        make_user(s, "gm_other", role="grid_manager", password=PASSWORD, grids=[g2])
        return World(
            grid_own=g1.id,
            grid_other=g2.id,
            street_own=st1.id,
            street_other=st2.id,
            venue_own=v1.id,
            venue_other=v2.id,
            hit_own=h1.id,
            hit_other=h2.id,
            clue_own=c1.id,
            clue_other=c2.id,
        )
