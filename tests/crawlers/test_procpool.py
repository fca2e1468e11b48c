"""The crawl's process pool: calls answered as futures, worker exceptions and deaths reported, and
workers that exit on their own when the pool closes. Stdlib functions only, so the spawned workers
need nothing from the test module."""

from __future__ import annotations

import asyncio
import operator
import os
import threading

import pytest

from crawlers.procpool import AsyncProcessPool, RemoteError, WorkerDied


@pytest.fixture
def pool():
    p = AsyncProcessPool(2)
    p.wait_ready()
    yield p
    p.close(timeout=10)


def run(coro, pool):
    """Run `coro`, then close the pool while its loop still exists (as the crawl runner does)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        pool.close(timeout=10)
        loop.close()


def test_calls_are_answered_in_order_and_spread_over_the_workers(pool):
    async def go():
        results = await asyncio.gather(*[pool.call(operator.mul, i, 3) for i in range(50)])
        pids = await asyncio.gather(*[pool.call(os.getpid) for _ in range(8)])
        return results, pids

    results, pids = run(go(), pool)
    assert results == [i * 3 for i in range(50)]
    assert set(pids) == {w.process.pid for w in pool._workers}  # both were used, none is this process


def test_a_worker_exception_is_raised_in_the_caller_and_the_worker_goes_on(pool):
    async def go():
        with pytest.raises(ValueError, match="invalid literal"):
            await pool.call(int, "not a number")
        with pytest.raises(RemoteError, match="not picklable"):
            await pool.call(threading.Lock)  # the result cannot cross the socket
        return await pool.call(operator.add, 2, 2)

    assert run(go(), pool) == 4


def test_a_dead_worker_fails_its_call_and_the_others_take_the_rest(pool):
    async def go():
        with pytest.raises(WorkerDied):
            await pool.call(os._exit, 3)
        results = [await pool.call(operator.neg, i) for i in range(5)]
        assert sum(w.alive for w in pool._workers) == 1
        return results

    assert run(go(), pool) == [0, -1, -2, -3, -4]


def test_no_worker_left_means_every_call_fails(pool):
    async def go():
        for _ in range(2):
            with pytest.raises(WorkerDied):
                await pool.call(os._exit, 1)
        with pytest.raises(WorkerDied, match="no page worker"):
            await pool.call(operator.add, 1, 1)

    run(go(), pool)


def test_close_lets_the_workers_exit_by_themselves():
    p = AsyncProcessPool(2)
    p.wait_ready()
    loop = asyncio.new_event_loop()
    assert loop.run_until_complete(p.call(operator.add, 1, 2)) == 3
    p.close(timeout=30)  # the event loop is stopped, as after a crawl
    loop.close()
    assert [w.process.exitcode for w in p._workers] == [0, 0]  # EOF, not killed


def test_a_worker_that_cannot_start_is_reported():
    p = AsyncProcessPool(1, initializer=os._exit, initargs=(2,))
    with pytest.raises(WorkerDied, match="failed to start"):
        p.wait_ready(timeout=60)
    p.close(timeout=5)
