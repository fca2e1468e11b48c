"""`wangxun classify` on 10,000 posts, end to end (process start, registry, output file), with the
parallel default against one worker in the same run.

    .venv/bin/python -m bench.classify [--posts 10000]

Posts are drawn from the three labelled sets; one in five is lengthened to a WeChat-article size
(about 1,500 characters) by joining several posts, so lengths range from a line to a long article.
Wall-clock times depend on what else the machine runs; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "detection" / "data"
TARGET_S = 20.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "posts.jsonl"
        chars = _write_posts(src, args.posts)
        print(
            f"{args.posts:,} posts, {chars / args.posts:.0f} characters on average, load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        parallel_s, parallel_cpu = _run(src, Path(tmp) / "a.jsonl", workers=2)
        single_s, single_cpu = _run(src, Path(tmp) / "b.jsonl", workers=1)
        same = (Path(tmp) / "a.jsonl").read_bytes() == (Path(tmp) / "b.jsonl").read_bytes()
    print(
        f"classify, 2 workers: {parallel_s:6.1f} s wall  {parallel_cpu:6.1f} s CPU  "
        f"{args.posts / parallel_s:,.0f} posts/s"
    )
    print(f"classify, 1 worker:  {single_s:6.1f} s wall  {single_cpu:6.1f} s CPU  {args.posts / single_s:,.0f} posts/s")
    print(f"speed-up 2 workers / 1: {single_s / parallel_s:.2f}x; identical output: {same}")
    print(
        f"target: {args.posts:,} posts under {TARGET_S:.0f} s [{'ok' if parallel_s < TARGET_S else 'MISSED'}] "
        f"(load average now {os.getloadavg()[0]:.1f})"
    )


def _write_posts(path: Path, count: int) -> int:
    rng = random.Random(7)
    pool = [
        json.loads(line)
        for name in ("devset.jsonl", "aside.jsonl", "aside_b.jsonl")
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
    ]
    chars = 0
    with path.open("w", encoding="utf-8") as f:
        for i in range(count):
            post = dict(rng.choice(pool), id=f"bench{i}")
            if i % 5 == 0:
                post["text"] = "\n".join([post["text"]] + [rng.choice(pool)["text"] for _ in range(12)])
            post.pop("gold", None)
            chars += len(post["title"]) + len(post["text"])
            f.write(json.dumps(post, ensure_ascii=False) + "\n")
    return chars


def _run(src: Path, out: Path, workers: int) -> tuple[float, float]:
    # An empty data directory of its own: the shared database must not change between the two runs.
    env = dict(
        os.environ,
        WANGXUN_DETECT__CLASSIFY_WORKERS=str(workers),
        WANGXUN_CORE__DATA_DIR=str(out.parent / "var"),
        WANGXUN_CORE__DATABASE_URL="",
    )
    cmd = [
        sys.executable,
        "-m",
        "core.cli",
        "classify",
        str(src),
        "--agencies",
        str(DATA / "dev_agencies.csv"),
        "--out",
        str(out),
    ]
    before = os.times()
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


if __name__ == "__main__":
    main()
