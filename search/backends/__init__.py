"""Search backends behind one interface; `[search] backend` picks one."""

from __future__ import annotations

from core.config import Config
from core.errors import ConfigError
from search.backends.base import SearchBackend

BACKENDS = ("embedded", "elasticsearch", "postgres")


def get_backend(cfg: Config) -> SearchBackend:
    name = cfg.search.backend
    if name == "embedded":
        from search.backends.sqlite_fts import SqliteFtsBackend

        return SqliteFtsBackend(cfg)
    if name == "elasticsearch":
        from search.backends.elastic import ElasticBackend

        return ElasticBackend(cfg)
    if name == "postgres":
        from search.backends.postgres_fts import PostgresFtsBackend

        return PostgresFtsBackend(cfg)
    raise ConfigError(f"[search] backend = {name!r}: choose one of {', '.join(BACKENDS)}")
