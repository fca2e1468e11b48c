"""Tasks recorded through the runner: crawls in a subprocess, grading, draws, evidence verification."""

from sqlalchemy import select

from core import db
from core.models import JobRun, SpotCheckDraw, VenueGrade
from jobs import runner, tasks
from tests.helpers import make_grid, make_inspector, make_job_run, make_venue
from tests.jobs.conftest import job_config


def _run(cfg, task, **args):
    run_id = runner.run_recorded(cfg, f"test:{task}", task, args)
    with db.session_scope(cfg) as s:
        return s.get(JobRun, run_id)


def test_crawl_runs_in_a_subprocess_and_reads_its_summary(tmp_path, fake_crawler):
    cfg = job_config(tmp_path, [])
    run = _run(cfg, "crawl", source="wechat-demo")
    assert (run.status, run.pages, run.hits, run.error) == ("ok", 7, 2, None)
    assert run.detail["source"] == "wechat-demo" and run.detail["exit_code"] == 0
    assert run.detail["pid"] != 0 and run.ended_at is not None


def test_crawl_failures_are_recorded(tmp_path, fake_crawler):
    cfg = job_config(tmp_path, [])
    broken = _run(cfg, "crawl", source="broken")
    assert broken.status == "failed" and "without a CRAWL-SUMMARY" in broken.error
    assert "spider exploded" in broken.error and broken.detail["exit_code"] == 2
    captcha = _run(cfg, "crawl", source="captcha")
    assert captcha.status == "failed" and "captcha" in captcha.error and captcha.pages == 3


def test_a_hung_crawl_is_killed_at_its_timeout(tmp_path, fake_crawler):
    cfg = job_config(tmp_path, [], **{"jobs.crawl_timeout_minutes": 0.05})  # 3 s
    run = _run(cfg, "crawl", source="hang")
    assert run.status == "failed" and "killed after 3 s" in run.error


def test_crawl_child_gets_the_same_data_directory(tmp_path):
    cfg = job_config(tmp_path, [])
    env = tasks.child_environ(cfg)  # what tasks.crawl hands the crawl process
    assert env["WANGXUN_CORE__DATA_DIR"] == str(cfg.data_dir)
    assert env["WANGXUN_CORE__DATABASE_URL"] == cfg.database_url
    assert env["WANGXUN_CONFIG"] == str(cfg.path)


def test_grading_and_draw_tasks(tmp_path):
    cfg = job_config(tmp_path, [])
    with db.session_scope(cfg) as s:
        grid = make_grid(s)
        for _ in range(12):
            make_venue(s, grid=grid, category="歌舞娱乐")
        for _ in range(4):
            make_inspector(s)
    graded = _run(cfg, "grade_venues", as_of="2026-06-30")
    assert graded.status == "ok" and sum(graded.detail["grades"].values()) == 12
    drawn = _run(cfg, "run_draw", seed="fixed", publish=True)
    assert drawn.status == "ok" and drawn.detail["seed"] == "fixed"
    with db.session_scope(cfg) as s:
        assert len(s.scalars(select(VenueGrade)).all()) == 12
        draw = s.get(SpotCheckDraw, drawn.detail["draw"])
        assert draw.published and draw.seed == "fixed"


def test_evidence_verification_fails_the_run_on_problems(tmp_path, monkeypatch):
    cfg = job_config(tmp_path, [])
    assert _run(cfg, "verify_evidence").status == "ok"
    import evidence

    def broken(cfg, progress=True):
        report = evidence.VerifyReport(checked=2)
        report.problems.append(evidence.Problem(seq=2, evidence_id=2, what="record_hash", detail="mismatch"))
        return report

    monkeypatch.setattr(evidence, "verify", broken)
    run = _run(cfg, "verify_evidence")
    assert run.status == "failed" and "1 problem(s)" in run.error
    assert run.detail["problems"] == ["record seq 2 (evidence id 2): record_hash: mismatch"]


def test_unknown_task_is_a_recorded_failure(tmp_path):
    cfg = job_config(tmp_path, [])
    run = _run(cfg, "no_such_task")
    assert run.status == "failed" and "unknown task" in run.error


def test_alert_check_counts_new_alerts(tmp_path):
    from tests.helpers import make_hit, make_saved_search, make_user

    cfg = job_config(tmp_path, [])
    assert _run(cfg, "check_alerts").hits == 0
    with db.session_scope(cfg) as s:
        user = make_user(s, role="patrol")
        make_saved_search(s, user, "港澳游")
        make_hit(s, title="低价港澳游 无需资质", text="低价港澳游，随时出发")
    run = _run(cfg, "check_alerts")
    assert run.status == "ok" and run.hits == run.detail["alerts"] == 1, run.error


def test_a_job_running_in_another_live_process_is_skipped(tmp_path, monkeypatch):
    import os

    monkeypatch.setitem(tasks.TASKS, "fine", lambda cfg: tasks.TaskResult(pages=1))
    cfg = job_config(tmp_path, [])
    with db.session_scope(cfg) as s:  # a `wangxun run` by hand still going (this test process is alive)
        make_job_run(s, "crawl:x", pid=os.getpid())
        make_job_run(s, "crawl:y", pid=2**22 + 7)  # a dead process
    skipped = runner.run_recorded(cfg, "crawl:x", "fine", {})
    ran = runner.run_recorded(cfg, "crawl:y", "fine", {})
    with db.session_scope(cfg) as s:
        assert s.get(JobRun, skipped).status == "skipped" and "already running" in s.get(JobRun, skipped).error
        assert s.get(JobRun, ran).status == "ok"
