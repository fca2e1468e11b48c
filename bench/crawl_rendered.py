"""Rendered pages: pages/s through the system Chromium, and the memory of the crawler process plus
its browser processes as the crawl goes on.

    .venv/bin/python -m bench.crawl_rendered          # 400 JavaScript-only item pages
    .venv/bin/python -m bench.crawl_rendered --full   # 1,100 pages: memory at page 100 vs page 1000

Targets: ≥ 4 pages/s on 2 cores; memory (PSS, summed over the process tree) at page 1000 less than
20% above page 100. Every page is rendered, waited for, screenshotted (full page) and stored.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench.crawl_common import crawl_env, finish, many_posts, start_pipeline_crawl, workdir, write_sources
from samplesite.server import start

TARGET_RATE = 4.0
TARGET_GROWTH = 0.20


def tree_memory_mb(root_pid: int) -> float:
    """PSS (or RSS where PSS is unreadable) of a process and all its descendants, in MB."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += _pss_kb(pid)
        todo.extend(children.get(pid, []))
    return total / 1024


def _pss_kb(pid: int) -> int:
    for path, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return int(line.split()[1])
        except OSError:
            continue
    return 0


def stored_pages(cfg) -> int:
    from sqlalchemy import func, select

    from core import db
    from core.models import Page

    try:
        with db.session_scope(cfg) as s:
            return s.scalar(select(func.count(Page.id))) or 0
    except Exception:  # noqa: BLE001 - the crawl may not have created the schema yet
        return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="1,100 pages (memory at page 100 and 1000)")
    ap.add_argument("--pages", type=int)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    pages = args.pages or (1100 if args.full else 400)
    late = 1000 if pages >= 1000 else pages - 20
    work = workdir()
    posts = many_posts("goofish", pages, work / "posts.json")
    with start(data_path=work / "posts.json") as site:
        urls = [f"{site.url}/goofish/item/{p['key']}" for p in posts]
        sources = work / "sources.toml"
        write_sources(
            sources,
            "bench_rendered",
            urls,
            kind="generic",
            platform="shop",
            render=True,
            render_wait_for=".item-main-container, .item-error",
            max_depth=0,
            page_budget=pages * 3,
            download_delay=0.0,
            concurrency=args.concurrency,
            selectors={
                "title": "h1.item-title",
                "text": ".item-desc",
                "price": ".item-price",
                "account": ".item-seller",
                "seller_location": ".item-location",
            },
        )
        env = crawl_env(work, sources)
        from core import config

        cfg = config.load(
            overrides={"core.data_dir": str(work / "var"), "core.database_url": "", "crawl.sources_file": str(sources)}
        )
        proc = start_pipeline_crawl("bench_rendered", env)
        marks = watch_memory(proc, cfg, (100, late))
        summary = finish(proc)
    report(summary, marks, late)


def watch_memory(proc, cfg, at: tuple[int, int]) -> dict:
    """Memory when the store reaches each page count in `at`, and the peak, sampled every 0.5 s."""
    marks: dict = {"peak": 0.0}
    while proc.poll() is None:
        mem = tree_memory_mb(proc.pid)
        marks["peak"] = max(marks["peak"], mem)
        n = stored_pages(cfg)
        for target in at:
            if n >= target and target not in marks:
                marks[target] = (n, mem)
        time.sleep(0.5)
    return marks


def report(summary: dict, marks: dict, late: int) -> None:
    rate = summary["pages"] / summary["elapsed_s"]
    cpu = summary.get("cpu_s", {})
    print(
        f"rendered pages={summary['pages']} in {summary['elapsed_s']:.1f} s: {rate:.2f} pages/s "
        f"(target ≥ {TARGET_RATE}) {'PASS' if rate >= TARGET_RATE else 'BELOW TARGET'}; CPU per page "
        f"{1000 * (cpu.get('crawl', 0) + cpu.get('children', 0)) / max(1, summary['pages']):.0f} ms "
        f"(crawl process {cpu.get('crawl', 0):.0f} s, Chromium + page workers {cpu.get('children', 0):.0f} s, "
        f"start-up included)"
    )
    if 100 in marks and late in marks:
        (n1, m1), (n2, m2) = marks[100], marks[late]
        growth = (m2 - m1) / m1
        print(
            f"memory (crawler + Chromium, PSS): {m1:.0f} MB at page {n1}, {m2:.0f} MB at page {n2}, "
            f"growth {growth:+.1%} (target < {TARGET_GROWTH:.0%}) "
            f"{'PASS' if growth < TARGET_GROWTH else 'ABOVE TARGET'}; "
            f"peak {marks['peak']:.0f} MB"
        )


if __name__ == "__main__":
    main()
