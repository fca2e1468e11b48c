"""kill -9 of the scheduler while its crawl runs: the crawl child dies with it (no orphan keeps
crawling beside the next scheduler's crawl), its journal stays open, and the next crawl resumes it
and finishes with every page stored once. Real scheduler, real crawl, the sample site on 127.0.0.1."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from core import db
from core.models import Page
from jobs import control
from samplesite import start
from tests.conftest import PROJECT_ROOT
from tests.e2e.crawl_helpers import crawl_env, e2e_config, journal_path, read_journal, run_crawl

pytestmark = pytest.mark.e2e
SOURCE = "wechat_e2e"


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]
    except FileNotFoundError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _wait(predicate, what: str, polls: int = 1200):
    for _ in range(polls):  # bounded: a minute at 50 ms
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


def test_a_killed_scheduler_takes_its_crawl_with_it_and_the_next_crawl_resumes(tmp_path):
    # Slow enough that the kill finds the crawl midway: an orphan left running would finish the crawl
    # (and close its journal) within seconds, which the open-journal check below would catch.
    with start(latency_ms=300) as site:
        env = crawl_env(tmp_path, site.url, WANGXUN_JOBS__WAKEUP_SECONDS="0.2", WANGXUN_JOBS__CRAWL_CRON="0 3 * * *")
        cfg = e2e_config(tmp_path, site.url)
        db.upgrade(cfg)
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "jobs"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            _wait(lambda: any(j.id == f"crawl:{SOURCE}" for j in control.list_jobs(cfg)), "the stored crawl job")
            control.run_now(cfg, f"crawl:{SOURCE}")
            crawl_pid = _wait(lambda: next(iter(_children(scheduler.pid)), None), "the crawl child")
            journal = journal_path(tmp_path, SOURCE)
            _wait(lambda: len(read_journal(journal).done) >= 3, "the crawl's first stored pages")
            scheduler.send_signal(signal.SIGKILL)
            scheduler.wait(timeout=60)
            _wait(lambda: not _alive(crawl_pid), "the orphaned crawl to stop")
        finally:
            if scheduler.poll() is None:
                scheduler.kill()
            scheduler.wait(timeout=60)
        assert read_journal(journal).open, "the crawl was stopped midway, its journal still open"
        site.state.latency_ms = 0
        code, summary, err = run_crawl(SOURCE, env)
    assert code == 0, err[-3000:]
    assert summary["resumed"] is True and summary["state"] == "finished"
    with db.session_scope(cfg) as s:
        pages = Counter(s.scalars(select(Page.url).where(Page.source == SOURCE)))
    assert pages and max(pages.values()) == 1
    db.dispose(cfg)
