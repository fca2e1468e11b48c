"""Shared set-up of the crawl benchmarks: a sample site with many generated pages, a sources file
naming them, and a crawl subprocess run the way the scheduler runs it."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from crawlers.summary import parse_summary_line
from samplesite.content import DATA_PATH

ROOT = Path(__file__).resolve().parent.parent


def many_posts(channel: str, count: int, out: Path) -> list[dict]:
    """`count` posts of one channel, cloned from the sample data with fresh keys; written to `out`."""
    posts = json.loads(DATA_PATH.read_text(encoding="utf-8"))["posts"]
    base = [p for p in posts if p["channel"] == channel and p.get("status", "ok") == "ok"]
    made = []
    for i in range(count):
        p = copy.deepcopy(base[i % len(base)])
        p["id"], p["key"] = f"b{i:06d}", f"{p['key']}{i:06d}" if channel != "kongfz" else str(900000 + i)
        p["title"] = f"{p['title']}（{i}）"
        made.append(p)
    out.write_text(json.dumps({"posts": made}, ensure_ascii=False), encoding="utf-8")
    return made


def write_sources(path: Path, name: str, urls: list[str], **fields) -> None:
    lines = ["[[sources]]", f'name = "{name}"', f"start_urls = {json.dumps(urls)}"]
    # The sample site is on loopback, which the egress policy refuses unless the source names it.
    fields.setdefault("private_addresses", sorted({urlsplit(u).netloc for u in urls}))
    lines += [f"{k} = {_toml(v)}" for k, v in fields.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _toml(value) -> str:
    """A TOML value: JSON's strings, numbers and lists are TOML too; tables need `key = value`."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def crawl_env(workdir: Path, sources: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not (k.startswith("WANGXUN_") and "__" in k)}
    env.update(
        {
            "WANGXUN_CORE__DATA_DIR": str(workdir / "var"),
            "WANGXUN_CORE__DATABASE_URL": "",
            "WANGXUN_CRAWL__SOURCES_FILE": str(sources),
            "WANGXUN_CRAWL__AUTOTHROTTLE": "false",
            "WANGXUN_SEARCH__BACKEND": "embedded",
            "WANGXUN_EVIDENCE__ANCHOR_KEY_FILE": str(workdir / "keys" / "evidence-anchor.key"),  # not ~/.config
        }
    )
    return env


def start_pipeline_crawl(source: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.Popen:
    """`python -m crawlers SOURCE` in `cwd`: this checkout's crawler, or (with `cwd` and PYTHONPATH
    naming another checkout) that checkout's, since both come before the installed packages."""
    return subprocess.Popen(
        [sys.executable, "-m", "crawlers", source],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate()
    summary = parse_summary_line(out)
    if proc.returncode != 0 or summary is None:
        raise SystemExit(f"crawl failed ({proc.returncode}):\n{err[-3000:]}")
    return summary


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="wangxun-bench-"))
