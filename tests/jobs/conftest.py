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
