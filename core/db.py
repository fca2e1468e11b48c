"""The one place that opens the database: engines, sessions and schema upgrades.

SQLite is the default (WAL, foreign keys on, a busy timeout so the crawler, the scheduler and the web
app can share one file). Any SQLAlchemy URL works, PostgreSQL included; nothing else in the project
builds an engine or calls sqlite3.connect.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_engines: dict[str, Engine] = {}
_factories: dict[Engine, sessionmaker] = {}
_lock = threading.Lock()


def get_engine(cfg: Config) -> Engine:
    """One engine per database URL per process (engines hold the connection pool)."""
    url = cfg.database_url
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _make_engine(url, cfg)
            _engines[url] = engine
        return engine


def session_factory(cfg: Config) -> sessionmaker[Session]:
    engine = get_engine(cfg)
    factory = _factories.get(engine)
    if factory is None:  # one per engine: building a sessionmaker per transaction showed in profiles
        factory = _factories[engine] = sessionmaker(bind=engine, expire_on_commit=False)
    return factory


@contextlib.contextmanager
def connection_scope(cfg: Config) -> Iterator[Connection]:
    """A Core connection in one transaction: committed when the block ends, rolled back on any error.
    For hot paths (the crawl pipeline) where the ORM's unit of work costs more than the statements."""
    with get_engine(cfg).begin() as conn:
        yield conn


@contextlib.contextmanager
def session_scope(cfg: Config) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back on any error (all-or-nothing)."""
    session = session_factory(cfg)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def raw_connection(cfg: Config):
    """A DB-API connection from the pool, for code that needs the driver itself (SQLite FTS5).

    Close it when done; it goes back to the pool."""
    return get_engine(cfg).raw_connection()


def is_sqlite(cfg: Config) -> bool:
    return get_engine(cfg).dialect.name == "sqlite"


def upgrade(cfg: Config, revision: str = "head") -> None:
    """Create the schema or bring an existing database up to `revision` without touching its rows."""
    from alembic import command

    command.upgrade(_alembic_config(cfg), revision)


def current_revision(cfg: Config) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with get_engine(cfg).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def table_names(cfg: Config) -> list[str]:
    return inspect(get_engine(cfg)).get_table_names()


def dispose(cfg: Config | None = None) -> None:
    """Close pooled connections (tests, and before a process forks a crawler)."""
    with _lock:
        urls = [cfg.database_url] if cfg is not None else list(_engines)
        for url in urls:
            engine = _engines.pop(url, None)
            if engine is not None:
                _factories.pop(engine, None)
                engine.dispose()


def _alembic_config(cfg: Config):
    from alembic.config import Config as AlembicConfig

    acfg = AlembicConfig()
    acfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not as a URL string: alembic's ini interpolation would mangle '%'.
    acfg.attributes["engine"] = get_engine(cfg)
    return acfg


def _make_engine(url: str, cfg: Config) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": float(cfg.core.sqlite_busy_timeout_s),
                                                  "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
