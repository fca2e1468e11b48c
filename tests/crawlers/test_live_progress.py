"""crawlers.live_progress: the progress file a running crawl writes for the demo and the jobs page."""

from __future__ import annotations

import datetime as dt

from crawlers import live_progress


def test_a_run_sees_its_own_crawls_progress_and_not_an_older_one(cfg):
    path = live_progress.progress_path(cfg, "shop")
    path.parent.mkdir(parents=True)
    assert live_progress.read(cfg, "shop") is None  # no crawl yet
    live_progress.write(path, source="shop", pages=7, hits=2, started_at="2026-12-06T08:00:05+00:00", state="running")
    assert live_progress.read(cfg, "shop")["pages"] == 7
    recorded_at = dt.datetime(2026, 12, 6, 8, 0, 4, 500000)  # the JobRun row, naive UTC, just before
    assert live_progress.since(cfg, "shop", recorded_at)["hits"] == 2
    assert live_progress.since(cfg, "shop", dt.datetime(2026, 12, 6, 9, 0)) is None  # an older crawl's file
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_a_broken_file_reads_as_no_progress(cfg):
    path = live_progress.progress_path(cfg, "shop")
    path.parent.mkdir(parents=True)
    path.write_text('{"pages": 3', encoding="utf-8")
    assert live_progress.read(cfg, "shop") is None
    path.write_text("[1, 2]", encoding="utf-8")
    assert live_progress.read(cfg, "shop") is None
