"""App and client fixtures for the web app: a two-street sample with users of every role."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from core import db
from tests.helpers import make_grid, make_user
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
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert m, "no CSRF token in page"
    return m.group(1)


def login(client, username: str, password: str = PASSWORD):
    """Log in through the real form, CSRF token included."""
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page.text)})


@dataclass
class World:
    grid_own: int
    grid_other: int
    street_own: int
    street_other: int


@pytest.fixture
def users_world(cfg):
    """Two streets with one grid each; users: admin, patrol, gm_own (zone = own grid)."""
    with db.session_scope(cfg) as s:
        st1 = make_grid(s, code="320508001", name="平江街道", level="street", bounds=(120.60, 31.30, 120.62, 31.32))
        st2 = make_grid(s, code="320508002", name="沧浪街道", level="street", bounds=(120.62, 31.30, 120.64, 31.32))
        g1 = make_grid(s, code="320508001001", name="平江一网格", parent=st1, bounds=(120.60, 31.30, 120.62, 31.32))
        g2 = make_grid(s, code="320508002001", name="沧浪一网格", parent=st2, bounds=(120.62, 31.30, 120.64, 31.32))
        make_user(s, "admin", role="admin", password=PASSWORD)
        make_user(s, "patrol", role="patrol", password=PASSWORD)
        make_user(s, "gm_own", role="grid_manager", password=PASSWORD, grids=[g1])
        return World(grid_own=g1.id, grid_other=g2.id, street_own=st1.id, street_other=st2.id)
