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
import subprocess
import sys

from bench.crawl_common import crawl_env, finish, many_posts, start_pipeline_crawl, workdir, write_sources
from crawlers.samplesite.server import start

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

    process = CrawlerProcess({"CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
                              "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": True,
                              "USER_AGENT": user_agent, "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False})
    crawler = process.create_crawler(DownloadOnly)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    print(json.dumps({"pages": stats.get("response_received_count", 0),
                      "elapsed_s": stats.get("elapsed_time_seconds", 0.0)}))


def run_baseline(urls: list[str], work, concurrency: int) -> dict:
    from core import config

    urls_file = work / "urls.txt"
    urls_file.write_text("\n".join(urls), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "bench.crawl_static", "--baseline-worker", str(urls_file),
                          "--concurrency", str(concurrency), "--user-agent", config.load().crawl.user_agent],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_pipeline(urls: list[str], work, concurrency: int, tag: str) -> dict:
    sources = work / f"sources-{tag}.toml"
    write_sources(sources, f"bench_static_{tag}", urls, kind="wechat_article", platform="wechat",
                  max_depth=0, page_budget=len(urls) + 10, download_delay=0.0, concurrency=concurrency)
    env = crawl_env(work / tag, sources)
    env["WANGXUN_CRAWL__SAMPLE_SITE_URL"] = "http://unused.invalid"
    summary = finish(start_pipeline_crawl(f"bench_static_{tag}", env))
    return {"pages": summary["pages"], "elapsed_s": summary["elapsed_s"], "hits": summary["hits"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="5,000 pages instead of 1,000")
    ap.add_argument("--pages", type=int)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2, help="alternating baseline/pipeline rounds")
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
            base = run_baseline(urls, work, args.concurrency)
            full = run_pipeline(urls, work, args.concurrency, f"r{r}")
            rows.append((base, full))
            print(f"round {r + 1}: download-only {_rate(base):7.1f} pages/s   "
                  f"crawl+parse+detect+store {_rate(full):7.1f} pages/s   ratio {_rate(full) / _rate(base):.2f}"
                  f"   ({full['pages']} pages, {full['hits']} hits)", flush=True)
    best_base = max(_rate(b) for b, _ in rows)
    best_full = max(_rate(f) for _, f in rows)
    ratio = best_full / best_base
    print(f"static pages={pages} concurrency={args.concurrency}: download-only {best_base:.1f} pages/s, "
          f"full pipeline {best_full:.1f} pages/s, ratio {ratio:.2f} (target ≥ {TARGET:.2f}) "
          f"{'PASS' if ratio >= TARGET else 'BELOW TARGET'}")


def _rate(row: dict) -> float:
    return row["pages"] / row["elapsed_s"] if row["elapsed_s"] else 0.0


if __name__ == "__main__":
    main()
