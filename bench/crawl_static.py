"""Static pages: crawl + parse + detect + store throughput against a plain Scrapy spider that only
downloads the same pages, with the same concurrency, in the same run.

    .venv/bin/python -m bench.crawl_static            # 1,000 WeChat-style articles
    .venv/bin/python -m bench.crawl_static --full     # 5,000
    .venv/bin/python -m bench.crawl_static --pages 3000 --rounds 5 --compare-with /work/old-code

Target: pipeline pages/s ≥ 0.70 × download-only pages/s. Both crawls run as their own process (one
crawl per process, as in production) against one sample site; each figure is Scrapy's own
elapsed_time_seconds (spider open to close), so process start-up is outside both.

`--compare-with DIR` adds, to every round, the same pipeline crawl run by the code of another
checkout (`python -m crawlers` with cwd and PYTHONPATH = DIR, so DIR's packages come before the
installed ones). The sample site and the download-only baseline stay this checkout's. Each crawl
process and page worker reports the files it imported (a sitecustomize on PYTHONPATH), and a round
stops if either crawl ran code of the other checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

from bench.crawl_common import ROOT, crawl_env, finish, many_posts, start_pipeline_crawl, workdir, write_sources
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


def run_pipeline(
    urls: list[str], work, concurrency: int, tag: str, worker_process: bool = True, code: Path = ROOT, other=None
) -> dict:
    """One pipeline crawl of `urls` by the code of checkout `code` (this one by default); `other`: the
    checkout it must not run any code of."""
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
    imports = work / tag / "imports"
    env.update(_import_probe(work, imports, code))
    proc = start_pipeline_crawl(f"bench_static_{tag}", env, cwd=code)
    summary = finish(proc)
    check_imports(imports, proc.pid, code, {ROOT, other or ROOT} - {code}, worker_process)
    return {
        "pages": summary["pages"],
        "elapsed_s": summary["elapsed_s"],
        "hits": summary["hits"],
        "cpu": summary.get("cpu_s", {}),
    }


# Imported by every Python process of a pipeline crawl (the crawl and its spawned page workers) from
# PYTHONPATH: on exit it writes which project files the process ran, for check_imports.
_SITECUSTOMIZE = """
import json, os, sys

def _wangxun_bench_imports():
    files = {n: getattr(m, "__file__", None) for n, m in list(sys.modules.items())}
    path = os.path.join(os.environ["WANGXUN_BENCH_IMPORTS"], f"{os.getpid()}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({n: f for n, f in files.items() if f}, f)

import atexit
atexit.register(_wangxun_bench_imports)
# A spawned worker leaves through multiprocessing's own exit, which runs its finalizers, not atexit.
from multiprocessing import util as _util
_util.Finalize(None, _wangxun_bench_imports, exitpriority=0)
"""


def _import_probe(work: Path, imports: Path, code: Path) -> dict[str, str]:
    """PYTHONPATH and settings for a crawl that reports its imports; `code` first on the path."""
    probe = work / "import-probe"
    probe.mkdir(exist_ok=True)
    (probe / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
    imports.mkdir(parents=True, exist_ok=True)
    path = [str(code)] if code != ROOT else []
    return {"PYTHONPATH": os.pathsep.join([*path, str(probe)]), "WANGXUN_BENCH_IMPORTS": str(imports)}


def check_imports(imports: Path, crawl_pid: int, code: Path, others: set[Path], worker_process: bool) -> None:
    """Stop unless the crawl process and its page workers ran the crawler, and nothing from the
    checkouts in `others` (their installed packages aside)."""
    reports = {int(p.stem): json.loads(p.read_text(encoding="utf-8")) for p in imports.glob("*.json")}
    # Besides the crawl and its page workers, multiprocessing's resource tracker reports (it runs no
    # project code, and is checked all the same).
    workers = [pid for pid, modules in reports.items() if pid != crawl_pid and "crawlers.worker" in modules]
    if "crawlers.runner" not in reports.get(crawl_pid, {}) or (worker_process and not workers):
        raise SystemExit(f"import check: no report from the crawl process or its page workers in {imports}")
    others = {o.resolve() for o in others}
    for pid, modules in reports.items():
        for name, file in modules.items():
            path = Path(file).resolve()
            if "site-packages" not in path.parts and any(path.is_relative_to(o) for o in others):
                raise SystemExit(f"import check: process {pid} ran {name} from {path}, not from {code}")
        if pid in (crawl_pid, *workers) and not Path(modules["crawlers"]).resolve().is_relative_to(code.resolve()):
            raise SystemExit(f"import check: process {pid} ran crawlers from {modules['crawlers']}, not from {code}")


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
    ap.add_argument(
        "--compare-with",
        metavar="DIR",
        type=Path,
        help="also run, in every round, the pipeline crawl of the checkout at DIR (e.g. a git worktree)",
    )
    ap.add_argument("--baseline-worker", help=argparse.SUPPRESS)
    ap.add_argument("--user-agent", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.baseline_worker:
        return download_only(args.baseline_worker, args.concurrency, args.user_agent)
    pages = args.pages or (5000 if args.full else 1000)
    work = workdir()
    posts = many_posts("wechat", pages, work / "posts.json")
    if args.compare_with:
        return compare(args, work, posts, args.compare_with.resolve())
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


def compare(args, work: Path, posts: list[dict], other: Path) -> None:
    """Rounds of three crawls: download-only, this checkout's pipeline and `other`'s pipeline; the two
    pipelines take turns going first, so neither always runs right after the baseline."""
    if not (other / "crawlers" / "__main__.py").exists():
        raise SystemExit(f"{other} has no crawlers package")
    worker_process = not args.thread_worker
    rows = []
    with start(data_path=work / "posts.json") as site:
        urls = [f"{site.url}/s/{p['key']}" for p in posts]
        for r in range(args.rounds):
            base = measured(run_baseline, urls, work, args.concurrency)
            order = ("new", "old") if r % 2 == 0 else ("old", "new")
            row = {"base": base}
            for which in order:
                code = ROOT if which == "new" else other
                row[which] = measured(
                    run_pipeline, urls, work, args.concurrency, f"r{r}-{which}", worker_process, code, other
                )
            rows.append(row)
            new, old = (_rate(row[k]) / _rate(base) for k in ("new", "old"))
            print(
                f"round {r + 1} ({order[0]} first): download-only {_rate(base):7.1f} pages/s   "
                f"new {_rate(row['new']):7.1f} pages/s ratio {new:.2f}   "
                f"old {_rate(row['old']):7.1f} pages/s ratio {old:.2f}   new - old {new - old:+.2f}\n"
                f"         ({row['new']['pages']} / {row['old']['pages']} pages, "
                f"{row['new']['hits']} / {row['old']['hits']} hits; "
                f"CPU s new {_cpu(row['new'])}, old {_cpu(row['old'])}; imports checked)",
                flush=True,
            )
    new_ratios = [_rate(row["new"]) / _rate(row["base"]) for row in rows]
    old_ratios = [_rate(row["old"]) / _rate(row["base"]) for row in rows]
    new_median, old_median = statistics.median(new_ratios), statistics.median(old_ratios)
    median = lambda key: statistics.median(_rate(row[key]) for row in rows)  # noqa: E731
    print(
        f"static pages={len(posts)} concurrency={args.concurrency} rounds={len(rows)}, old = {other}\n"
        f"  medians: download-only {median('base'):.1f} pages/s, new {median('new'):.1f} pages/s, "
        f"old {median('old'):.1f} pages/s\n"
        f"  median round ratio: new {new_median:.2f} (rounds: {', '.join(f'{x:.2f}' for x in new_ratios)})\n"
        f"                      old {old_median:.2f} (rounds: {', '.join(f'{x:.2f}' for x in old_ratios)})\n"
        f"  difference new - old: {new_median - old_median:+.2f} (median of the rounds' differences "
        f"{statistics.median(n - o for n, o in zip(new_ratios, old_ratios, strict=True)):+.2f}); "
        f"{'PASS' if new_median >= old_median - 0.03 else 'NEW CODE SLOWER'} (new may be at most 0.03 below old)"
    )


def _cpu(row: dict) -> str:
    cpu = row["cpu"]
    return f"crawl {cpu.get('crawl', 0):.1f} + workers {cpu.get('children', 0):.1f}"


def _rate(row: dict) -> float:
    return row["pages"] / row["elapsed_s"] if row["elapsed_s"] else 0.0


if __name__ == "__main__":
    main()
