"""The crawl summary line: the last line a crawl prints on stdout, read by the scheduler, the demo
and the benchmarks. Imports nothing but json, so a reader of the line loads none of the crawler."""

from __future__ import annotations

import json

SUMMARY_PREFIX = "CRAWL-SUMMARY "


def summary_line(summary: dict) -> str:
    return SUMMARY_PREFIX + json.dumps(summary, ensure_ascii=False, sort_keys=False)


def parse_summary_line(text: str | None) -> dict | None:
    """The summary in a crawl's stdout (its last summary line); None if there is none, or if the line
    is not whole JSON (a crawl killed while printing it)."""
    for line in reversed((text or "").splitlines()):
        if line.startswith(SUMMARY_PREFIX):
            try:
                return json.loads(line[len(SUMMARY_PREFIX) :])
            except json.JSONDecodeError:
                return None
    return None
