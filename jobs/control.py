"""Looking at and steering scheduled jobs from outside the scheduler process (the web app, the CLI).

Nothing here starts a scheduler. It opens the shared job store directly and edits a job's next run
time, which is all pause, resume and run-now are:

    pause   next_run_time = None
    resume  next_run_time = the trigger's next fire time from now
    run now next_run_time = now

The scheduler process reads due jobs from the store at every wake-up (at most `[jobs] wakeup_seconds`
apart), so a run-now starts within seconds, through the scheduler's own max_instances=1 guard: a job
that is already running is not started twice. Afterwards the scheduler sets the next run from the
trigger again.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler

from core.config import Config
from core.errors import UserError
from jobs import runner, scheduler


@dataclasses.dataclass
class JobInfo:
    id: str
    task: str
    args: dict
    trigger: str
    next_run_time: datetime | None
    last_status: str | None
    last_started_at: datetime | None
    last_ended_at: datetime | None
    last_error: str | None
    last_run_id: int | None

    @property
    def paused(self) -> bool:
        return self.next_run_time is None


def list_jobs(cfg: Config) -> list[JobInfo]:
    """Stored jobs in id order with their last run (the config is applied by the scheduler process)."""
    store = _open_store(cfg)
    jobs = sorted(store.get_all_jobs(), key=lambda j: j.id)
    last = runner.last_runs(cfg, [j.id for j in jobs])
    out = []
    for job in jobs:
        run = last.get(job.id)
        _job_id, task, args = (list(job.args) + [None, None, {}])[:3]
        out.append(
            JobInfo(
                id=job.id,
                task=task or "",
                args=dict(args or {}),
                trigger=str(job.trigger),
                next_run_time=job.next_run_time,
                last_status=run.status if run else None,
                last_started_at=run.started_at if run else None,
                last_ended_at=run.ended_at if run else None,
                last_error=run.error if run else None,
                last_run_id=run.id if run else None,
            )
        )
    return out


def pause(cfg: Config, job_id: str) -> Job:
    return _set_next_run(cfg, job_id, lambda job, now: None)


def resume(cfg: Config, job_id: str) -> Job:
    return _set_next_run(cfg, job_id, lambda job, now: job.trigger.get_next_fire_time(None, now))


def run_now(cfg: Config, job_id: str) -> Job:
    """Ask the scheduler process to run the job at its next wake-up; a paused job is resumed by it."""
    return _set_next_run(cfg, job_id, lambda job, now: now)


def scheduler_status(cfg: Config) -> dict | None:
    return scheduler.read_status(cfg)


# ---------------------------------------------------------------- helpers


def _open_store(cfg: Config):
    # A never-started scheduler owns the store only so stored jobs can be unpickled (they need its
    # time zone); no threads run and nothing is executed in this process.
    owner = BackgroundScheduler(timezone=ZoneInfo(cfg.core.timezone))
    store = scheduler.make_jobstore(cfg)
    store.start(owner, scheduler.STORE)
    return store


def _set_next_run(cfg: Config, job_id: str, compute) -> Job:
    store = _open_store(cfg)
    job = store.lookup_job(job_id)
    if job is None:
        raise UserError(f"no scheduled job {job_id!r} (the scheduler adds configured jobs when it starts)")
    now = datetime.now(ZoneInfo(cfg.core.timezone))
    # Job._modify is how APScheduler itself edits a job; the store then saves the new state.
    job._modify(next_run_time=compute(job, now))
    store.update_job(job)
    return job
