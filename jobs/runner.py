"""Running one task with its history: a JobRun row before it starts, updated when it ends.

`execute` is what the job store keeps a reference to ("jobs.runner:execute"), with plain arguments only,
so stored jobs survive restarts and code changes. It never raises: a failed task is written down as
status "failed" with its error, and the scheduler moves on to the next job.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import traceback
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import db
from core.config import Config
from core.models import JobRun, utcnow
from jobs.tasks import TASKS, TaskFailed, TaskResult

log = logging.getLogger(__name__)
_bound: Config | None = None
# job id -> the scheduled time of the run the executor was just handed (jobs.scheduler.SlotExecutor).
# A job never overlaps itself (max_instances=1), so one pending slot per job id is enough.
_slots: dict[str, dt.datetime] = {}
_slots_lock = threading.Lock()


def note_slot(job_id: str, scheduled: dt.datetime) -> None:
    """Remember the scheduled time of the run of `job_id` about to start (naive UTC)."""
    if scheduled.tzinfo is not None:
        scheduled = scheduled.astimezone(dt.timezone.utc).replace(tzinfo=None)
    with _slots_lock:
        _slots[job_id] = scheduled


def bind(cfg: Config) -> None:
    """Set the config scheduled jobs run with (the scheduler process calls this before starting)."""
    global _bound
    _bound = cfg


def execute(job_id: str, task: str, args: dict[str, Any] | None = None) -> int | None:
    """Entry point of scheduled jobs; returns the JobRun id (None if even recording failed)."""
    if _bound is None:
        log.error("job %s fired before jobs.runner.bind(cfg); not run", job_id)
        return None
    with _slots_lock:
        slot = _slots.pop(job_id, None)
    try:
        return run_recorded(_bound, job_id, task, args or {}, scheduled_for=slot)
    except Exception:  # noqa: BLE001 - e.g. the database is down; log it and keep the scheduler alive
        log.exception("job %s could not be recorded", job_id)
        return None


def run_recorded(
    cfg: Config,
    job_id: str,
    task: str,
    args: dict[str, Any],
    trigger: str = "schedule",
    scheduled_for: dt.datetime | None = None,
) -> int | None:
    """Run `task` now and record it; returns the JobRun id. Task errors are recorded, not raised.

    If the same job id is already running in a live process (the scheduler's run and a `wangxun run`
    by hand, say), this run is recorded as "skipped" instead: two crawls of one source must not share
    its crawl state. A scheduled run (`scheduled_for`, naive UTC) whose slot another scheduler already
    recorded is not run at all: None."""
    try:
        with db.session_scope(cfg) as s:
            holder = _live_run(s, job_id, cfg)
            detail = {"task": task, "args": args, "trigger": trigger, "pid": os.getpid()}
            run = JobRun(job_id=job_id, status="running", scheduled_for=scheduled_for, detail=detail)
            if holder is not None:
                run.status, run.ended_at = "skipped", utcnow()
                run.error = f"already running as run {holder.id} (pid {holder.detail.get('pid')})"
            s.add(run)
            s.flush()
            run_id = run.id
    except IntegrityError:
        log.warning("job %s for %s UTC was already run by another scheduler; not run again", job_id, scheduled_for)
        return None
    if holder is not None:
        log.warning("job %s not started: %s", job_id, run.error)
        return run_id
    log.info("job %s (%s) started, run %s", job_id, task, run_id)
    status, error, result = "ok", None, TaskResult()
    try:
        func = TASKS.get(task)
        if func is None:
            raise TaskFailed(f"unknown task {task!r}")
        result = func(cfg, **args)
    except TaskFailed as exc:
        status, error, result = "failed", str(exc), exc.result
    except Exception as exc:  # noqa: BLE001 - any crash of a task is recorded with its traceback
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        result.detail["traceback"] = traceback.format_exc()[-4000:]
    _finish(cfg, run_id, status, error, result, task, args, trigger)
    (log.info if status == "ok" else log.error)(
        "job %s run %s %s%s", job_id, run_id, status, f": {error}" if error else ""
    )
    return run_id


def mark_interrupted(cfg: Config) -> int:
    """Runs left "running" by a process that died: failed, so the history does not show them forever.

    A run whose process is still alive (a `wangxun run` started by hand) is left alone."""
    n = 0
    with db.session_scope(cfg) as s:
        for run in s.scalars(select(JobRun).where(JobRun.status == "running")):
            pid = (run.detail or {}).get("pid")
            if isinstance(pid, int) and pid != os.getpid() and _alive(pid):
                continue
            run.status, run.ended_at, n = "failed", utcnow(), n + 1
            run.error = "interrupted: the process running this job stopped"
    return n


def last_runs(cfg: Config, job_ids: list[str] | None = None) -> dict[str, JobRun]:
    """The newest JobRun of each job id."""
    out: dict[str, JobRun] = {}
    with db.session_scope(cfg) as s:
        q = select(JobRun).order_by(JobRun.id.desc()).limit(2000)
        if job_ids is not None:
            q = q.where(JobRun.job_id.in_(job_ids))
        for run in s.scalars(q):
            out.setdefault(run.job_id, run)
    return out


def _finish(
    cfg: Config,
    run_id: int,
    status: str,
    error: str | None,
    result: TaskResult,
    task: str,
    args: dict[str, Any],
    trigger: str,
) -> None:
    with db.session_scope(cfg) as s:
        run = s.get(JobRun, run_id)
        run.ended_at, run.status, run.error = utcnow(), status, error
        run.pages, run.hits = int(result.pages), int(result.hits)
        run.detail = {"task": task, "args": args, "trigger": trigger, "pid": os.getpid(), **_jsonable(result.detail)}


def _live_run(s, job_id: str, cfg: Config) -> JobRun | None:
    # Older "running" rows are leftovers whose pid may since belong to another process; no task runs
    # longer than a crawl's time limit.
    since = utcnow() - dt.timedelta(minutes=2 * float(cfg.jobs.crawl_timeout_minutes))
    for run in s.scalars(
        select(JobRun).where(JobRun.job_id == job_id, JobRun.status == "running", JobRun.started_at >= since)
    ):
        pid = (run.detail or {}).get("pid")
        if isinstance(pid, int) and _alive(pid):
            return run
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(detail, default=str, ensure_ascii=False))
