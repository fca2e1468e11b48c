"""The admin jobs page (pause, resume, run now without a scheduler in the web process) and draw pages."""

import datetime as dt
import os
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from core import db
from core.models import AuditLog, SearchOutbox
from jobs import control, scheduler
from tests.helpers import make_job_run
from tests.jobs.conftest import job_config, logged_in

# The moment pause, resume and run-now see as "now" (jobs.control reads the clock once per action).
CLOCK = dt.datetime(2026, 7, 1, 14, 5, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class _PinnedClock(dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return CLOCK.astimezone(tz) if tz is not None else CLOCK.replace(tzinfo=None)


def test_jobs_page_lists_and_steers_stored_jobs(tmp_path, monkeypatch, world, cfg, app):
    jobs_cfg = job_config(tmp_path, [{"id": "grading", "task": "grade_venues", "cron": "30 2 * * *"}])
    assert jobs_cfg.database_url == cfg.database_url
    sched, _ = scheduler.start(jobs_cfg)  # stores the configured jobs, as `wangxun jobs` would
    sched.shutdown(wait=True)
    with db.session_scope(cfg) as s:
        make_job_run(s, "grading", status="failed", error="ValueError: 测试错误", ended_at=dt.datetime(2026, 1, 1))
    monkeypatch.setattr(control, "datetime", _PinnedClock)
    admin, patrol = logged_in(app, "admin"), logged_in(app, "patrol")
    assert patrol.get("/admin/jobs").status_code == 403
    page = admin.get("/admin/jobs")
    assert page.status_code == 200 and 'data-job="grading"' in page.text and "测试错误" in page.text
    assert "调度进程未运行" in page.text  # its heartbeat says it stopped

    admin.post("/admin/jobs/pause", data={"csrf_token": admin.csrf, "job_id": "grading"})
    assert control.list_jobs(cfg)[0].paused
    assert "已暂停" in admin.get("/admin/jobs").text
    admin.post("/admin/jobs/resume", data={"csrf_token": admin.csrf, "job_id": "grading"})
    resumed = control.list_jobs(cfg)[0].next_run_time
    assert resumed == dt.datetime(2026, 7, 2, 2, 30, tzinfo=CLOCK.tzinfo)  # the cron's next fire after CLOCK
    resp = admin.post("/admin/jobs/run", json={"job_id": "grading"}, headers={"X-CSRFToken": admin.csrf})
    asked = dt.datetime.fromisoformat(resp.get_json()["next_run_time"])
    # Run-now stores "due at CLOCK": the scheduler process runs it at its next wake-up.
    assert asked == CLOCK and control.list_jobs(cfg)[0].next_run_time == CLOCK
    assert (
        admin.post("/admin/jobs/run", json={"job_id": "nope"}, headers={"X-CSRFToken": admin.csrf}).status_code == 404
    )
    api = admin.get("/api/jobs").get_json()
    assert api["jobs"][0]["id"] == "grading" and api["runs"][0]["error"] == "ValueError: 测试错误"
    with db.session_scope(cfg) as s:
        actions = [a.action for a in s.scalars(select(AuditLog).where(AuditLog.object_type == "job"))]
    assert actions == ["job_pause", "job_resume", "job_run"]


def test_jobs_page_shows_unknown_layouts_and_shells_of_crawl_runs(cfg, app, world):
    summary = {"source": "shop_search", "pages": 12, "hits": 1, "gone": 0, "unknown_layout": 3, "needs_render": 1}
    with db.session_scope(cfg) as s:
        crawl = make_job_run(s, "crawl:shop_search", status="ok", task="crawl", detail=summary, pages=12, hits=1)
        old = make_job_run(s, "crawl:old", status="ok", task="crawl", detail={"source": "old", "pages": 2})
        grading = make_job_run(s, "grading", status="ok")
        ids = crawl.id, old.id, grading.id
    page = logged_in(app, "admin").get("/admin/jobs")
    assert page.status_code == 200 and "版式" in page.text
    rows = {int(r.split("</td>", 1)[0]): r for r in page.text.split("<tr><td>")[1:] if r[:1].isdigit()}
    assert "版式未知 3" in rows[ids[0]] and "需渲染 1" in rows[ids[0]]
    assert "版式未知" not in rows[ids[1]] and "版式未知" not in rows[ids[2]]  # no counts: an older crawl, a task
    api = logged_in(app, "admin").get("/api/jobs").get_json()
    assert next(r for r in api["runs"] if r["id"] == ids[0])["detail"]["unknown_layout"] == 3


def test_the_jobs_page_says_when_the_index_is_behind(cfg, app, world):
    """Hits the index failed, or a reindex holds back, are an error on the jobs page, with the reason."""
    from search import outbox
    from search.backends.sqlite_fts import BuildLock

    page = logged_in(app, "admin").get("/admin/jobs").text
    assert "检索索引滞后" not in page  # the world's hits wait, but nothing failed yet
    with db.session_scope(cfg) as s:  # the index answered with an error for every waiting hit
        s.execute(update(SearchOutbox).values(attempts=1, last_error="Elasticsearch: ConnectionError: refused"))
    page = logged_in(app, "admin").get("/admin/jobs").text
    assert "检索索引滞后" in page and "ConnectionError: refused" in page and 'class="flash error"' in page
    with db.session_scope(cfg) as s:
        s.execute(update(SearchOutbox).values(attempts=0, last_error=None))
    builder = BuildLock(cfg)  # a reindex under way in "another process"
    assert builder.try_take()
    try:
        page = logged_in(app, "admin").get("/admin/jobs").text
        assert "检索索引正在重建" in page and f"pid {os.getpid()}" in page
    finally:
        builder.release()
    assert outbox.drain_report(cfg).ok
    assert "检索索引已是最新" in logged_in(app, "admin").get("/admin/jobs").text


def test_draw_pages_publish_and_public_list(cfg, app, world):
    admin, patrol = logged_in(app, "admin"), logged_in(app, "patrol")
    assert patrol.post("/draws", data={"csrf_token": patrol.csrf}).status_code == 403
    resp = admin.post("/draws", data={"csrf_token": admin.csrf, "seed": "2026年7月", "campaign": "暑期专项"})
    assert resp.status_code == 302
    draw_url = resp.headers["Location"]
    draw_id = int(draw_url.rstrip("/").rsplit("/", 1)[1])
    assert patrol.get(draw_url).status_code == 403  # unpublished: the admins' only (#12 finding 8)
    page = admin.get(draw_url)
    assert "2026年7月" in page.text and "按种子复现一致" in page.text and "暑期专项" in page.text
    anonymous = app.test_client()
    assert anonymous.get(f"/public/draws/{draw_id}").status_code == 404  # not published yet
    admin.post(f"/draws/{draw_id}/publish", data={"csrf_token": admin.csrf})
    public = anonymous.get(f"/public/draws/{draw_id}")
    assert public.status_code == 200 and "双随机抽查结果" in public.text
    csv_resp = anonymous.get(f"/public/draws/{draw_id}.csv")
    assert csv_resp.data.decode("utf-8-sig").startswith('"序号","检查对象"')  # text cells quoted (core.cells)
    assert f"#{draw_id}" in patrol.get("/draws").text and patrol.get(draw_url).status_code == 200
    assert patrol.get("/grading").status_code == 200
