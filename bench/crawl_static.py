"""Static pages: crawl + parse + detect + store throughput against a plain Scrapy spider that only
downloads the same pages, with the same concurrency, in the same run.

    .venv/bin/python -m bench.crawl_static            # 1,000 WeChat-style articles
    .venv/bin/python -m bench.crawl_static --full     # 5,000

Target: pipeline pages/s ≥ 0.70 × download-only pages/s. Both crawls run as their own process (one
crawl per process, as in production) against one sample site; each figure is Scrapy's own
elapsed_time_seconds (spider open to close), so process start-up is outside both.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys

from bench.crawl_common import crawl_env, finish, many_posts, start_pipeline_crawl, workdir, write_sources
from samplesite.server import start

TARGET = 0.70


def download_only(urls_file: str, concurrency: int, user_agent: str) -> None:
    """The baseline spider (run in its own process): fetch every URL, do nothing with it."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls = open(urls_file, encoding="utf-8").read().split()

    class DownloadOnly(scrapy.Spider):
        name = "download_only"
        start_urls = urls

        def parse(self, response):
            return None

    process = CrawlerProcess(
        {
            "CONCURRENT_REQUESTS": concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "ROBOTSTXT_OBEY": True,
            "USER_AGENT": user_agent,
            "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_ENABLED": False,
        }
    )
    crawler = process.create_crawler(DownloadOnly)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    print(
        json.dumps(
            {"pages": stats.get("response_received_count", 0), "elapsed_s": stats.get("elapsed_time_seconds", 0.0)}
        )
    )


def cpu_seconds() -> tuple[float, float]:
    """CPU used so far by this process (the sample site's threads) and by finished children (crawls)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def measured(run, *args) -> dict:
    """Run one crawl; add the CPU milliseconds per page of the crawler and of the sample site."""
    site0, crawl0 = cpu_seconds()
    row = run(*args)
    site1, crawl1 = cpu_seconds()
    pages = max(1, row["pages"])
    row.update(crawl_ms=(crawl1 - crawl0) * 1000 / pages, site_ms=(site1 - site0) * 1000 / pages)
    return row


def run_baseline(urls: list[str], work, concurrency: int) -> dict:
    from core import config

    urls_file = work / "urls.txt"
    urls_file.write_text("\n".join(urls), encoding="utf-8")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.crawl_static",
            "--baseline-worker",
            str(urls_file),
            "--concurrency",
            str(concurrency),
            "--user-agent",
            config.load().crawl.user_agent,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_pipeline(urls: list[str], work, concurrency: int, tag: str, worker_process: bool = True) -> dict:
    sources = work / f"sources-{tag}.toml"
    write_sources(
        sources,
        f"bench_static_{tag}",
        urls,
        kind="wechat_article",
        platform="wechat",
        max_depth=0,
        page_budget=len(urls) + 10,
        download_delay=0.0,
        concurrency=concurrency,
    )
    env = crawl_env(work / tag, sources)
    env["WANGXUN_CRAWL__SAMPLE_SITE_URL"] = "http://unused.invalid"
    env["WANGXUN_CRAWL__WORKER_PROCESSES"] = "2" if worker_process else "0"
    summary = finish(start_pipeline_crawl(f"bench_static_{tag}", env))
    return {
        "pages": summary["pages"],
        "elapsed_s": summary["elapsed_s"],
        "hits": summary["hits"],
        "cpu": summary.get("cpu_s", {}),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="5,000 pages instead of 1,000")
    ap.add_argument("--pages", type=int)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3, help="alternating baseline/pipeline rounds")
    ap.add_argument(
        "--thread-worker",
        action="store_true",
        help="parse/classify/store on a thread instead of the worker process ([crawl] worker_processes = 0)",
    )
    ap.add_argument("--baseline-worker", help=argparse.SUPPRESS)
    ap.add_argument("--user-agent", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.baseline_worker:
        return download_only(args.baseline_worker, args.concurrency, args.user_agent)
    pages = args.pages or (5000 if args.full else 1000)
    work = workdir()
    posts = many_posts("wechat", pages, work / "posts.json")
    with start(data_path=work / "posts.json") as site:
        urls = [f"{site.url}/s/{p['key']}" for p in posts]
        rows = []
        for r in range(args.rounds):  # alternate, so load from other processes hits both alike
            base = measured(run_baseline, urls, work, args.concurrency)
            full = measured(run_pipeline, urls, work, args.concurrency, f"r{r}", not args.thread_worker)
            rows.append((base, full))
            print(
                f"round {r + 1}: download-only {_rate(base):7.1f} pages/s   "
                f"crawl+parse+detect+store {_rate(full):7.1f} pages/s   ratio {_rate(full) / _rate(base):.2f}"
                f"   ({full['pages']} pages, {full['hits']} hits)\n"
                f"         CPU per page: crawler {base['crawl_ms']:.1f} ms vs {full['crawl_ms']:.1f} ms "
                f"(incl. process start-up; pipeline: crawl process {full['cpu'].get('crawl', 0):.1f} s, "
                f"page workers {full['cpu'].get('children', 0):.1f} s), "
                f"sample site {base['site_ms']:.1f} ms vs {full['site_ms']:.1f} ms",
                flush=True,
            )
    # Each round's two crawls ran back to back; the median round ratio is least swayed by other load.
    ratios = sorted(_rate(f) / _rate(b) for b, f in rows)
    ratio = statistics.median(ratios)
    print(
        f"static pages={pages} concurrency={args.concurrency}: download-only "
        f"{statistics.median(_rate(b) for b, _ in rows):.1f} pages/s, full pipeline "
        f"{statistics.median(_rate(f) for _, f in rows):.1f} pages/s (medians); median round ratio {ratio:.2f} "
        f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}; target ≥ {TARGET:.2f}) "
        f"{'PASS' if ratio >= TARGET else 'BELOW TARGET'}"
    )


def _rate(row: dict) -> float:
    return row["pages"] / row["elapsed_s"] if row["elapsed_s"] else 0.0


if __name__ == "__main__":
    main()
