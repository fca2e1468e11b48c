"""The postgres search backend's own behaviour, live on a throwaway PostgreSQL server (tests/pg.py): the
tsvector holds exactly the shared analysis' tokens, a reindex builds beside the live table while
searches keep answering and the outbox waits, a dead reindex never holds up indexing, an index of
another version asks for a reindex, and the backend refuses SQLite in one line. The shared search
cases run on it in test_backends.py."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text

import search
from core import config, db
from core.errors import ConfigError, UserError
from search import outbox
from search.analysis import index_terms
from search.backends import postgres_sql
from search.backends.base import IndexUnavailable
from search.backends.postgres_fts import VERSION
from search.documents import iter_all_docs
from tests.conftest import PROJECT_ROOT, make_config
from tests.helpers import make_hit

MIXED = (
    "盜版書籍ＱＱ群88776655，VIP私人定制游 café Straße 5A级景区 ١٢٣ 〇一二 ㄅㄆ 𠀀𠀁 Ǆ ⅱ "
    "tel:+86-512 a_b x.y 1e5 0x1f <b>粗体</b> &amp; 한국어 ﾊﾝｶｸ ｱｲｳ"
)


def _wangxun(cfg, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGXUN_")}
    env.update(
        {
            "WANGXUN_CORE__DATA_DIR": str(cfg.data_dir),
            "WANGXUN_CORE__DATABASE_URL": cfg.database_url,
            "WANGXUN_SEARCH__BACKEND": cfg.search.backend,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _ids(cfg, q: str) -> list[int]:
    return sorted(h.id for h in search.search(cfg, q).hits)


def test_the_tsvector_holds_exactly_the_analysis_tokens(pg_cfg):
    """to_tsvector('simple', …) of the analysed stream keeps every token, unchanged, at its place: the
    server's parser splits nothing further, drops nothing and folds nothing (whatever the script)."""
    stream = index_terms(MIXED)
    tokens = stream.split()
    with db.get_engine(pg_cfg).connect() as conn:
        rows = conn.execute(
            text("SELECT lexeme, positions FROM unnest(to_tsvector('simple', :t))"), {"t": stream}
        ).all()
    got = {lexeme: sorted(positions) for lexeme, positions in rows}
    want: dict[str, list[int]] = {}
    for n, token in enumerate(tokens, 1):
        want.setdefault(token, []).append(n)
    assert got == want


def test_a_reindex_builds_beside_the_live_index_while_searches_answer_and_the_outbox_waits(pg_cfg):
    cfg = pg_cfg
    with db.session_scope(cfg) as s:
        first = [make_hit(s, title=f"盗版教材{n}", text="影印", label="illegal_publication").id for n in range(3)]
    assert outbox.drain(cfg) == 3
    backend = search.get_backend(cfg)
    seen: dict[str, object] = {}

    def during_the_build(n: int) -> None:
        if seen:
            return
        seen["search"] = _ids(cfg, "盗版")  # the live table answers while the new one is loaded
        with db.session_scope(cfg) as s:
            seen["new"] = make_hit(s, title="新到盗版光盘", text="盗版", label="illegal_publication").id
        seen["drain"] = outbox.drain_report(cfg)
        with pytest.raises(UserError, match="a reindex is already running") as refused:
            backend.rebuild([], 0, lambda n: None)
        seen["refused"] = str(refused.value)

    with db.session_scope(cfg) as s:
        assert backend.rebuild(iter_all_docs(s, tz=cfg.core.timezone), 3, during_the_build) == 3
    assert seen["search"] == first
    report = seen["drain"]
    assert report.indexed == 0 and report.left_behind == 1 and "pid" in report.blocked_by
    assert str(os.getpid()) in seen["refused"]
    assert backend.rebuild_holder() is None and outbox.pending(cfg) == 1
    assert outbox.drain(cfg) == 1
    assert _ids(cfg, "盗版") == sorted([*first, seen["new"]]) and backend.count() == 4


def test_a_dead_reindexs_build_table_does_not_hold_up_indexing(pg_cfg):
    with db.session_scope(pg_cfg) as s:
        hit = make_hit(s, title="盗版书籍", text="影印").id
    with db.get_engine(pg_cfg).begin() as conn:  # left behind by a reindex killed mid-way (no lock holder)
        for statement in postgres_sql.create_sql(postgres_sql.BUILD):
            conn.execute(text(statement))
    assert search.get_backend(pg_cfg).rebuild_holder() is None
    assert outbox.drain(pg_cfg) == 1 and _ids(pg_cfg, "盗版") == [hit]
    with db.get_engine(pg_cfg).connect() as conn:
        assert conn.execute(text("SELECT to_regclass(:t)"), {"t": postgres_sql.BUILD}).scalar() is None


def test_wangxun_reindex_rebuilds_and_an_index_of_another_version_asks_for_it(pg_cfg):
    with db.session_scope(pg_cfg) as s:
        old = make_hit(s, title="港澳跟团游", text="纯玩").id
    assert outbox.drain(pg_cfg) == 1
    with db.get_engine(pg_cfg).begin() as conn:  # as a later version would find this one
        conn.execute(text(f"COMMENT ON TABLE {postgres_sql.TABLE} IS 'wangxun search index: index_version=1'"))
    with db.session_scope(pg_cfg) as s:
        new = make_hit(s, title="港澳包机", text="跟团").id
    report = outbox.drain_report(pg_cfg)
    assert not report.ok and "wangxun reindex" in report.error
    answer = search.search(pg_cfg, "港澳")  # the old index keeps answering, and says it is old
    assert [h.id for h in answer.hits] == [old] and "wangxun reindex" in str(answer.notice)
    done = _wangxun(pg_cfg, "reindex")
    assert done.returncode == 0, done.stderr
    assert "reindexed 2 hit(s) with the postgres backend" in done.stdout
    assert _ids(pg_cfg, "港澳") == [old, new] and outbox.pending(pg_cfg) == 0
    with db.get_engine(pg_cfg).connect() as conn:
        comment = conn.execute(text(f"SELECT obj_description('{postgres_sql.TABLE}'::regclass, 'pg_class')")).scalar()
    assert comment == VERSION


def test_the_backend_needs_postgresql_and_says_so_in_one_line(tmp_path):
    cfg = make_config(tmp_path, **{"search.backend": "postgres"})
    db.upgrade(cfg)
    with pytest.raises(ConfigError, match='backend = "postgres" needs a PostgreSQL database'):
        search.get_backend(cfg)
    proc = _wangxun(cfg, "search", "盗版")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert "needs a PostgreSQL database" in line
    db.dispose(cfg)


def test_a_server_that_went_away_is_index_unavailable_and_hits_wait(pg_cfg, pg_databases):
    with db.session_scope(pg_cfg) as s:
        make_hit(s, title="盗版书籍", text="影印")
    backend = search.get_backend(pg_cfg)
    pg_databases.drop(pg_cfg.database_url)  # the database is gone (as a server that went down)
    with pytest.raises(IndexUnavailable, match="PostgreSQL search"):
        backend.ensure_ready()


def test_the_newest_matches_are_walked_bucket_by_bucket_in_id_order(pg_cfg, monkeypatch):
    """Buckets of 2 ids, looked at 1 then 2 at a time, then the rest of the table: pages by time, the
    facets' window and relevance's window still see exactly the newest matches, in order."""
    monkeypatch.setattr(postgres_sql, "BUCKET", 2)
    monkeypatch.setattr(postgres_sql, "BUCKET_STEPS", (1, 2))
    with db.session_scope(pg_cfg) as s:
        ids = [
            make_hit(
                s, title=f"盗版教材{n}" if n % 3 else f"正版教材{n}", text="影印", platform="shop" if n % 2 else "web"
            ).id
            for n in range(17)
        ]
    assert search.reindex(pg_cfg, progress_bar=False) == 17
    piracy = [i for n, i in enumerate(ids) if n % 3]
    newest_first = sorted(piracy, reverse=True)
    paged = [h.id for p in (1, 2, 3) for h in search.search(pg_cfg, "盗版", sort="time", per_page=4, page=p).hits]
    assert paged == newest_first[:12]
    assert search.search(pg_cfg, "盗版 platform:shop", sort="time").total == sum(
        1 for n in range(17) if n % 3 and n % 2
    )
    small = config.with_overrides(pg_cfg, {"search.rank_window": 3})  # neither walk sees every match: counted
    assert search.search(small, "盗版", sort="time", per_page=2, facets=False).total == len(piracy)
    assert search.search(small, "盗版", sort="time", per_page=2).total == len(piracy)
    capped = search.search(config.with_overrides(pg_cfg, {"search.track_total_hits": 7}), "盗版", per_page=2)
    assert capped.total == 7 and not capped.total_is_exact  # counted bucket by bucket up to the cap
    cfg = config.with_overrides(pg_cfg, {"search.rank_window": 5})
    r = search.search(cfg, "盗版", sort="relevance", per_page=20)
    assert r.total == len(piracy) and sorted(h.id for h in r.hits) == sorted(newest_first[:5])  # the window
    shop = sum(1 for n, i in enumerate(ids) if n % 3 and n % 2 and i in newest_first[:5])
    assert dict((f["value"], f["count"]) for f in r.facets["platform"]).get("shop", 0) == shop
