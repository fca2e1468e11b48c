"""db.statement_scope: prebuilt Core statements run on SQLite's driver store exactly what Core stores,
and the transaction is all-or-nothing."""

import datetime as dt

import pytest
from sqlalchemy import bindparam, select

from core import db
from core.models import Evidence, Page, PageVersion

PAGES, VERSIONS = Page.__table__, PageVersion.__table__
PAGE_BY_URL = select(PAGES.c.id, PAGES.c.state).where(PAGES.c.url == bindparam("url"))
LATEST = select(VERSIONS.c.id, VERSIONS.c.title).order_by(VERSIONS.c.id.desc()).limit(1)
TOUCH = PAGES.update().where(PAGES.c.id == bindparam("page_id_"))
NOW = dt.datetime(2026, 12, 6, 8, 30, 15, 123456)


def _page(url: str) -> dict:
    return {"url": url, "source": "s", "platform": "wechat", "state": "ok", "first_seen": NOW, "last_seen": NOW}


def _version(page_id: int) -> dict:
    return {
        "page_id": page_id,
        "content_sha256": "a" * 64,
        "fetched_at": NOW,
        "state": "ok",
        "title": "标题",
        "account": None,
        "author": "作者",
        "published_at": None,
        "text": "正文\n第二行",
        "price": 1280.5,
        "seller_location": None,
        "extra": {"images": ["https://x/1.png"], "n": 1, "中文": [None, True]},
    }


def _store(conn, url: str) -> int:
    page_id = conn.execute(PAGES.insert(), _page(url)).inserted_primary_key[0]
    version_id = conn.execute(VERSIONS.insert(), _version(page_id)).inserted_primary_key[0]
    conn.execute(TOUCH, {"page_id_": page_id, "last_seen": NOW, "state": "ok", "latest_version_id": version_id})
    return page_id


@pytest.mark.sqlite_only("the driver path (StatementConnection) exists on SQLite only; PostgreSQL gets Core")
def test_sqlite_gets_the_driver_path_and_stores_what_core_stores(cfg):
    db.upgrade(cfg)
    with db.statement_scope(cfg) as conn:
        assert isinstance(conn, db.StatementConnection)
        fast_id = _store(conn, "https://a/fast")
    with db.get_engine(cfg).begin() as conn:
        core_id = _store(conn, "https://a/core")
    with db.session_scope(cfg) as session:
        fast, core = session.get(Page, fast_id), session.get(Page, core_id)
        assert (
            (fast.first_seen, fast.last_seen, fast.state)
            == (core.first_seen, core.last_seen, core.state)
            == (NOW, NOW, "ok")
        )
        fv, cv = session.get(PageVersion, fast.latest_version_id), session.get(PageVersion, core.latest_version_id)
        columns = [c.key for c in VERSIONS.columns if c.key not in ("id", "page_id")]
        assert {c: getattr(fv, c) for c in columns} == {c: getattr(cv, c) for c in columns}
        assert fv.extra == _version(0)["extra"] and fv.fetched_at == NOW
    with db.get_engine(cfg).connect() as raw:  # the stored text itself, not just what the ORM reads back
        rows = raw.exec_driver_sql("SELECT fetched_at, extra FROM page_versions ORDER BY id").fetchall()
    assert rows[0] == rows[1]


def test_reads_answer_scalar_and_first_with_column_names(cfg):
    db.upgrade(cfg)
    with db.statement_scope(cfg) as conn:
        page_id = _store(conn, "https://a/1")
        assert conn.execute(PAGE_BY_URL, {"url": "https://a/1"}).scalar() == page_id
        assert conn.execute(PAGE_BY_URL, {"url": "https://a/none"}).scalar() is None
        row = conn.execute(LATEST).first()  # its LIMIT is a value written into the statement
        assert (row.title, row[1]) == ("标题", "标题")
        assert conn.execute(LATEST.where(VERSIONS.c.id < 0)).first() is None


def test_an_error_rolls_the_whole_transaction_back(cfg):
    db.upgrade(cfg)
    with pytest.raises(RuntimeError), db.statement_scope(cfg) as conn:
        _store(conn, "https://a/lost")
        raise RuntimeError("crash after the writes")
    with db.statement_scope(cfg) as conn:
        assert conn.execute(PAGE_BY_URL, {"url": "https://a/lost"}).scalar() is None
        _store(conn, "https://a/kept")  # the pooled connection is usable again
    with db.session_scope(cfg) as session:
        assert [p.url for p in session.query(Page)] == ["https://a/kept"]


@pytest.mark.sqlite_only("a check of the driver path; Core (PostgreSQL's path) applies the defaults itself")
def test_missing_values_fail_loudly_instead_of_storing_nulls(cfg):
    db.upgrade(cfg)
    with db.statement_scope(cfg) as conn:
        with pytest.raises(ValueError, match="defaults"):  # Core would fill first_seen; this path does not
            conn.execute(PAGES.insert(), {"url": "https://a/2", "source": "s", "platform": "web", "state": "ok"})
        with pytest.raises(ValueError, match="page_id_"):
            conn.execute(TOUCH, {"last_seen": NOW, "state": "ok"})


def test_the_evidence_chain_appends_through_it(cfg):
    """The pipeline's evidence row goes through the same connection; the chain must read its head
    (on PostgreSQL through the advisory lock, inside the same transaction)."""
    from evidence import chain

    db.upgrade(cfg)
    with db.statement_scope(cfg) as conn:
        assert chain.read_head(conn) == {"seq": 0, "record_hash": chain.GENESIS_HASH}
        version_id = conn.execute(select(VERSIONS.c.id)).scalar()
        assert version_id is None
        page_id = _store(conn, "https://a/3")
        if db.is_sqlite(cfg):
            assert db.in_write_transaction(conn)  # so the chain skips its lock statement
        version_id = conn.execute(select(PAGES.c.latest_version_id).where(PAGES.c.id == page_id)).scalar()
        record = {
            "seq": 1,
            "page_version_id": version_id,
            "url": "https://a/3",
            "final_url": "https://a/3",
            "status": 200,
            "fetched_at_utc": NOW,
            "fetched_at_local": "2026-12-06T16:30:15+08:00",
            "files": {},
            "prev_hash": chain.GENESIS_HASH,
            "record_hash": "b" * 64,
        }
        conn.execute(Evidence.__table__.insert(), record)
        assert chain.lock_and_read_head(conn) == (1, "b" * 64)


def test_a_broken_constraint_raises_what_core_raises(cfg):
    """The page store retries a page another writer stored first by catching SQLAlchemy's
    IntegrityError; the driver path must raise that too, not sqlite3's own."""
    from sqlalchemy.exc import IntegrityError

    with db.statement_scope(cfg) as conn:
        _store(conn, "https://a/twice")
    with pytest.raises(IntegrityError, match="pages.url|pages_url"), db.statement_scope(cfg) as conn:
        _store(conn, "https://a/twice")
    with db.session_scope(cfg) as session:
        assert [p.url for p in session.query(Page)] == ["https://a/twice"]
