"""The verbs: `wangxun run`, `wangxun grade`, `wangxun draw [--reproduce]`, `python -m jobs list`."""

import pytest

from core import db
from core.models import Inspector
from tests.helpers import make_grid, make_inspector, make_venue
from tests.jobs.conftest import job_config


@pytest.fixture
def cli_cfg(tmp_path, monkeypatch):
    cfg = job_config(tmp_path, [])
    # The verbs read config.toml plus the environment, like a deployment would.
    monkeypatch.setenv("WANGXUN_CORE__DATA_DIR", str(cfg.data_dir))
    monkeypatch.setenv("WANGXUN_JOBS__CRAWL_CRON", "")
    with db.session_scope(cfg) as s:
        grid = make_grid(s)
        for _ in range(5):
            make_venue(s, grid=grid, risk_grade="D")
        make_inspector(s, name="甲", badge_no="A1")
        make_inspector(s, name="乙", badge_no="A2")
    return cfg


def _wangxun(*argv):
    from core.cli import main

    try:
        main(list(argv))
    except SystemExit as exc:
        return exc.code or 0
    return 0


def test_grade_draw_and_reproduce(cli_cfg, capsys):
    assert _wangxun("grade", "--as-of", "2026-06-30") == 0
    assert "grading: ok" in capsys.readouterr().out
    assert _wangxun("draw", "--seed", "cli-seed", "--publish") == 0
    out = capsys.readouterr().out
    assert "draw: ok" in out and '"seed": "cli-seed"' in out and '"published": true' in out
    assert _wangxun("draw", "--reproduce", "1") == 0
    assert "reproduced exactly" in capsys.readouterr().out


def test_run_records_failures_with_a_nonzero_exit(cli_cfg, capsys):
    assert _wangxun("run", "no_such_task") == 1
    assert "unknown task" in capsys.readouterr().err
    with db.session_scope(cli_cfg) as s:
        s.query(Inspector).delete()
    assert _wangxun("run", "run_draw") == 1
    assert "failed" in capsys.readouterr().out


def test_python_m_jobs_lists_nothing_before_the_scheduler_ran(cli_cfg, capsys):
    from jobs.__main__ import main

    main(["list"])
    assert "no jobs stored yet" in capsys.readouterr().out


def test_pause_resume_and_trigger_stored_jobs(cli_cfg, capsys, monkeypatch):
    from jobs import control, scheduler
    from tests.jobs.conftest import job_config

    cfg = job_config(cli_cfg.data_dir.parent, [{"id": "grading", "task": "grade_venues", "cron": "30 2 * * *"}])
    sched, _ = scheduler.start(cfg)
    sched.shutdown(wait=True)
    assert _wangxun("jobs", "pause", "grading") == 0 and control.list_jobs(cfg)[0].paused
    assert _wangxun("jobs", "resume", "grading") == 0 and not control.list_jobs(cfg)[0].paused
    assert _wangxun("jobs", "trigger", "grading") == 0
    assert "due now" in capsys.readouterr().out
    assert _wangxun("jobs", "trigger", "nope") == 1
