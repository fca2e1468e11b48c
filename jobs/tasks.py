"""The scheduled tasks: plain functions of the config that return what they did.

Each task returns a TaskResult (pages, hits, detail) and raises on failure; jobs/runner.py records
either outcome in JobRun. Crawls run in their own process (`python -m crawlers SOURCE`), so a crawler
that leaks memory or hangs cannot take the scheduler down, and Scrapy's reactor starts fresh each time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from core import db
from core.children import die_with_parent
from core.config import PROJECT_ROOT, Config, child_environ
from crawlers.summary import parse_summary_line

log = logging.getLogger(__name__)
# The module run as `python -m <CRAWLER_MODULE> SOURCE`; tests point it at a stand-in crawler.
CRAWLER_MODULE = "crawlers"
_children: set[subprocess.Popen] = set()
_children_lock = threading.Lock()
_stopping = threading.Event()
# Crawl exit codes that still mean the crawl did its work (finished, or stopped at its page budget).
CRAWL_OK_STATES = ("finished", "budget")


@dataclasses.dataclass
class TaskResult:
    pages: int = 0
    hits: int = 0
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)


class TaskFailed(Exception):
    """A task that ran but did not succeed; `result` keeps what it did manage (pages, hits, detail)."""

    def __init__(self, message: str, result: TaskResult | None = None):
        super().__init__(message)
        self.result = result or TaskResult()


def crawl(cfg: Config, source: str) -> TaskResult:
    """Crawl one source in a subprocess with a time limit; pages and hits come from its CRAWL-SUMMARY line."""
    timeout = float(cfg.jobs.crawl_timeout_minutes) * 60
    cmd = [sys.executable, "-m", CRAWLER_MODULE, source]
    proc = subprocess.Popen(
        cmd,
        cwd=PROJECT_ROOT,
        env=child_environ(cfg),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        preexec_fn=die_with_parent,  # a crawl dies with the scheduler (or demo) that started it
    )
    with _children_lock:
        _children.add(proc)
        if _stopping.is_set():  # the scheduler began shutting down while this crawl was starting
            proc.terminate()
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, _ = proc.communicate()
        # Keep whatever summary it printed before it was killed.
        raise TaskFailed(
            f"crawl of {source} killed after {timeout:g} s", _crawl_result(parse_summary_line(stdout))
        ) from None
    finally:
        with _children_lock:
            _children.discard(proc)
    summary = parse_summary_line(stdout)
    result = _crawl_result(summary)
    result.detail["exit_code"] = proc.returncode
    if summary is None:
        raise TaskFailed(
            f"crawl of {source} exited {proc.returncode} without a CRAWL-SUMMARY line: {_tail(stderr)}", result
        )
    if proc.returncode != 0 or summary.get("state") not in CRAWL_OK_STATES:
        raise TaskFailed(
            f"crawl of {source} ended {summary.get('state')} (exit {proc.returncode}): {_tail(stderr)}", result
        )
    return result


def stop_crawls() -> int:
    """Ask running crawl subprocesses to stop (SIGTERM: the crawler saves its state and can resume).

    Called when the scheduler shuts down, so stopping it does not wait for hours-long crawls."""
    with _children_lock:
        _stopping.set()
        running = [p for p in _children if p.poll() is None]
        for p in running:
            p.terminate()
    return len(running)


def allow_crawls() -> None:
    """Undo stop_crawls() (a scheduler started again in the same process, as tests do)."""
    _stopping.clear()


def check_alerts(cfg: Config) -> TaskResult:
    """Saved-search alerts (关键词监控): new matches since the last check become alerts. When the index
    is behind (down, or blocked), the run fails and says so: some hits could not be checked yet."""
    from search.alerts import run_alerts

    run = run_alerts(cfg)
    result = TaskResult(hits=run.created, detail={"alerts": run.created})
    if run.behind:
        result.detail["index_behind"] = run.behind
        raise TaskFailed(f"搜索索引滞后 index behind: {run.behind}", result)
    return result


def grade_venues(cfg: Config, as_of: str | None = None) -> TaskResult:
    """Nightly 分级分类 risk grading of every venue; each run's grades are kept."""
    from grids import grading

    day = dt.date.fromisoformat(as_of) if as_of else local_today(cfg)
    with db.session_scope(cfg) as s:
        run = grading.grade_all(s, grading.GradingParams.from_config(cfg.grading), day)
        counts = grading.grade_counts(s, run.id)
        run_id = run.id
    return TaskResult(detail={"grading_run": run_id, "as_of": day.isoformat(), "grades": counts})


def run_draw(cfg: Config, seed: str | None = None, publish: bool = False) -> TaskResult:
    """The monthly 双随机 draw with `[draws]` rates; its seed is stored so it can be reproduced."""
    from grids import draws

    with db.session_scope(cfg) as s:
        row = draws.draw(s, draws.DrawParams.from_config(cfg.draws), seed=seed, as_of=local_today(cfg))
        if publish:
            draws.publish(s, row.id)
        n = len(draws.public_list(s, row.id))
        draw_id, used_seed = row.id, row.seed
    return TaskResult(detail={"draw": draw_id, "seed": used_seed, "venues": n, "published": publish})


def verify_evidence(cfg: Config) -> TaskResult:
    """Walk the evidence hash chain and every stored file, and check it against its signed anchors
    (the last anchored head must still be in the chain); any problem fails the run and lists it. A
    clean chain's new head is then anchored. The newest anchor an earlier job run recorded must still
    be in the anchors file (a file cut back to an older line is noticed)."""
    from evidence import anchor, verify

    witness = _last_recorded_anchor(cfg)
    report = verify(cfg, progress=False, **({"witness": witness} if witness else {}))
    last = report.last_anchor
    detail = {
        "checked": report.checked,
        "files_checked": report.files_checked,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
        "last_anchored": {"n": last["n"], "seq": last["seq"], "head": last["head"]} if last else None,
        "problems": [str(p) for p in report.problems[:50]],
    }
    if report.anchor_note:
        detail["anchor_note"] = report.anchor_note
    if not report.ok:
        raise TaskFailed(
            f"evidence chain has {len(report.problems)} problem(s); first: {report.problems[0]}",
            TaskResult(detail=detail),
        )
    if anchor.load_public_key(cfg) is not None:  # anchoring is set up: sign tonight's head
        detail["anchor"] = anchor.try_anchor(cfg, "nightly")
        if "error" in detail["anchor"]:
            raise TaskFailed(f"evidence head not anchored: {detail['anchor']['error']}", TaskResult(detail=detail))
    return TaskResult(detail=detail)


def _last_recorded_anchor(cfg: Config) -> dict | None:
    """The newest anchor ({"n", "line_sha256"}) recorded by a job run (crawls and this job keep theirs)."""
    from sqlalchemy import select

    from core.models import JobRun

    best = None
    with db.session_scope(cfg) as s:
        for detail in s.scalars(select(JobRun.detail).order_by(JobRun.id.desc()).limit(500)):
            a = (detail or {}).get("anchor") if isinstance(detail, dict) else None
            if isinstance(a, dict) and isinstance(a.get("n"), int) and (best is None or a["n"] > best["n"]):
                best = {"n": a["n"], "line_sha256": a.get("line_sha256")}
    return best


TASKS: dict[str, Callable[..., TaskResult]] = {
    "crawl": crawl,
    "check_alerts": check_alerts,
    "grade_venues": grade_venues,
    "run_draw": run_draw,
    "verify_evidence": verify_evidence,
}


def local_today(cfg: Config) -> dt.date:
    """Today in the configured time zone (a run at 02:30 Beijing time grades "today", not UTC's yesterday)."""
    return dt.datetime.now(ZoneInfo(cfg.core.timezone)).date()


# ---------------------------------------------------------------- helpers


def _crawl_result(summary: dict | None) -> TaskResult:
    if summary is None:
        return TaskResult()
    return TaskResult(pages=int(summary.get("pages", 0)), hits=int(summary.get("hits", 0)), detail=dict(summary))


def _tail(text: str | None, lines: int = 5) -> str:
    return " | ".join((text or "").strip().splitlines()[-lines:])[-1000:]
