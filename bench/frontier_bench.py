"""Benchmark: 1, 2 and 3 crawl processes sharing one Redis frontier (`[crawl] frontier = "redis"`),
against the same sample site in one run.

The sample site answers every request after `--latency-ms` (default 100 ms), so a crawl is
network-bound; each process's concurrency is capped (`--concurrency`, default 4) and politeness is
off (no download delay, no AutoThrottle), so one process can fetch at most concurrency / latency pages
a second and more processes can wait on the network side by side. On 2 cores the CPU cannot scale;
the waiting can.

For each number of processes: a fresh database and a fresh run of its own source over the same
`--pages` article URLs (given as start URLs, so every process schedules all of them and the shared
duplicate filter keeps one of each). Reported per row: pages stored, the crawl window (first to last
request the site saw) and the wall time (first process started to last one done, start-up
included), throughput over each, the scaling ratio against 1 process, and the duplicates: article
URLs the site served more than once, and requests acknowledged twice in Redis. The scaling ratio is
taken in the steady state: from the moment every process has requests in flight (start-up, about
4 s of imports and detector loading per process, is staggered on a busy machine) to the last request.

    python -m bench.frontier_bench [--pages 600] [--latency-ms 100] [--concurrency 4] [--redis-url URL]

Without --redis-url a throwaway redis-server is started on a free loopback port (and stopped).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from collections import Counter
from pathlib import Path

from bench.crawl_common import crawl_env, finish, many_posts, start_pipeline_crawl, workdir, write_sources


def run_row(processes: int, urls: list[str], site, redis_url: str, work: Path, concurrency: int) -> dict:
    from core import db
    from core.config import load
    from crawlers.frontier_redis import connect, source_prefix

    name = f"bench_frontier_{processes}"
    sources = work / f"{name}.toml"
    write_sources(
        sources,
        name,
        urls,
        kind="wechat_article",
        platform="wechat",
        max_depth=0,
        page_budget=len(urls) + 10,
        download_delay=0.0,
        concurrency=concurrency,
    )
    env = crawl_env(work / name, sources)
    env.update(
        {
            "WANGXUN_CRAWL__SAMPLE_SITE_URL": site.url,
            "WANGXUN_CRAWL__FRONTIER": "redis",
            "WANGXUN_CRAWL__REDIS_URL": redis_url,
            "WANGXUN_CRAWL__WORKER_PROCESSES": "1",
        }
    )
    # One migration before the processes start (several first-time migrations of one SQLite file race).
    cfg = load(environ=env)
    db.upgrade(cfg)
    db.dispose(cfg)
    client = connect(redis_url)
    for key in client.scan_iter(source_prefix(name) + "*"):
        client.delete(key)
    site.reset()
    t0 = time.monotonic()
    procs = [start_pipeline_crawl(name, env) for _ in range(processes)]
    all_fetching = _all_fetching(client, source_prefix(name), processes, procs)
    summaries = [finish(p) for p in procs]
    wall = time.monotonic() - t0
    log = [(t, url) for t, url, status in site.request_log() if url.startswith("/s/") and status == 200]
    window = (max(t for t, _ in log) - min(t for t, _ in log)) if log else 0.0
    fetched = Counter(url for _, url in log)
    pages = sum(s["pages"] for s in summaries)
    # Steady state: from the moment every process had requests in flight (start-up is staggered on a
    # busy machine) to the last request.
    steady = [t for t, _ in log if all_fetching is not None and t >= all_fetching]
    steady_rate = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 10 else 0.0
    return {
        "steady_pages": len(steady),
        "steady_pages_per_s": steady_rate,
        "processes": processes,
        "pages": pages,
        "per_process": [s["pages"] for s in summaries],
        "window_s": window,
        "wall_s": wall,
        "pages_per_s": pages / window if window else 0.0,
        "wall_pages_per_s": pages / wall,
        "served_twice": sum(1 for n in fetched.values() if n > 1),
        "acked_twice": int(client.get(source_prefix(name) + "done_again") or 0),
        "states": sorted({s["state"] for s in summaries}),
    }


def _all_fetching(client, prefix: str, processes: int, procs) -> float | None:
    """time.monotonic() when every process of the run has had a request in flight (None if the run
    ended first)."""
    fetching: set[str] = set()
    while any(p.poll() is None for p in procs):
        for worker in client.smembers(prefix + "workers"):
            if client.llen(prefix + "inflight:" + worker):
                fetching.add(worker)
        if len(fetching) >= processes:
            return time.monotonic()
        time.sleep(0.02)
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=600)
    ap.add_argument("--latency-ms", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=4, help="per crawl process")
    ap.add_argument("--processes", default="1,2,3")
    ap.add_argument("--redis-url", default="", help="an existing Redis (default: start a throwaway one)")
    args = ap.parse_args()

    from samplesite.server import start

    work = workdir()
    server = None
    redis_url = args.redis_url
    if not redis_url:
        from tests.redisserver import RedisServer

        server = RedisServer().start()
        redis_url = server.url
    try:
        posts = many_posts("wechat", args.pages, work / "posts.json")
        with start(latency_ms=args.latency_ms, data_path=work / "posts.json") as site:
            urls = [f"{site.url}/s/{p['key']}" for p in posts]
            rows = []
            for n in (int(x) for x in args.processes.split(",")):
                rows.append(run_row(n, urls, site, redis_url, work, args.concurrency))
                print(_line(rows[-1], rows[0]), flush=True)
    finally:
        if server is not None:
            server.stop()
    print(
        f"\n{dt.date.today().isoformat()}, {platform.node()} ({os.cpu_count()} cores), {args.pages} pages, "
        f"latency {args.latency_ms} ms, concurrency {args.concurrency} per process, politeness off"
    )
    print("| processes | pages (per process) | steady pages/s (all processes fetching) | scaling vs 1 | "
          "crawl window | window pages/s | wall (with start-up) | served twice | acknowledged twice |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        ratio = row["steady_pages_per_s"] / rows[0]["steady_pages_per_s"] if rows[0]["steady_pages_per_s"] else 0.0
        print(
            f"| {row['processes']} | {row['pages']} ({', '.join(map(str, row['per_process']))}) | "
            f"{row['steady_pages_per_s']:.1f} ({row['steady_pages']} pages) | {ratio:.2f} | {row['window_s']:.1f} s | "
            f"{row['pages_per_s']:.1f} | {row['wall_s']:.1f} s | {row['served_twice']} | {row['acked_twice']} |"
        )


def _line(row: dict, first: dict) -> str:
    ratio = row["steady_pages_per_s"] / first["steady_pages_per_s"] if first["steady_pages_per_s"] else 0.0
    return (
        f"{row['processes']} process(es): {row['pages']} pages, steady {row['steady_pages_per_s']:.1f} pages/s "
        f"(x{ratio:.2f}), window {row['window_s']:.1f} s ({row['pages_per_s']:.1f} pages/s), "
        f"wall {row['wall_s']:.1f} s, "
        f"served twice {row['served_twice']}, acknowledged twice {row['acked_twice']}, {row['states']}"
    )


if __name__ == "__main__":
    main()
