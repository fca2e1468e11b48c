"""The shared crawl frontier on a real Redis (tests/redisserver.py): the queue, the duplicate filter,
acknowledgement, reclaiming a dead process's in-flight requests, the end of a run, and the shared
politeness (per-site delay, pauses, captcha streaks, account and page budgets)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from core.errors import UserError
from crawlers.frontier import mark_done
from crawlers.frontier_redis import (
    RedisFrontier,
    SharedAccountBudget,
    SharedDomainPauses,
    SharedPacer,
    SharedPageBudget,
    ack,
)


def _spec(url: str, depth: int = 0) -> dict:
    return {"url": url, "kind": "wechat_article", "depth": depth}


def _frontier(url: str, source: str = "s", heartbeat_s: float = 15.0) -> RedisFrontier:
    return RedisFrontier(url, source, heartbeat_s=heartbeat_s).open()


def _wait_for(predicate, what: str, bound_s: float = 30.0) -> None:
    """Poll state with a generous bound (never a timed assertion)."""
    for _ in range(int(bound_s / 0.05)):
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def test_processes_of_one_source_join_one_run_and_schedule_each_request_once(redis_url):
    a = _frontier(redis_url)
    b = _frontier(redis_url)
    assert a.run_id == b.run_id and not a.resumed and b.resumed
    assert a.enqueued("fp1", _spec("http://x/1")) is True
    assert b.enqueued("fp1", _spec("http://x/1")) is False  # the shared duplicate filter
    assert "fp1" in a.seen and "fp1" in b.seen and "fp2" not in b.seen
    assert b.pop() == ("fp1", _spec("http://x/1"))
    assert a.pop() is None  # taken once
    other = _frontier(redis_url, source="other")  # another source: its own run
    assert other.run_id != a.run_id and other.enqueued("fp1", _spec("http://x/1")) is True


def test_a_popped_request_stays_in_flight_until_acknowledged(redis_url):
    a = _frontier(redis_url)
    a.enqueued("fp1", _spec("http://x/1"))
    a.enqueued("fp2", _spec("http://x/2"))
    a.pop()
    a.pop()
    assert a.redis.lrange(a.inflight_key, 0, -1) == ["fp1", "fp2"]
    assert a.counts() == {"queued": 0, "in_flight": 2, "done": 0, "done_again": 0, "workers": 1}
    a.done("fp1", "http://x/1")  # the crawl process closes a listing / a request given up
    mark_done(a.journal, "fp2", "http://x/2")  # what a page worker calls right after its commit
    assert a.redis.lrange(a.inflight_key, 0, -1) == []
    assert a.counts()["done"] == 2 and a.counts()["done_again"] == 0
    ack(a.journal, "fp2")  # a second acknowledgement is counted, never a second done
    assert a.counts()["done"] == 2 and a.counts()["done_again"] == 1


def test_a_dead_process_in_flight_requests_are_reclaimed_by_the_living(redis_url):
    dead = _frontier(redis_url, heartbeat_s=1)
    live = _frontier(redis_url)
    for n in range(4):
        dead.enqueued(f"fp{n}", _spec(f"http://x/{n}"))
    assert [dead.pop()[0] for _ in range(2)] == ["fp0", "fp1"]
    live.tick(idle=False)
    assert live.pop()[0] == "fp2"  # the dead one still beats: its requests are its own
    # It stops beating (as when killed: its heartbeat thread dies with it); the key expires on its own.
    dead._beating.set()
    _wait_for(lambda: not live.redis.exists(dead.key("hb:" + dead.worker)), "the heartbeat to expire")
    assert live.tick(idle=False) is False
    assert live.redis.llen(dead.inflight_key) == 0 and dead.worker not in live.redis.smembers(live.key("workers"))
    assert [live.pop()[0] for _ in range(3)] == ["fp0", "fp1", "fp3"]  # reclaimed ones first
    for fp in ("fp0", "fp1", "fp2", "fp3"):
        live.done(fp)
    assert live.counts()["done"] == 4 and live.counts()["in_flight"] == 0


def test_pops_from_many_processes_at_once_take_each_request_exactly_once(redis_url):
    frontiers = [_frontier(redis_url) for _ in range(4)]
    for n in range(400):
        frontiers[0].enqueued(f"fp{n}", _spec(f"http://x/{n}"))
    taken: list[list[str]] = [[] for _ in frontiers]

    def drain(i: int) -> None:
        while (got := frontiers[i].pop()) is not None:
            taken[i].append(got[0])

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(len(frontiers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    everything = [fp for part in taken for fp in part]
    assert len(everything) == 400 and len(set(everything)) == 400
    assert sum(f.redis.llen(f.inflight_key) for f in frontiers) == 400


def test_the_run_ends_when_everyone_is_idle_and_nothing_waits(redis_url):
    a = _frontier(redis_url)
    b = _frontier(redis_url)
    a.enqueued("fp1", _spec("http://x/1"))
    assert a.tick(idle=True) is False  # something waits in the queue
    assert b.pop()[0] == "fp1"
    assert a.tick(idle=True) is False  # b has it in flight
    b.done("fp1")
    assert a.tick(idle=True) is False  # b is not idle yet (it may schedule more)
    assert b.tick(idle=True) is True and a.tick(idle=True) is True
    b.end("finished")
    a.end("finished")
    c = _frontier(redis_url)  # the next run starts afresh: everything is visited again
    assert c.run_id != a.run_id and not c.resumed and "fp1" not in c.seen
    assert c.enqueued("fp1", _spec("http://x/1")) is True


def test_a_process_that_stops_early_gives_its_requests_back_and_the_run_stays_open(redis_url):
    a = _frontier(redis_url)
    for n in range(3):
        a.enqueued(f"fp{n}", _spec(f"http://x/{n}"))
    a.pop()
    a.pop()
    a.close()  # budget, captcha, Ctrl-C
    b = _frontier(redis_url)
    assert b.resumed and b.run_id == a.run_id
    assert [b.pop()[0] for _ in range(3)] == ["fp0", "fp1", "fp2"]  # back at the front, in order


def test_an_idle_process_drops_requests_it_can_never_finish(redis_url):
    """A callback that raised leaves its request in the process's in-flight list (the local journal
    leaves it open); once the process is idle the run must still be able to end."""
    a = _frontier(redis_url)
    a.enqueued("fp1", _spec("http://x/1"))
    a.pop()
    assert a.tick(idle=True) is True and a.redis.llen(a.inflight_key) == 0


def test_fresh_ends_the_open_run(redis_url):
    a = _frontier(redis_url)
    a.enqueued("fp1", _spec("http://x/1"))
    b = RedisFrontier(redis_url, "s").open(fresh=True)
    assert b.run_id != a.run_id and not b.resumed and b.pop() is None
    assert a.tick(idle=False) is True  # the old run's process sees its run is over


def test_a_redirect_target_is_followed_by_one_request_of_the_run(redis_url):
    a = _frontier(redis_url)
    b = _frontier(redis_url)
    a.enqueued("own", _spec("http://x/own"))
    assert a.claim_redirect("target", "link1") is True
    assert b.claim_redirect("target", "link2") is False  # another request reached it first
    assert b.claim_redirect("target", "link1") is True  # link1 fetched again after its process died
    assert b.claim_redirect("own", "link3") is False  # scheduled as a request of its own


def test_the_per_site_delay_is_shared_by_all_processes(redis_url):
    pacers = [SharedPacer(redis_url) for _ in range(3)]
    waits = [pacers[n % 3].reserve("site.example", 0.5) for n in range(6)]
    # Each reservation is a slot 0.5 s after the previous one, whichever process took it; the wait
    # shrinks only by the (small) time between the calls.
    for before, after in zip(waits, waits[1:], strict=False):
        assert 0.3 < after - before <= 0.5 + 1e-6
    assert pacers[0].reserve("other.example", 0.5) == 0.0  # per domain
    assert pacers[0].reserve("site.example", 0) == 0.0  # no delay, no slot


def test_pauses_and_captcha_streaks_are_shared(redis_url):
    a = SharedDomainPauses(redis_url, captcha_backoff_s=30, captcha_max_in_row=3)
    b = SharedDomainPauses(redis_url, captcha_backoff_s=30, captcha_max_in_row=3)
    a.pause("site.example", 60)
    assert 50 < b.remaining("site.example") <= 60 and b.remaining("other.example") == 0
    b.pause("site.example", 5)  # a shorter pause never shortens a longer one
    assert a.remaining("site.example") > 50
    sent = a.clock()
    assert a.captcha("x.example", sent) is True  # first in a row: pause 30 s
    assert b.remaining("x.example") > 25
    assert b.captcha("x.example", sent - 100) is True  # sent before the pause began: not counted
    assert b.captcha("x.example", b.clock()) is True  # second in a row, seen by the other process
    assert a.captcha("x.example", a.clock()) is False  # third: the source stops, in every process
    a.ok("x.example")
    assert b.captcha("x.example", b.clock()) is True  # the streak starts again


def test_account_and_page_budgets_are_shared(redis_url):
    a, b = SharedAccountBudget(redis_url, "Asia/Shanghai"), SharedAccountBudget(redis_url, "Asia/Shanghai")
    assert [x.take("wechat:acct", 3) for x in (a, b, a, b)] == [True, True, True, False]
    assert a.take("wechat:other", 3) is True and b.take("wechat:acct", 0) is True  # 0: no limit
    f1, f2 = _frontier(redis_url), _frontier(redis_url)
    p1, p2 = SharedPageBudget(f1), SharedPageBudget(f2)
    assert [p.take("site.example", 3) for p in (p1, p2, p1, p2)] == [True, True, True, False]
    # A request pays once per run: fetched again by another process after its own died, it is free.
    assert p1.first_payment("fp1") is True and p2.first_payment("fp1") is False and p2.first_payment("") is True
    f1.close()
    f2.close()
    f3 = _frontier(redis_url)  # nobody worked on the run any more: a fresh budget for its next session
    assert f3.resumed and SharedPageBudget(f3).take("site.example", 3) is True


def test_waiting_out_a_shared_pause(redis_url):
    pauses = SharedDomainPauses(redis_url, captcha_backoff_s=1, captcha_max_in_row=3)
    pauses.pause("site.example", 0.2)
    asyncio.run(pauses.wait("site.example"))
    assert pauses.remaining("site.example") == 0


def test_an_unreachable_redis_is_one_clear_line(redis_server):
    from tests.redisserver import _free_port

    with pytest.raises(UserError, match=r"cannot reach Redis at redis://127\.0\.0\.1:\d+/0 \(\[crawl\] redis_url\)"):
        RedisFrontier(f"redis://127.0.0.1:{_free_port()}/0", "s")
    with pytest.raises(UserError, match="needs \\[crawl\\] redis_url"):
        RedisFrontier("", "s")


def test_the_config_accepts_only_known_frontiers_and_redis_urls():
    from core.config_rules import check_value

    assert check_value("crawl.frontier", "redis") is None and check_value("crawl.frontier", "local") is None
    assert "must be one of local, redis" in check_value("crawl.frontier", "kafka")
    assert check_value("crawl.redis_url", "redis://10.0.0.5:6379/2") is None
    assert "must be a Redis URL" in check_value("crawl.redis_url", "10.0.0.5:6379")
    assert "from 3 to 3600" in check_value("crawl.redis_heartbeat_s", 1.0)
