"""A standby scheduler (#17): one scheduler holds the lease in the database and runs the jobs; a second
waits, takes over once the first is killed -9, and no job's scheduled run is recorded (or run) twice.
How long the takeover takes is measured by bench/scheduler_takeover.py, not asserted here."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from collections import Counter

import pytest
from sqlalchemy import select

from core import db
from core.models import JobRun
from jobs import lease as leases
from jobs import runner
from tests.conftest import PROJECT_ROOT
from tests.helpers import wait_for
from tests.jobs.conftest import WAIT_S, job_config

BOUND_S = 180  # generous: two Python processes starting on a busy 2-core machine


def _wait(what: str, check, bound: float = BOUND_S):
    return wait_for(what, check, bound)


@pytest.mark.both_engines
def test_one_holder_at_a_time_and_an_expired_lease_changes_hands(cfg):
    first, second = leases.Lease(cfg, "a:1:x", seconds=1.0), leases.Lease(cfg, "b:2:y", seconds=1.0)
    assert first.acquire() and not second.acquire()
    assert first.renew() and first.acquire()  # renewing, or taking again what is ours, succeeds
    assert leases.current(cfg).holder == "a:1:x"
    # The first stops renewing (killed): once its lease has expired the second takes it…
    _wait("the expired lease to be taken", second.acquire, bound=WAIT_S)
    assert leases.current(cfg).holder == "b:2:y"
    # …and the first, should it wake up, learns it no longer holds it.
    assert not first.renew() and not first.acquire()
    second.release()  # a clean stop hands over at once
    assert first.acquire()


@pytest.mark.both_engines
def test_two_processes_racing_for_a_free_lease_never_both_win(cfg):
    won: list[str] = []
    go = threading.Barrier(8)

    def race(n: int) -> None:
        lease = leases.Lease(cfg, f"racer:{n}", seconds=60)
        go.wait()
        if lease.acquire():
            won.append(lease.holder)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT_S)
    assert len(won) == 1 and leases.current(cfg).holder == won[0]


@pytest.mark.both_engines
def test_a_scheduled_slot_is_recorded_and_run_once(cfg):
    ran: list[int] = []
    runner.TASKS["count"] = lambda cfg: ran.append(1) or runner.TaskResult()
    try:
        slot = dt.datetime(2026, 12, 6, 2, 30)
        first = runner.run_recorded(cfg, "grading", "count", {}, scheduled_for=slot)
        again = runner.run_recorded(cfg, "grading", "count", {}, scheduled_for=slot)
        later = runner.run_recorded(cfg, "grading", "count", {}, scheduled_for=slot + dt.timedelta(days=1))
        by_hand = [runner.run_recorded(cfg, "grading", "count", {}) for _ in range(2)]  # no slot: never refused
    finally:
        del runner.TASKS["count"]
    assert first is not None and again is None and later is not None and None not in by_hand
    assert len(ran) == 4


def test_the_standby_takes_over_after_a_kill_and_no_slot_runs_twice(tmp_path):
    schedule = tmp_path / "schedule.toml"
    schedule.write_text('[[schedule]]\nid = "tick"\ntask = "check_alerts"\ninterval_seconds = 1\n', encoding="utf-8")
    cfg = job_config(tmp_path, [])
    env = {
        "WANGXUN_CORE__DATA_DIR": str(cfg.data_dir),
        "WANGXUN_CORE__DATABASE_URL": "",
        "WANGXUN_EVIDENCE__ANCHOR_KEY_FILE": str(tmp_path / "keys" / "evidence-anchor.key"),
        "WANGXUN_SEARCH__BACKEND": "embedded",
        "WANGXUN_JOBS__SCHEDULE_FILE": str(schedule),
        "WANGXUN_JOBS__CRAWL_CRON": "",
        "WANGXUN_JOBS__WAKEUP_SECONDS": "0.2",
        "WANGXUN_JOBS__LEASE_SECONDS": "3",
    }
    env = {**{k: v for k, v in os.environ.items() if not (k.startswith("WANGXUN_") and "__" in k)}, **env}

    def scheduler() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "jobs"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def holder_pid() -> int | None:
        holder = leases.current(cfg).holder
        return int(holder.split(":")[-2]) if holder else None

    def runs() -> list[JobRun]:
        with db.session_scope(cfg) as s:
            return list(s.scalars(select(JobRun).where(JobRun.job_id == "tick").order_by(JobRun.id)))

    active = scheduler()
    standby = None
    try:
        _wait("the first scheduler to take the lease", lambda: holder_pid() == active.pid)
        _wait("the first scheduler's runs", lambda: sum(r.status == "ok" for r in runs()) >= 2)
        standby = scheduler()
        # The standby says so, and runs nothing while the first renews its lease.
        line = _wait("the standby's line", lambda: standby.stderr.readline())
        assert "standby" in line and str(active.pid) in line, line
        before = len(runs())
        _wait("more runs by the first scheduler", lambda: len(runs()) >= before + 3)
        assert holder_pid() == active.pid
        assert {r.detail["pid"] for r in runs()} == {active.pid}

        active.send_signal(signal.SIGKILL)
        active.wait(timeout=60)
        _wait("the standby to take over", lambda: holder_pid() == standby.pid)
        _wait(
            "runs by the standby", lambda: sum(r.detail["pid"] == standby.pid and r.status == "ok" for r in runs()) >= 2
        )
    finally:
        for proc in (active, standby):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
    recorded = runs()
    slots = Counter(r.scheduled_for for r in recorded)
    assert None not in slots and max(slots.values()) == 1, slots.most_common(3)
    assert {r.detail["pid"] for r in recorded} == {active.pid, standby.pid}
    # The run the kill interrupted (if any) is marked so by the new holder, not left "running".
    assert all(r.status in ("ok", "failed") for r in recorded), [(r.id, r.status) for r in recorded]
    assert standby.returncode == 0
