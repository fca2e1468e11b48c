"""Nothing is lost when the index is down: hits wait in the outbox and are indexed later."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import select

import search
from core import db
from core.models import Hit, SearchOutbox
from hits.lifecycle import delete_hit
from search import outbox
from search.backends.sqlite_fts import BuildLock
from tests.conftest import make_config
from tests.helpers import make_hit


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: connections are refused at once
    return port


def _add_hit(cfg, title="盗版书籍", text="影印教材") -> int:
    with db.session_scope(cfg) as s:
        return make_hit(s, title=title, text=text, label="illegal_publication", platform="shop", score=0.8).id


def test_cluster_down_keeps_hits_waiting_with_the_error(tmp_path):
    down = make_config(
        tmp_path,
        **{
            "search.backend": "elasticsearch",
            "search.es_url": f"http://127.0.0.1:{_closed_port()}",
            "search.es_max_retries": 0,
            "search.es_request_timeout_s": 2,
        },
    )
    db.upgrade(down)
    hit_id = _add_hit(down)
    assert outbox.drain(down) == 0
    assert outbox.drain(down) == 0
    with db.session_scope(down) as s:
        rows = s.scalars(select(SearchOutbox)).all()
    assert rows and {r.hit_id for r in rows} == {hit_id}
    assert all(r.attempts == 2 and "Elasticsearch" in r.last_error for r in rows)
    # the index is back (here: the embedded backend on the same database): everything goes in
    up = make_config(tmp_path, **{"search.backend": "embedded"})
    assert outbox.drain(up) == 1
    assert outbox.pending(up) == 0
    assert [h.id for h in search.search(up, "盗版").hits] == [hit_id]
    db.dispose(down)


def test_deleted_hits_leave_the_index(cfg):
    hit_id = _add_hit(cfg)
    outbox.drain(cfg)
    with db.session_scope(cfg) as s:
        delete_hit(s, s.get(Hit, hit_id))
    assert outbox.drain(cfg) == 1
    assert search.search(cfg, "盗版").total == 0
    assert search.get_backend(cfg).count() == 0


@pytest.mark.sqlite_only("the embedded backend's build tables and file lock; postgres: test_postgres_backend.py")
def test_drain_waits_while_a_reindex_builds(cfg):
    _add_hit(cfg)
    conn = db.raw_connection(cfg)
    # Raw on purpose: a reindex under way in another process, seen as the table rebuild() creates first
    # and the lock its builder holds for the whole rebuild.
    conn.execute("CREATE TABLE search_fts_build (x)")
    conn.commit()
    builder = BuildLock(cfg)
    assert builder.try_take()
    assert outbox.drain(cfg) == 0 and outbox.pending(cfg) > 0
    builder.release()
    conn.execute("DROP TABLE search_fts_build")
    conn.commit()
    conn.close()
    assert outbox.drain(cfg) == 1


@pytest.mark.sqlite_only("the embedded backend's build tables and file lock; postgres: test_postgres_backend.py")
def test_a_dead_reindexs_tables_do_not_hold_up_indexing(cfg):
    """Build tables with no live builder (a reindex killed mid-way) are dropped by the next drain."""
    _add_hit(cfg)
    conn = db.raw_connection(cfg)
    conn.execute("CREATE TABLE search_fts_build (x)")  # left by a reindex that was killed
    conn.commit()
    conn.close()
    assert outbox.drain(cfg) == 1 and outbox.pending(cfg) == 0
    conn = db.raw_connection(cfg)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'search_fts_build'").fetchone()[0] == 0
    conn.close()


def test_hits_found_during_a_drain_are_the_next_drains_work_not_a_failure(cfg, monkeypatch):
    """A crawl adding a hit while `reindex --drain-only` drains must not make it report a failure."""
    _add_hit(cfg)
    real_apply = outbox._apply

    def apply_while_a_crawl_adds_a_hit(*args):
        _add_hit(cfg, title="新到盗版光盘")
        return real_apply(*args)

    monkeypatch.setattr(outbox, "_apply", apply_while_a_crawl_adds_a_hit)
    report = outbox.drain_report(cfg)
    assert report.ok and report.indexed == 1 and report.left_behind == 0
    assert outbox.pending(cfg) == 1  # the new one waits for the next drain


def test_the_alerts_job_fails_and_says_so_when_the_index_is_behind(tmp_path):
    from jobs.tasks import TaskFailed, check_alerts

    down = make_config(
        tmp_path,
        **{
            "search.backend": "elasticsearch",
            "search.es_url": f"http://127.0.0.1:{_closed_port()}",
            "search.es_max_retries": 0,
            "search.es_request_timeout_s": 2,
        },
    )
    db.upgrade(down)
    _add_hit(down)
    with pytest.raises(TaskFailed, match="index behind: 1 hit\\(s\\) not yet searchable") as failed:
        check_alerts(down)
    assert "Elasticsearch" in failed.value.result.detail["index_behind"]
    db.dispose(down)
