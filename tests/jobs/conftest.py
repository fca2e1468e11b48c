"""Scheduler fixtures: a config whose jobs the test chooses, and schedulers that are always shut down."""

from __future__ import annotations

import threading

import pytest

from core import db
from jobs import scheduler as jobs_scheduler
from jobs import tasks
from tests.conftest import make_config

WAIT_S = 60  # upper bound for anything the scheduler thread does; tests normally finish far sooner


def job_config(tmp_path, schedule, **overrides):
    base = {"jobs.schedule": schedule, "jobs.crawl_cron": "", "jobs.wakeup_seconds": 0.2}
    base.update(overrides)
    cfg = make_config(tmp_path, **base)
    db.upgrade(cfg)
    return cfg


@pytest.fixture
def started(request):
    """start(cfg) that shuts every scheduler it started down at the end of the test."""
    schedulers = []

    def _start(cfg):
        sched, report = jobs_scheduler.start(cfg)
        schedulers.append(sched)
        return sched, report

    yield _start
    for sched in schedulers:
        if sched.running:
            sched.shutdown(wait=True)


@pytest.fixture
def fake_crawler(monkeypatch):
    monkeypatch.setattr(tasks, "CRAWLER_MODULE", "tests.jobs.fake_crawler")


class Gate:
    """A task that blocks until released, counting how many copies run at once."""

    def __init__(self):
        self.started = threading.Event()
        self.release = threading.Event()
        self.running = 0
        self.most_at_once = 0
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, cfg):
        with self._lock:
            self.calls += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.started.set()
        try:
            if not self.release.wait(WAIT_S):
                raise TimeoutError("test never released the gate")
            return tasks.TaskResult(pages=1)
        finally:
            with self._lock:
                self.running -= 1


# ---------------------------------------------------------------- web app


@pytest.fixture
def app(cfg):
    from webmap import create_app

    return create_app({"TESTING": True}, config=cfg)


@pytest.fixture
def world(cfg):
    """Two grids in two streets, a venue in the first, a hit at that venue; users of every role."""
    from tests.helpers import make_grid, make_hit, make_inspector, make_user, make_venue

    with db.session_scope(cfg) as s:
        st1 = make_grid(s, code="320508001", name="平江街道", level="street", bounds=(120.60, 31.30, 120.62, 31.32))
        st2 = make_grid(s, code="320508002", name="沧浪街道", level="street", bounds=(120.62, 31.30, 120.64, 31.32))
        own = make_grid(s, code="320508001001", name="平江一网格", parent=st1, bounds=(120.60, 31.30, 120.62, 31.32))
        other = make_grid(s, code="320508002001", name="沧浪一网格", parent=st2, bounds=(120.62, 31.30, 120.64, 31.32))
        venue = make_venue(s, grid=own, name="平江路某歌舞厅", category="歌舞娱乐", lon=120.61, lat=31.31)
        for username, role, grids in (
            ("admin", "admin", []),
            ("patrol", "patrol", []),
            ("gm_own", "grid_manager", [own]),
            ("gm_other", "grid_manager", [other]),
        ):
            make_user(s, username, role=role, password=PASSWORD, grids=grids)
        hits = [
            # No grid: confirming one routes it by its location (the grid around its point).
            make_hit(s, None, venue if n == 0 else None, title, 120.61, 31.31, text=title, source="wechat-demo")
            for n, title in enumerate(["平江路低价港澳游 无需资质", "盗版教辅 低价批发"])
        ]
        for n in range(3):
            make_inspector(s, name=f"执法员{n}", badge_no=f"3205080{n:02d}")
        return {"own": own.id, "other": other.id, "venue": venue.id, "hit": hits[0].id, "hit2": hits[1].id}


PASSWORD = "secret-pass"


def logged_in(app, username):
    """A test client logged in through the real form; `.csrf` holds the token for API calls."""
    from tests.webmap.conftest import csrf_from, login

    client = app.test_client()
    resp = login(client, username, PASSWORD)
    assert resp.status_code in (302, 303), f"login of {username} failed"
    client.csrf = csrf_from(client.get("/clues").text)
    return client
