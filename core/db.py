"""The one place that opens the database: engines, sessions and schema upgrades.

SQLite is the default (WAL, foreign keys on, a busy timeout so the crawler, the scheduler and the web
app can share one file). Any SQLAlchemy URL works, PostgreSQL included; nothing else in the project
builds an engine or calls sqlite3.connect.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, false, inspect, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
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
def statement_scope(cfg: Config) -> Iterator[Connection | StatementConnection]:
    """One transaction for a few prebuilt Core statements: committed when the block ends, rolled
    back on any error. For hot paths (the crawl pipeline stores every page this way) where the ORM's
    unit of work, and even Core's execution machinery, cost more than the statements themselves.

    On SQLite it yields a StatementConnection, which runs the statements straight on the driver; on
    other databases a Core Connection. Both answer `execute(statement, params)` with `scalar()`,
    `first()` and `inserted_primary_key`, which is all such code may use."""
    engine = get_engine(cfg)
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    pooled = engine.raw_connection()
    driver = pooled.driver_connection
    try:
        yield StatementConnection(engine.dialect, driver)
        driver.commit()
    except BaseException:
        driver.rollback()
        raise
    finally:
        pooled.close()  # back to the pool


def in_write_transaction(conn: Connection | StatementConnection) -> bool:
    """True when a SQLite connection has written in its current transaction, so it already holds
    the database's single write lock (the driver begins a transaction only before a write)."""
    driver = conn.driver if isinstance(conn, StatementConnection) else conn.connection.dbapi_connection
    return bool(getattr(driver, "in_transaction", False))


class StatementConnection:
    """Core statements executed on a SQLite driver connection, compiled once per statement and set
    of parameter names. In the crawl pipeline Core's per-execution work (execution context, result
    wrapping) took about 50 µs a statement against 8 µs for the driver's own execute.

    Values still go through each column type's bind processor, so dates and JSON are stored exactly
    as Core would store them, and driver errors are raised as Core raises them (IntegrityError…).
    Python-side column defaults are not applied: an INSERT must name every column that has one, or
    compiling it fails. Statements are cached by identity, so build them once (module constants); one
    built per call is compiled per call."""

    _compiled: dict[tuple, tuple[str, tuple[str, ...], dict, type | None, dict]] = {}

    def __init__(self, dialect, driver):
        self.dialect = dialect
        self.driver = driver

    def execute(self, statement, params: dict | None = None) -> _StatementResult:
        params = params or {}
        sql, names, processors, row_type, fixed = self._compile(statement, params)
        values = []
        for name in names:
            value = params[name] if name in params else fixed[name]
            process = processors.get(name)
            values.append(process(value) if process is not None and value is not None else value)
        try:
            cursor = self.driver.execute(sql, values)
        except self.dialect.loaded_dbapi.Error as exc:
            # Raised as Core raises it (sqlalchemy.exc.IntegrityError for a broken unique constraint…):
            # callers catch one set of exceptions whichever path ran the statement.
            raise DBAPIError.instance(sql, values, exc, self.dialect.loaded_dbapi.Error, dialect=self.dialect) from exc
        return _StatementResult(cursor, row_type)

    def _compile(self, statement, params: dict):
        key = (statement, tuple(sorted(params)))
        found = self._compiled.get(key)
        if found is None:
            compiled = statement.compile(dialect=self.dialect, column_keys=list(key[1]))
            defaults = [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
            if defaults:
                raise ValueError(f"StatementConnection applies no Python-side defaults; pass {defaults}")
            names = tuple(compiled.positiontup or ())
            # Values written into the statement itself (a LIMIT, a literal in a WHERE).
            fixed = {n: b.effective_value for n, b in compiled.binds.items() if not b.required and n not in params}
            missing = [n for n in names if n not in params and n not in fixed]
            if missing:
                raise ValueError(f"statement needs parameters {missing}")
            processors = {}
            for name in names:
                process = compiled.binds[name].type.dialect_impl(self.dialect).bind_processor(self.dialect)
                if process is not None:
                    processors[name] = process
            columns = [c.key for c in getattr(statement, "selected_columns", ())]
            row_type = collections.namedtuple("Row", columns, rename=True) if columns else None
            if len(self._compiled) >= 256:  # meant for prebuilt statements; one built per call must not pile up
                self._compiled.clear()
            found = self._compiled[key] = (compiled.string, names, processors, row_type, fixed)
        return found


class _StatementResult:
    """The part of a Core result the hot paths use."""

    def __init__(self, cursor, row_type):
        self._cursor = cursor
        self._row_type = row_type

    def scalar(self):
        row = self._cursor.fetchone()
        return row[0] if row is not None else None

    def first(self):
        row = self._cursor.fetchone()
        return self._row_type(*row) if row is not None and self._row_type else row

    @property
    def inserted_primary_key(self) -> tuple[int]:
        return (self._cursor.lastrowid,)


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


def get_for_update(session: Session, model: type, ident: Any) -> Any:
    """The row of `model` with primary key `ident` (or None), locked until the session's transaction
    ends, for code that checks a row and then changes it (a hit must be new to become a clue): a
    second writer doing the same waits, then reads what the first committed, so it cannot act on a
    stale read and record the step twice.

    On PostgreSQL a row lock (SELECT … FOR UPDATE): under READ COMMITTED both writers would otherwise
    read the old row. On SQLite, which has no row locks, the database's single write lock, taken
    before the read by a write statement that changes nothing (the pysqlite driver begins a
    transaction only before a write, so plain reads see no lock at all)."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        table = model.__table__
        key = table.primary_key.columns[0]
        conn.execute(update(table).where(false()).values({key.name: key}))
        return session.get(model, ident, populate_existing=True)
    return session.get(model, ident, with_for_update=True, populate_existing=True)


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
        engine = create_engine(
            url, connect_args={"timeout": float(cfg.core.sqlite_busy_timeout_s), "check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
