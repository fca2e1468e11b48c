"""Shared fixtures: a fresh config and database per test (flaskr's pattern), offline by default.

`cfg` is SQLite, except in the files and folders of BOTH_ENGINES (and tests marked `both_engines`),
where every test that uses it runs twice, `[sqlite]` and `[postgresql]`, the second on a throwaway
PostgreSQL server the suite starts itself (tests/pg.py). A test there that applies to one engine
only is marked `sqlite_only("why")`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from core import config, db
from tests import pg

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = TESTS_DIR.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Tests that run whole crawls (crawl subprocesses against the sample site) carry the `e2e` mark.
E2E_DIRS = (TESTS_DIR / "e2e",)
ENGINES = ("sqlite", "postgresql")
# Where every test using `cfg` (or `db_engine`) runs on both databases.
BOTH_ENGINES = (
    TESTS_DIR / "core",
    TESTS_DIR / "evidence",
    TESTS_DIR / "grids",
    TESTS_DIR / "hits",
    TESTS_DIR / "search",
)


def pytest_configure(config):
    config.addinivalue_line("markers", "both_engines: run this test's `cfg` on SQLite and on PostgreSQL")
    config.addinivalue_line("markers", "sqlite_only(reason): a test in a BOTH_ENGINES folder that fits SQLite only")


def pytest_generate_tests(metafunc):
    if "db_engine" not in metafunc.fixturenames or metafunc.definition.get_closest_marker("sqlite_only"):
        return
    path = metafunc.definition.path
    if metafunc.definition.get_closest_marker("both_engines") or any(path.is_relative_to(d) for d in BOTH_ENGINES):
        metafunc.parametrize("db_engine", ENGINES, indirect=True)


@pytest.hookimpl(tryfirst=True)  # before `-m` selection reads the marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        if any(item.path.is_relative_to(d) for d in E2E_DIRS):
            item.add_marker(pytest.mark.e2e)


def make_config(tmp_path: Path, **overrides):
    """A Config whose data (database, evidence, crawl state) lives under tmp_path."""
    base = {
        "core.data_dir": str(tmp_path / "var"),
        "core.database_url": "",
        # Never the user's real evidence key (~/.config/wangxun): tests make their own when they need one.
        "evidence.anchor_key_file": str(tmp_path / "keys" / "evidence-anchor.key"),
    }
    base.update(overrides)
    return config.load(
        overrides=base, environ={k: v for k, v in os.environ.items() if not k.startswith("WANGXUN_") or "__" not in k}
    )


@pytest.fixture
def db_engine(request):
    """ "sqlite" or "postgresql": which database `cfg` opens (see pytest_generate_tests)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def pg_databases(tmp_path_factory):
    """Databases on a PostgreSQL server of this test process's own (or on WANGXUN_TEST_POSTGRES_URL's),
    started on first use and stopped and removed at the end of the session, failures or not."""
    if pg.disabled():
        pytest.skip(f"{pg.SWITCH_ENV}=off: PostgreSQL tests are not run")
    server = None
    url = os.environ.get(pg.URL_ENV, "")
    try:
        if not url:
            server = pg.Server()
            url = server.start().url
    except pg.Unavailable as exc:
        pytest.fail(f"{exc} (or set {pg.SWITCH_ENV}=off to leave PostgreSQL out)", pytrace=False)
    except BaseException:
        server.stop()
        raise
    work = tmp_path_factory.mktemp("pg-template")

    def migrate(url):
        c = make_config(work, **{"core.database_url": url})
        db.upgrade(c)
        db.dispose(c)

    databases = pg.Databases(url, migrate)
    try:
        yield databases
    finally:
        try:
            databases.close()
        finally:
            if server is not None:
                server.stop()


@pytest.fixture
def database_url(request, db_engine, tmp_path):
    """A factory of databases on this test's engine, migrated or (migrated=False) empty: on SQLite a
    new file in tmp_path/var, on PostgreSQL a new database dropped when the test ends."""
    made = []

    def make(migrated: bool = True) -> str:
        if db_engine == "sqlite":
            made.append(None)
            url = f"sqlite:///{tmp_path / 'var' / f'wangxun-{len(made)}.db'}"
            if migrated:
                c = make_config(tmp_path, **{"core.database_url": url})
                db.upgrade(c)
                db.dispose(c)
            return url
        url = request.getfixturevalue("pg_databases").create(migrated=migrated)
        made.append(url)
        return url

    yield make
    for url in filter(None, made):
        db.dispose(make_config(tmp_path, **{"core.database_url": url}))
        request.getfixturevalue("pg_databases").drop(url)


@pytest.fixture
def cfg(tmp_path, db_engine, database_url):
    """Config with an empty, fully migrated database: SQLite in tmp_path (the default URL) with the
    embedded search backend, or a fresh PostgreSQL database with the postgres search backend."""
    if db_engine == "sqlite":
        c = make_config(tmp_path)
        db.upgrade(c)
    else:
        # PostgreSQL's own search backend, as a city deployment without a search cluster runs it.
        c = make_config(tmp_path, **{"core.database_url": database_url(), "search.backend": "postgres"})
    yield c
    db.dispose(c)


@pytest.fixture
def pg_cfg(tmp_path, pg_databases):
    """Config on a fresh, migrated PostgreSQL database, for tests of PostgreSQL's own behaviour."""
    url = pg_databases.create()
    c = make_config(tmp_path, **{"core.database_url": url, "evidence.write_pdf": False, "search.backend": "postgres"})
    yield c
    db.dispose(c)
    pg_databases.drop(url)


@pytest.fixture
def session(cfg):
    with db.session_scope(cfg) as s:
        yield s
