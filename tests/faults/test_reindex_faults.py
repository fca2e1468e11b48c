"""kill -9 during `wangxun reindex`: of the reindex itself, or of one of its analysis workers. The
reindex never hangs (a dead worker fails it with one line), a dead reindex never blocks indexing
(its half-built tables are dropped by the next drain), nothing is lost, and the next reindex works.

Waits poll state with generous bounds; the kill lands while the build tables exist."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import search
from core import db
from core.models import utcnow
from hits.lifecycle import insert_hit
from search import outbox
from tests.conftest import PROJECT_ROOT, make_config

HITS = 30_000  # enough for a rebuild to last a few seconds on this machine


@pytest.fixture
def many(tmp_path):
    """A database with HITS hits, all queued for the index (as the page store would leave them)."""
    cfg = make_config(tmp_path, **{"search.bulk_size": 500, "search.reindex_workers": 2})
    db.upgrade(cfg)
    now = utcnow()
    with db.statement_scope(cfg) as conn:
        for n in range(HITS):
            insert_hit(conn, _row(n, now))
    outbox.drain(cfg)
    yield cfg
    db.dispose(cfg)


def _row(n: int, now) -> dict:
    return {
        "page_id": None,
        "page_version_id": None,
        "url": f"https://example.invalid/{n}",
        "source": "src",
        "platform": "shop",
        "title": f"盗版教材第{n}号",
        "text": "全套影印，纸张略薄，低价出，" * 8,
        "account": f"店{n % 50}",
        "labels": ["illegal_publication"],
        "scores": {"illegal_publication": 0.8},
        "score": 0.8,
        "reasons": [],
        "location_name": None,
        "lon": None,
        "lat": None,
        "grid_id": None,
        "venue_id": None,
        "published_at": None,
        "status": "new",
        "detected_at": now,
        "updated_at": now,
    }


def _start_reindex(cfg) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGXUN_")}
    env.update(
        {
            "WANGXUN_CORE__DATA_DIR": str(cfg.data_dir),
            "WANGXUN_SEARCH__BULK_SIZE": "500",
            "WANGXUN_SEARCH__REINDEX_WORKERS": "2",
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "core.cli", "reindex"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _building(cfg) -> bool:
    path = cfg.database_url.split("///", 1)[1]
    conn = sqlite3.connect(path, timeout=30)
    try:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_fts_build'").fetchone() is not None
    finally:
        conn.close()


def _wait_until_building(cfg, proc) -> None:
    for _ in range(1200):  # bounded: up to a minute
        if proc.poll() is not None:
            pytest.fail("the reindex ended before it could be interrupted: " + proc.stderr.read()[-2000:])
        if _building(cfg):
            return
        time.sleep(0.05)
    pytest.fail("the reindex never started building")


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its (dead) parent's reaper."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def test_a_killed_reindex_blocks_nothing_and_the_next_one_works(many):
    cfg = many
    proc = _start_reindex(cfg)
    _wait_until_building(cfg, proc)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert _building(cfg)  # what the kill left behind
    # Its analysis workers die with it (PR_SET_PDEATHSIG); until they have, they hold its lock.
    for _ in range(600):  # bounded: up to a minute
        if not any(Path(f"/proc/{pid}").exists() and _alive(pid) for pid in workers):
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the killed reindex's workers {workers} outlived it")
    with db.session_scope(cfg) as s:  # a hit found after the kill is indexed by the next drain
        insert_hit(s.connection(), _row(HITS + 1, utcnow()))
    report = outbox.drain_report(cfg)
    assert report.ok and report.indexed == 1 and not _building(cfg)
    assert search.get_backend(cfg).count() == HITS + 1
    again = _start_reindex(cfg)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert search.get_backend(cfg).count() == HITS + 1 and outbox.pending(cfg) == 0


def test_a_killed_analysis_worker_fails_the_reindex_in_one_line(many):
    cfg = many
    proc = _start_reindex(cfg)
    _wait_until_building(cfg, proc)
    workers = []
    for _ in range(1200):  # the pool starts its workers with the first batches: wait for them
        workers = _children(proc.pid)
        if workers or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert workers, "the reindex runs its analysis in worker processes"
    os.kill(workers[0], signal.SIGKILL)
    out, err = proc.communicate(timeout=120)  # bounded: it must not hang
    assert proc.returncode != 0
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "analysis worker process died" in err
    assert not _building(cfg)  # cleaned up, nothing for the outbox to wait on
    assert search.get_backend(cfg).count() == HITS  # the live index is untouched
    again = _start_reindex(cfg)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err


def test_a_second_reindex_while_one_runs_says_who_runs(many):
    cfg = many
    first = _start_reindex(cfg)
    _wait_until_building(cfg, first)
    second = _start_reindex(cfg)
    _, err = second.communicate(timeout=120)
    assert second.returncode != 0 and "a reindex is already running (pid" in err and "Traceback" not in err
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
