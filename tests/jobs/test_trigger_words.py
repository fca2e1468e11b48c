"""The jobs page in words (#15 item 8): schedules as Chinese sentences, jobs and tasks by name; the raw
trigger only as the tooltip."""

import re

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jobs import scheduler
from tests.jobs.conftest import job_config, logged_in
from webmap.services import jobs as svc


def _said(trigger) -> str:
    return str(svc.describe_trigger(str(trigger)))


def test_cron_and_interval_triggers_read_as_sentences():
    assert _said(CronTrigger.from_crontab("0 2 * * *")) == "每天 02:00"
    assert _said(CronTrigger(day_of_week="mon", hour=8, minute=30)) == "每周一 08:30"
    # APScheduler 3 counts weekdays from Monday = 0, in crontab strings too: the page says what runs.
    assert _said(CronTrigger.from_crontab("30 8 * * 0")) == "每周一 08:30"
    assert _said(CronTrigger.from_crontab("0 9 * * 0-4")) == "每周一至周五 09:00"
    assert _said(CronTrigger.from_crontab("*/15 * * * *")) == "每 15 分钟"
    assert _said(CronTrigger.from_crontab("0 */6 * * *")) == "每天 00:00 起每 6 小时"
    assert _said(CronTrigger.from_crontab("0 6 1 * *")) == "每月 1 日 06:00"
    assert _said(IntervalTrigger(minutes=15)) == "每 15 分钟"
    assert _said(IntervalTrigger(days=1)) == "每 1 天"
    odd = str(CronTrigger.from_crontab("5 1-3 * * *"))
    assert str(svc.describe_trigger(odd)) == f"按计划规则 {odd}"  # no simple wording: says so


def test_jobs_are_named_by_the_vocabulary_their_source_or_their_task():
    assert str(svc.job_name("grading")) == "每晚风险分级"
    assert str(svc.job_name("crawl:shop_search", {"shop_search": "电商平台商品搜索"})) == "采集：电商平台商品搜索"
    assert str(svc.job_name("nightly-check", task="verify_evidence")) == "证据完整性核验"  # one an admin added
    assert str(svc.arg_text("source", "shop_search", {"shop_search": "电商平台商品搜索"})) == "来源：电商平台商品搜索"


def test_jobs_page_names_jobs_tasks_and_schedules(tmp_path, cfg, app, world):
    jobs_cfg = job_config(
        tmp_path,
        [
            {"id": "grading", "task": "grade_venues", "cron": "30 2 * * *"},
            {"id": "alerts", "task": "check_alerts", "interval_minutes": 15},
        ],
    )
    sched, _ = scheduler.start(jobs_cfg)
    sched.shutdown(wait=True)
    html = logged_in(app, "admin").get("/admin/jobs").text
    table = html.split('id="jobs"', 1)[1].split("</table>", 1)[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table))
    assert "每晚风险分级" in text and "风险分级" in text and "每天 02:30" in text
    assert "关键词监控检查" in text and "每 15 分钟" in text
    for raw in ("cron", "interval", "grade_venues", "check_alerts"):
        assert raw not in text, raw
