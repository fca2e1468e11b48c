"""Alembic environment: the engine comes from core.db (the only opener), never from an ini URL."""

from alembic import context

from core.models import Base

target_metadata = Base.metadata
# Tables not modelled here: the FTS5 search index and its shadow tables (raw SQL in a revision), and
# APScheduler's own job store table, which APScheduler creates and owns.
UNMODELLED_PREFIXES = ("search_fts", "apscheduler_")


def include_name(name, type_, parent_names) -> bool:
    return not (type_ == "table" and name and name.startswith(UNMODELLED_PREFIXES))


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, include_name=include_name, render_as_batch=True
        )  # SQLite can only ALTER through table copies
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
