"""A throwaway Redis server for the shared-frontier tests (tests/redisserver.py): one per test
process, started on first use on a free loopback port and stopped at the end, failures or not."""

from __future__ import annotations

import pytest

from tests.redisserver import RedisServer


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The server's URL, emptied for this test."""
    redis_server.flush()
    from crawlers import frontier_redis

    frontier_redis._clients.clear()  # noqa: SLF001 - a client of an earlier test's server must not be reused
    return redis_server.url
