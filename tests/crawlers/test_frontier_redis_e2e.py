"""Three `wangxun crawl` processes of one source sharing a Redis frontier, against the sample site; one
is killed with kill -9 midway. Every page is stored exactly once, the killed process's in-flight
requests are finished by the others, and the sample site's own request log shows that the per-site
delay and the account budget held across the processes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from core import db
from core.models import Page, PageVersion
from crawlers.frontier_redis import source_prefix
from crawlers.summary import parse_summary_line
from samplesite.server import start
from tests.conftest import PROJECT_ROOT, make_config
from tests.e2e.crawl_helpers import crawl_env

# On SQLite (one machine: the page workers take turns through the write flock) and on PostgreSQL (what
# several machines share: the database orders the writers).
pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(600), pytest.mark.both_engines]
SOURCES = Path(__file__).resolve().parent / "redis_sources.toml"
SOURCE = "wechat_shared"
DELAY_S = 0.1  # download_delay of the source
ACCOUNT_BUDGET = 3  # account_budget of the source


@pytest.fixture
def db_url(db_engine, database_url):
    """ "" (the data_dir's SQLite file) or a fresh, migrated PostgreSQL database."""
    return "" if db_engine == "sqlite" else database_url()


def _env(tmp_path, site_url: str, redis_url: str, db_url: str) -> dict[str, str]:
    return crawl_env(
        tmp_path,
        site_url,
        db_url,
        WANGXUN_CRAWL__SOURCES_FILE=str(SOURCES),
        WANGXUN_CRAWL__FRONTIER="redis",
        WANGXUN_CRAWL__REDIS_URL=redis_url,
        WANGXUN_CRAWL__REDIS_HEARTBEAT_S="3",
        WANGXUN_CRAWL__WORKER_PROCESSES="1",
    )


def _start(env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "crawlers", SOURCE],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _workers_by_pid(client, prefix: str) -> dict[int, str]:
    return {int(w.split(":")[1]): w for w in client.smembers(prefix + "workers")}


def test_three_processes_share_one_frontier_and_survive_a_kill(tmp_path, redis_url, redis_server, db_url):
    client = redis_server.client()
    prefix = source_prefix(SOURCE)
    with start() as site:
        env = _env(tmp_path, site.url, redis_url, db_url)
        settings = {"crawl.sample_site_url": site.url, "crawl.sources_file": str(SOURCES), "core.database_url": db_url}
        cfg = make_config(tmp_path, **settings)
        # The database exists before the three start (three first-time migrations at once would race).
        db.upgrade(cfg)
        db.dispose(cfg)
        procs = [_start(env) for _ in range(3)]
        try:
            # Midway: some pages stored, and a process holding requests in flight. Then kill -9 it.
            victim, held = None, []
            for _ in range(3000):  # up to 150 s on a loaded machine
                if any(p.poll() is not None for p in procs):
                    raise AssertionError("a crawl ended before the kill: " + _errors(procs))
                if client.scard(prefix + "done") >= 8:
                    workers = _workers_by_pid(client, prefix)
                    busy = [p for p in procs if client.llen(prefix + "inflight:" + workers.get(p.pid, "")) > 0]
                    if busy:
                        victim = busy[0]
                        victim.send_signal(signal.SIGKILL)
                        victim.wait(timeout=30)
                        held = client.lrange(prefix + "inflight:" + workers[victim.pid], 0, -1)
                        if held:
                            break
                        victim = None  # it finished them just before the kill: kill another one
                        procs = [p for p in procs if p.poll() is None]
                        continue
                time.sleep(0.05)
            assert victim is not None and held, "no process was killed with requests in flight"
            survivors = [p for p in procs if p is not victim]
            outs = [p.communicate(timeout=300) for p in survivors]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        log = site.request_log()
        posts = {p["key"]: p for p in site.posts if p["channel"] == "wechat"}
    summaries = [parse_summary_line(out) for out, _err in outs]
    for p, summary, (_out, err) in zip(survivors, summaries, outs, strict=True):
        assert p.returncode == 0 and summary and summary["state"] == "finished", err[-3000:]
        assert summary["frontier"] == "redis" and summary["run"] == summaries[0]["run"]
    assert sum(s["pages"] for s in summaries) > 0

    # The run: every scheduled request was finished (stored, followed or given up), the killed
    # process's in-flight ones by the others; an acknowledgement twice only for a page committed by
    # the killed process just before its acknowledgement.
    seen, done = client.smembers(prefix + "seen"), client.smembers(prefix + "done")
    assert seen and seen == done
    assert set(held) <= done
    assert int(client.get(prefix + "done_again") or 0) <= 2
    assert client.hget(prefix + "run", "ended") == "finished"

    # The store: every article the site served is stored, each exactly once, with at most one version.
    with db.session_scope(cfg) as s:
        pages = Counter(s.scalars(select(Page.url).where(Page.source == SOURCE)))
        versions = Counter(s.scalars(select(Page.url).join(PageVersion, PageVersion.page_id == Page.id)))
    db.dispose(cfg)
    served = {site.url + url for _t, url, status in log if url.startswith("/s/") and status == 200}
    assert served and set(pages) == served
    assert max(pages.values()) == 1 and max(versions.values()) == 1

    # No URL fetched twice, except what the killed process had in flight (a /link and the article it
    # leads to) and a page it committed just before acknowledging it.
    fetched = Counter(url for _t, url, _status in log if not url.startswith("/robots.txt"))
    again = {url for url, n in fetched.items() if n > 1}
    assert len(again) <= 2 * len(held) + 2, again

    # The per-site delay of 0.1 s held across the three processes: in any 2 s at most 20 requests (+1
    # for the window's edges, +5 for a process that sends its reserved slot late on a loaded machine);
    # three processes pacing themselves apart would send about 60.
    window_s = 2.0
    times = [t for t, _url, _status in log]
    busiest = max(sum(1 for u in times[i:] if u - t < window_s) for i, t in enumerate(times))
    assert busiest <= window_s / DELAY_S + 6, busiest
    assert len(times) > 2 * window_s / DELAY_S  # the crawl lasted long enough for the windows to mean something

    # The account budget held across the processes: no account's articles fetched more than the
    # budget allows, and the budget did stop some (園林代约黄牛哥 has 6 articles in the results).
    per_account = Counter()
    for url in {url for url in fetched if url.startswith("/s/")}:
        per_account[posts[urlsplit(url).path.rsplit("/", 1)[1]]["account"]["name"]] += 1
    assert max(per_account.values()) <= ACCOUNT_BUDGET, per_account
    assert sum(s["skipped"] for s in summaries) > 0 or client.hvals(_budget_key(client))  # spent somewhere
    assert ACCOUNT_BUDGET in {int(v) for v in client.hvals(_budget_key(client))}


def _budget_key(client) -> str:
    keys = client.keys("wangxun:account_budget:*")
    assert len(keys) == 1, keys
    return keys[0]


def _errors(procs) -> str:
    out = []
    for p in procs:
        if p.poll() is not None:
            out.append(p.stderr.read()[-2000:])
    return "\n".join(out)
