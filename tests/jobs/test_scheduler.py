"""The scheduler: jobs persist in the database job store, never overlap, and failures are recorded."""

import threading
import time

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED
from sqlalchemy import select

from core import db
from core.models import JobRun
from jobs import control, scheduler, tasks
from tests.helpers import make_job_run
from tests.jobs.conftest import WAIT_S, Gate, job_config

GRADING = {"id": "grading", "task": "grade_venues", "cron": "30 2 * * *"}
ALERTS = {"id": "alerts", "task": "check_alerts", "interval_minutes": 15}


def _runs(cfg, job_id):
    with db.session_scope(cfg) as s:
        return list(s.scalars(select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.id)))


def _on(sched, mask, job_id):
    """An Event set when the scheduler reports `mask` for `job_id`."""
    seen = threading.Event()
    sched.add_listener(lambda ev: seen.set() if ev.job_id == job_id else None, mask)
    return seen


def test_jobs_and_next_run_times_survive_a_restart(tmp_path, started):
    cfg = job_config(tmp_path, [GRADING, ALERTS])
    first, report = started(cfg)
    assert sorted(report.added) == ["alerts", "grading"]
    before = {j.id: j.next_run_time for j in first.get_jobs(jobstore=scheduler.STORE)}
    first.shutdown(wait=True)
    # Between processes the jobs are in the database, readable without a scheduler.
    assert {j.id: j.next_run_time for j in control.list_jobs(cfg)} == before
    control.pause(cfg, "alerts")

    second, report = started(cfg)
    after = {j.id: j.next_run_time for j in second.get_jobs(jobstore=scheduler.STORE)}
    assert sorted(report.updated) == ["alerts", "grading"] and report.added == []
    assert after["grading"] == before["grading"]
    assert after["alerts"] is None and report.kept_paused == ["alerts"]  # an admin's pause is kept


def test_config_changes_replace_and_remove_jobs_by_id(tmp_path, started):
    cfg = job_config(tmp_path, [GRADING, ALERTS])
    sched, _ = started(cfg)
    sched.shutdown(wait=True)
    changed = job_config(tmp_path, [{**GRADING, "cron": "0 4 * * *"}])
    sched, report = started(changed)
    jobs = {j.id: j for j in sched.get_jobs(jobstore=scheduler.STORE)}
    assert report.removed == ["alerts"] and list(jobs) == ["grading"]
    assert jobs["grading"].next_run_time.hour == 4 and jobs["grading"].max_instances == 1
    assert jobs["grading"].coalesce is True and jobs["grading"].misfire_grace_time == 3600


def test_a_job_never_overlaps_itself(tmp_path, started, monkeypatch):
    gate = Gate()
    monkeypatch.setitem(tasks.TASKS, "gate", gate)
    cfg = job_config(tmp_path, [{"id": "slow", "task": "gate", "interval_hours": 24}])
    sched, _ = started(cfg)
    submitted = _on(sched, EVENT_JOB_SUBMITTED, "slow")
    refused = _on(sched, EVENT_JOB_MAX_INSTANCES, "slow")
    done = _on(sched, EVENT_JOB_EXECUTED, "slow")
    control.run_now(cfg, "slow")
    assert gate.started.wait(WAIT_S), "the job never started"
    # After handing a due job to its executor the scheduler writes the job's next run time (from the
    # trigger) back to the store, and only then reports the submission. The job's thread can start
    # before that write, so a run-now stored in between would be overwritten and never tried: wait for
    # the report before asking again.
    assert submitted.wait(WAIT_S), "the scheduler never reported the first submission"
    control.run_now(cfg, "slow")  # fired again while the first run is still going
    assert refused.wait(WAIT_S), "the scheduler never tried the second run"
    gate.release.set()
    assert done.wait(WAIT_S)
    sched.shutdown(wait=True)
    assert (gate.calls, gate.most_at_once) == (1, 1)
    runs = _runs(cfg, "slow")
    assert [(r.status, r.pages) for r in runs] == [("ok", 1)]


def test_a_crashing_job_is_recorded_and_the_scheduler_goes_on(tmp_path, started, monkeypatch):
    def boom(cfg):
        raise RuntimeError("database of venues is on fire")

    monkeypatch.setitem(tasks.TASKS, "boom", boom)
    monkeypatch.setitem(tasks.TASKS, "fine", lambda cfg: tasks.TaskResult(pages=3, hits=1))
    cfg = job_config(
        tmp_path,
        [{"id": "bad", "task": "boom", "interval_hours": 24}, {"id": "good", "task": "fine", "interval_hours": 24}],
    )
    sched, _ = started(cfg)
    bad_done, good_done = _on(sched, EVENT_JOB_EXECUTED, "bad"), _on(sched, EVENT_JOB_EXECUTED, "good")
    control.run_now(cfg, "bad")
    assert bad_done.wait(WAIT_S)
    control.run_now(cfg, "good")
    assert good_done.wait(WAIT_S) and sched.running
    [bad] = _runs(cfg, "bad")
    assert bad.status == "failed" and bad.error == "RuntimeError: database of venues is on fire"
    assert "Traceback" in bad.detail["traceback"] and bad.ended_at >= bad.started_at
    [good] = _runs(cfg, "good")
    assert (good.status, good.pages, good.hits, good.error) == ("ok", 3, 1, None)
    last = {j.id: j for j in control.list_jobs(cfg)}
    assert last["bad"].last_status == "failed" and last["good"].last_status == "ok"


def test_serve_runs_until_stopped_and_marks_dead_runs(tmp_path):
    cfg = job_config(tmp_path, [GRADING])
    with db.session_scope(cfg) as s:  # a run whose process died (above Linux's PID_MAX_LIMIT, so never alive)
        make_job_run(s, "grading", task="grade_venues", pid=2**22 + 12345)
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.serve, args=(cfg, stop))
    thread.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while not (scheduler.read_status(cfg) or {}).get("running"):
            assert time.monotonic() < deadline, "the scheduler never reported itself running"
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(WAIT_S)
    assert not thread.is_alive() and scheduler.read_status(cfg)["running"] is False
    [run] = _runs(cfg, "grading")
    assert run.status == "failed" and run.error.startswith("interrupted")


def test_stopping_the_scheduler_stops_running_crawls(tmp_path, fake_crawler):
    cfg = job_config(
        tmp_path, [{"id": "crawl:hang", "task": "crawl", "interval_hours": 24, "args": {"source": "hang"}}]
    )
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.serve, args=(cfg, stop))
    thread.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while not (scheduler.read_status(cfg) or {}).get("running"):
            assert time.monotonic() < deadline, "the scheduler never reported itself running"
            stop.wait(0.05)
        control.run_now(cfg, "crawl:hang")
        while not _runs(cfg, "crawl:hang"):
            assert time.monotonic() < deadline, "the crawl never started"
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(WAIT_S)
    assert not thread.is_alive()  # did not wait for the 10-minute crawl
    [run] = _runs(cfg, "crawl:hang")
    assert run.status == "failed" and "without a CRAWL-SUMMARY" in run.error
