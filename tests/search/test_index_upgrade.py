"""An index built before search.documents.INDEX_VERSION 2 (no reasons column): searches keep working
and say the index is old, new hits wait in the outbox with one line asking for `wangxun reindex`, and
the reindex brings the index up to date (the concept 盗版 then finds a hit whose seller wrote 高仿)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import search
from core import db
from search import outbox
from search.analysis import index_terms, normalize
from search.backends import sqlite_sql
from tests.conftest import PROJECT_ROOT
from tests.helpers import make_hit

PIRACY = {"label": "illegal_publication", "code": "piracy_terms", "text": "盗版/高仿：「高仿」", "field": "text"}


def _old_index_with(cfg, hit_id: int, title: str, text: str) -> None:
    """The tables as migration 0003 made them, holding one hit as the version before indexed it."""
    conn = db.raw_connection(cfg)
    try:
        for t in ("search_fts", "search_fts_docs", "search_fts_meta"):
            conn.execute(f"DROP TABLE IF EXISTS {t}")
        conn.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, account, tags, content='', "
            "tokenize='unicode61 remove_diacritics 0')"
        )
        conn.execute(
            "CREATE TABLE search_fts_docs (rowid INTEGER PRIMARY KEY, title TEXT, body TEXT, account TEXT, tags TEXT)"
        )
        conn.execute(
            "CREATE TABLE search_fts_meta (rowid INTEGER PRIMARY KEY, platform TEXT, source TEXT, status TEXT, "
            "grid_id INTEGER, score REAL, day TEXT, labels TEXT)"
        )
        tags = sqlite_sql.doc_tags(
            {"platform": "shop", "source": "测试来源", "status": "new", "labels": ["illegal_publication"]}
        )
        conn.execute(
            "INSERT INTO search_fts_docs VALUES (?,?,?,?,?)", (hit_id, normalize(title), normalize(text), "", tags)
        )
        conn.execute(
            "INSERT INTO search_fts(rowid, title, body, account, tags) VALUES (?,?,?,?,?)",
            (hit_id, index_terms(title), index_terms(text), "", tags),
        )
        conn.execute(
            "INSERT INTO search_fts_meta VALUES (?,?,?,?,?,?,?,?)",
            (hit_id, "shop", "测试来源", "new", None, 0.8, "2026-03-01", "illegal_publication"),
        )
        conn.execute("DELETE FROM search_outbox")
        conn.commit()
    finally:
        conn.close()


def _wangxun(cfg, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGXUN_")}
    env["WANGXUN_CORE__DATA_DIR"] = str(cfg.data_dir)
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.sqlite_only(
    "the old index is the embedded backend's FTS5 tables of INDEX_VERSION 1; the postgres backend never had "
    "another version (its version check: tests/search/test_postgres_backend.py)"
)
def test_an_old_index_keeps_answering_asks_for_a_reindex_and_the_reindex_updates_it(cfg):
    with db.session_scope(cfg) as s:
        old = make_hit(s, title="高仿精装名著", text="高仿，38元包邮", label="illegal_publication", reasons=[PIRACY]).id
    _old_index_with(cfg, old, "高仿精装名著", "高仿，38元包邮")

    r = search.search(cfg, "高仿")
    assert [h.id for h in r.hits] == [old] and "wangxun reindex" in str(r.notice)  # still searchable, and says so
    assert search.search(cfg, "盗版").hits == []  # the old index has no reasons

    with db.session_scope(cfg) as s:
        new = make_hit(s, title="盗版教辅", text="影印", label="illegal_publication").id
    drained = _wangxun(cfg, "reindex", "--drain-only")
    assert drained.returncode != 0 and "Traceback" not in drained.stderr
    [line] = drained.stderr.strip().splitlines()
    assert "wangxun reindex" in line
    assert outbox.status(cfg).waiting == 1 and "wangxun reindex" in outbox.status(cfg).last_error

    rebuilt = _wangxun(cfg, "reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert outbox.pending(cfg) == 0
    r = search.search(cfg, "盗版")
    assert sorted(h.id for h in r.hits) == [old, new] and r.notice is None
