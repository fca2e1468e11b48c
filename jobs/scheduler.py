"""Wiring only: APScheduler with its job store in the project database, jobs upserted from config.

One scheduler process (`wangxun jobs` / `python -m jobs`) runs the jobs: it holds the lease in the
database (jobs.lease) and renews it. A second one, on this machine or another sharing the database,
waits as a hot standby and takes over once the lease expires (`[jobs] lease_seconds`). Each run is
recorded under its job id and scheduled time, which the database keeps unique, so a slot never runs
twice. The web app never runs a scheduler. Every job runs jobs.runner:execute with
max_instances=1 (a job never overlaps itself), coalesce=True (missed runs collapse into one) and a
misfire grace time from `[jobs]`.

A small in-memory heartbeat job wakes the scheduler every `wakeup_seconds`: pause, resume and run-now
done from the web app only edit the shared job store, and the wake-up makes this process see them.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from core import db
from core.config import Config
from jobs import runner, tasks
from jobs.definitions import JobDef, load_definitions
from jobs.lease import Lease
from jobs.lease import current as current_lease

log = logging.getLogger(__name__)
JOBSTORE_TABLE = "apscheduler_jobs"
STORE = "default"
INTERNAL_STORE = "internal"
HEARTBEAT_ID = "_heartbeat"
STATUS_FILE = "scheduler.json"
JOB_FUNC = "jobs.runner:execute"
# Threads for concurrent jobs; crawls are subprocesses, so a thread mostly waits on them.
MAX_WORKERS = 4


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept_paused: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def build_scheduler(cfg: Config) -> BackgroundScheduler:
    return BackgroundScheduler(
        jobstores={STORE: make_jobstore(cfg), INTERNAL_STORE: MemoryJobStore()},
        executors={"default": SlotExecutor(MAX_WORKERS)},
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": int(cfg.jobs.misfire_grace_seconds)},
        timezone=ZoneInfo(cfg.core.timezone),
    )


class SlotExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, noting the scheduled time of each run it is handed (the last of a
    coalesced batch) for jobs.runner, which records the run under (job id, scheduled time)."""

    def submit_job(self, job, run_times):
        runner.note_slot(job.id, run_times[-1])
        super().submit_job(job, run_times)


def make_jobstore(cfg: Config) -> SQLAlchemyJobStore:
    # The engine from core.db (the only opener): same SQLite busy timeout and WAL as everyone else.
    return SQLAlchemyJobStore(engine=db.get_engine(cfg), tablename=JOBSTORE_TABLE)


def start(cfg: Config) -> tuple[BackgroundScheduler, SyncReport]:
    """Start a scheduler thread with the configured jobs (callers: serve() and tests)."""
    runner.bind(cfg)
    runner.mark_interrupted(cfg)
    tasks.allow_crawls()
    scheduler = build_scheduler(cfg)
    scheduler.start(paused=True)  # job stores open, nothing runs until the jobs are in sync
    report = sync_jobs(scheduler, load_definitions(cfg), cfg.core.timezone)
    scheduler.add_job(
        _heartbeat,
        "interval",
        seconds=float(cfg.jobs.wakeup_seconds),
        id=HEARTBEAT_ID,
        jobstore=INTERNAL_STORE,
        args=[str(cfg.data_dir / STATUS_FILE)],
        replace_existing=True,
    )
    status_path = cfg.data_dir / STATUS_FILE
    scheduler.add_listener(lambda _event: _write_status(status_path, running=False), EVENT_SCHEDULER_SHUTDOWN)
    scheduler.resume()
    _write_status(status_path, running=True)
    return scheduler, report


def sync_jobs(scheduler, defs: list[JobDef], timezone: str) -> SyncReport:
    """Upsert configured jobs by id and drop stored jobs no longer configured.

    A job whose trigger did not change keeps its stored next run time (so an interval does not restart
    with every restart of the scheduler) and stays paused if an admin paused it.
    """
    report = SyncReport()
    stored = {job.id: job for job in scheduler.get_jobs(jobstore=STORE)}
    for d in defs:
        trigger = d.trigger(timezone)
        kwargs = {}
        old = stored.get(d.id)
        if old is not None and str(old.trigger) == str(trigger):
            kwargs["next_run_time"] = old.next_run_time  # None keeps it paused
            if old.next_run_time is None:
                report.kept_paused.append(d.id)
        scheduler.add_job(
            JOB_FUNC,
            trigger,
            id=d.id,
            name=d.id,
            args=[d.id, d.task, dict(d.args)],
            jobstore=STORE,
            replace_existing=True,
            **kwargs,
        )
        (report.updated if old is not None else report.added).append(d.id)
    for job_id in sorted(set(stored) - {d.id for d in defs}):
        scheduler.remove_job(job_id, jobstore=STORE)
        report.removed.append(job_id)
    return report


def serve(cfg: Config, stop: threading.Event | None = None, lease: Lease | None = None) -> None:
    """Run the scheduler until SIGINT/SIGTERM (or `stop` is set). While another process holds the
    lease, wait as a standby and take over when it expires."""
    stop = stop or threading.Event()
    # APScheduler logs every heartbeat at INFO; jobs.runner logs the start and end of real jobs.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    lease = lease or Lease(cfg)
    if not _wait_for_lease(cfg, lease, stop):
        return
    scheduler, report = start(cfg)
    log.info(
        "scheduler started (%s): %d job(s) added, %d updated, %d removed, paused: %s",
        lease.holder,
        len(report.added),
        len(report.updated),
        len(report.removed),
        report.kept_paused or "none",
    )
    try:
        while not stop.wait(lease.seconds / 3):
            if not lease.renew():
                log.error("the scheduler lease was taken by another process; this one stops scheduling")
                break
    finally:
        # No new runs; crawls get SIGTERM (they stop cleanly and resume next time); other jobs finish.
        scheduler.pause()
        stopped = tasks.stop_crawls()
        if stopped:
            log.info("asked %d running crawl(s) to stop", stopped)
        scheduler.shutdown(wait=True)
        tasks.allow_crawls()
        lease.release()


def _wait_for_lease(cfg: Config, lease: Lease, stop: threading.Event) -> bool:
    """True once this process holds the lease; False if stopped while waiting as a standby."""
    said = False
    while not stop.is_set():
        if lease.acquire():
            if said:
                log.warning("took over as the scheduler (%s)", lease.holder)
            return True
        if not said:
            held = current_lease(cfg)
            log.warning(
                "standby: the scheduler runs as %s (lease until %s UTC); waiting to take over",
                held.holder,
                held.expires_at,
            )
            said = True
        stop.wait(min(5.0, max(0.2, lease.seconds / 6)))
    return False


def read_status(cfg: Config) -> dict | None:
    """The scheduler's last heartbeat ({pid, beat_at, running}) for the jobs page; None if never run."""
    try:
        return json.loads((cfg.data_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _heartbeat(status_path: str) -> None:
    _write_status(Path(status_path), running=True)


def _write_status(path: Path, running: bool) -> None:
    data = {
        "pid": os.getpid(),
        "beat_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "running": running,
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)
