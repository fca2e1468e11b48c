"""Keyword matcher throughput: Aho-Corasick (pyahocorasick) against one big regular-expression
alternation of the same 10,000 keywords, on the same Chinese text, in one run on one core.

    .venv/bin/python -m bench.detect_matcher [--mb 8] [--keywords 10000] [--regex-mb 1]

Keywords: the shipped library plus words from jieba's dictionary (real Chinese words, 2-4 characters)
up to --keywords. Text: dev-set posts interleaved with dictionary words drawn by frequency, folded
once up front (folding is measured separately: it is a per-field cost, not a per-keyword one).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import time
from pathlib import Path

import jieba

from detection.keywords import Matcher, library_from_terms, load_library
from detection.normalize import fold

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "tests" / "detection" / "data" / "devset.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=8.0, help="MB of UTF-8 text to scan")
    parser.add_argument("--keywords", type=int, default=10_000)
    parser.add_argument("--regex-mb", type=float, default=1.0, help="MB the (slow) regex baseline scans")
    args = parser.parse_args()
    rng = random.Random(20240501)
    words, weights = _dictionary()
    keywords = _keywords(words, args.keywords, rng)
    text = _text(words, weights, args.mb, rng)
    size_mb = len(text.encode("utf-8")) / 1e6
    print(f"keywords: {len(keywords):,}   text: {size_mb:.1f} MB UTF-8 ({len(text):,} characters)")

    matcher = Matcher(library_from_terms({"bench": keywords}))
    folded, fold_s = _timed(fold, text)
    scan_matches, scan_s = _timed(matcher.scan, folded)
    find_matches, find_s = _timed(matcher.find, folded)
    sample = folded[: int(len(folded) * min(1.0, args.regex_mb / size_mb))]
    sample_mb = len(sample.encode("utf-8")) / 1e6
    alternation = re.compile("|".join(re.escape(k) for k in sorted(keywords, key=len, reverse=True)))
    regex_matches, regex_s = _timed(lambda s: sum(1 for _ in alternation.finditer(s)), sample)

    ac_rate, find_rate, regex_rate = size_mb / scan_s, size_mb / find_s, sample_mb / regex_s
    print(f"fold (traditional/full-width/case)   {size_mb / fold_s:8.1f} MB/s")
    print(f"Aho-Corasick scan                    {ac_rate:8.1f} MB/s   {len(scan_matches):,} matches")
    print(f"Aho-Corasick find (+fillers, nested) {find_rate:8.1f} MB/s   {len(find_matches):,} matches")
    print(f"regex alternation (on {sample_mb:.1f} MB)       {regex_rate:8.2f} MB/s   {regex_matches:,} matches")
    print(f"ratio scan/regex: {ac_rate / regex_rate:.0f}x   find/regex: {find_rate / regex_rate:.0f}x")
    print(
        f"targets: scan >= 20 MB/s [{'ok' if ac_rate >= 20 else 'MISSED'}], "
        f">= 10x regex [{'ok' if ac_rate / regex_rate >= 10 else 'MISSED'}]"
    )


def _dictionary() -> tuple[list[str], list[int]]:
    path = Path(jieba.__file__).resolve().parent / "dict.txt"
    words, weights = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split(" ")
        if len(parts) >= 2 and re.fullmatch(r"[\u4e00-\u9fff]{2,4}", parts[0]):
            words.append(parts[0])
            weights.append(int(parts[1]))
    return words, weights


def _keywords(words: list[str], count: int, rng: random.Random) -> list[str]:
    shipped = [term for term in load_library().entries if term]
    extra = rng.sample(words, max(0, count - len(shipped)))
    return list(dict.fromkeys(shipped + extra))[:count]


def _text(words: list[str], weights: list[int], mb: float, rng: random.Random) -> str:
    posts = [json.loads(line) for line in DEVSET.read_text(encoding="utf-8").splitlines()]
    cumulative = list(itertools.accumulate(weights))  # once: choices() would redo it on every call
    chunks, size = [], 0
    target = int(mb * 1e6)
    while size < target:
        post = rng.choice(posts)
        filler = "".join(rng.choices(words, cum_weights=cumulative, k=120)) + "。"
        chunk = post["title"] + "\n" + post["text"] + "\n" + filler + "\n"
        chunks.append(chunk)
        size += len(chunk.encode("utf-8"))
    return "".join(chunks)


def _timed(fn, arg):
    start = time.process_time()  # CPU time of this process: one core, not disturbed by other jobs' waits
    result = fn(arg)
    return result, time.process_time() - start


if __name__ == "__main__":
    main()
