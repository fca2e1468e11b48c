"""Running crawls the way the scheduler does: `python -m crawlers SOURCE` in a subprocess."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from crawlers.summary import parse_summary_line
from tests.conftest import PROJECT_ROOT, make_config

E2E_SOURCES = Path(__file__).resolve().parent / "sources.toml"


def crawl_env(tmp_path: Path, site_url: str, database_url: str = "", **extra: str) -> dict[str, str]:
    """The environment of a crawl subprocess; `database_url` "" is the data_dir's SQLite file."""
    env = {k: v for k, v in os.environ.items() if not (k.startswith("WANGXUN_") and "__" in k)}
    env.update(
        {
            "WANGXUN_CORE__DATA_DIR": str(tmp_path / "var"),
            "WANGXUN_CORE__DATABASE_URL": database_url,
            "WANGXUN_CRAWL__SAMPLE_SITE_URL": site_url,
            "WANGXUN_CRAWL__SOURCES_FILE": str(E2E_SOURCES),
            "WANGXUN_CRAWL__AUTOTHROTTLE": "false",
            "WANGXUN_CRAWL__CAPTCHA_BACKOFF_S": "1",
            # Each engine's own search backend, as a deployment runs it.
            "WANGXUN_SEARCH__BACKEND": search_backend(database_url),
            # The path tests.conftest.make_config gives: never the user's real key in ~/.config.
            "WANGXUN_EVIDENCE__ANCHOR_KEY_FILE": str(tmp_path / "keys" / "evidence-anchor.key"),
            **extra,
        }
    )
    return env


def e2e_config(tmp_path: Path, site_url: str, database_url: str = ""):
    """The Config the crawl subprocess sees, for reading its database from the test."""
    return make_config(
        tmp_path,
        **{
            "crawl.sample_site_url": site_url,
            "crawl.sources_file": str(E2E_SOURCES),
            "core.database_url": database_url,
            "search.backend": search_backend(database_url),
        },
    )


def search_backend(database_url: str) -> str:
    return "postgres" if database_url.startswith("postgresql") else "embedded"


def start_crawl(source: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "crawlers", source],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_crawl(source: str, env: dict[str, str], timeout: float = 240) -> tuple[int, dict | None, str]:
    proc = start_crawl(source, env)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, parse_summary_line(out), err


@dataclasses.dataclass
class Journal:
    """What a crawl's journal file says: every scheduled request and how often it was closed."""

    scheduled: dict[str, dict]  # fingerprint → the request's spec
    done: Counter  # fingerprint → done lines

    @property
    def open(self) -> set[str]:
        return set(self.scheduled) - set(self.done)

    def done_of_kind(self, kind: str) -> set[str]:
        return {fp for fp in self.done if self.scheduled.get(fp, {}).get("kind") == kind}


def journal_path(tmp_path: Path, source: str) -> Path:
    return tmp_path / "var" / "crawl" / source / "journal.jsonl"


def read_journal(path: Path) -> Journal:
    """The journal as a crawl wrote it so far; a line still being written (or cut by a kill) is skipped."""
    journal = Journal({}, Counter())
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec["op"] == "enq":
            journal.scheduled[rec["fp"]] = rec["req"]
        elif rec["op"] == "done":
            journal.done[rec["fp"]] += 1
    return journal


def assert_closed_exactly_once(path: Path) -> Journal:
    """Every request the run scheduled was closed (stored, followed or given up), each exactly once."""
    journal = read_journal(path)
    assert journal.scheduled and not journal.open, sorted(journal.open)[:5]
    assert set(journal.done) == set(journal.scheduled)
    twice = {fp: n for fp, n in journal.done.items() if n != 1}
    assert not twice, twice
    return journal
