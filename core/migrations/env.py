"""Alembic environment: the engine comes from core.db (the only opener), never from an ini URL."""
from alembic import context

from core.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)  # SQLite can only ALTER through table copies
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
