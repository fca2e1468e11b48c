"""Job definitions come from config.toml (and an optional schedule file) and are checked."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.errors import ConfigError
from jobs.definitions import JobDef, crontab_weekdays_named, load_definitions
from tests.conftest import make_config


def test_project_config_schedules_every_kind_of_job(tmp_path):
    cfg = make_config(tmp_path)
    defs = {d.id: d for d in load_definitions(cfg)}
    assert {d.task for d in defs.values()} >= {"check_alerts", "grade_venues", "run_draw", "verify_evidence"}
    from crawlers.sources import load_sources

    for name in load_sources(cfg):  # one crawl job per source of the crawl sources file
        assert defs[f"crawl:{name}"].task == "crawl" and defs[f"crawl:{name}"].args == {"source": name}
    assert isinstance(defs["grading"].trigger(cfg.core.timezone), CronTrigger)
    interval = defs["alerts"].trigger(cfg.core.timezone)
    assert isinstance(interval, IntervalTrigger) and interval.interval.total_seconds() == 15 * 60


def test_schedule_file_and_explicit_crawl_job_win(tmp_path):
    extra = tmp_path / "more_jobs.toml"
    extra.write_text(
        '[[schedule]]\nid = "crawl:wechat"\ntask = "crawl"\ncron = "0 1 * * *"\nargs = { source = "wechat" }\n',
        encoding="utf-8",
    )
    cfg = make_config(tmp_path, **{"jobs.schedule_file": str(extra), "jobs.crawl_cron": "0 */6 * * *"})
    defs = [d for d in load_definitions(cfg) if d.id == "crawl:wechat"]
    assert len(defs) == 1 and defs[0].cron == "0 1 * * *"


@pytest.mark.parametrize(
    "table, message",
    [
        ({"id": "x", "task": "nope", "interval_minutes": 5}, "unknown task"),
        ({"id": "x", "task": "grade_venues"}, "exactly one of cron or interval"),
        ({"id": "x", "task": "grade_venues", "cron": "0 1 * * *", "interval_hours": 1}, "exactly one"),
        ({"id": "x", "task": "grade_venues", "cron": "61 1 * * *"}, "bad cron"),
        ({"id": "x", "task": "grade_venues", "cron": "0 1 * * *", "every": 3}, "unknown keys"),
    ],
)
def test_bad_job_tables_are_config_errors(tmp_path, table, message):
    cfg = make_config(tmp_path, **{"jobs.schedule": [table], "jobs.crawl_cron": ""})
    with pytest.raises(ConfigError, match=message):
        for d in load_definitions(cfg):
            d.trigger(cfg.core.timezone)


def test_duplicate_ids_are_rejected(tmp_path):
    job = {"id": "twice", "task": "grade_venues", "cron": "0 1 * * *"}
    cfg = make_config(tmp_path, **{"jobs.schedule": [job, job], "jobs.crawl_cron": ""})
    with pytest.raises(ConfigError, match="used twice: twice"):
        load_definitions(cfg)


@pytest.mark.parametrize(
    "cron, named",
    [
        ("30 8 * * 1", "30 8 * * mon"),
        ("0 9 * * 0", "0 9 * * sun"),
        ("0 9 * * 7", "0 9 * * sun"),
        ("0 9 * * 1-5", "0 9 * * mon,tue,wed,thu,fri"),
        ("0 9 * * 5-7", "0 9 * * fri,sat,sun"),
        ("0 9 * * 0,6", "0 9 * * sun,sat"),
        ("0 9 * * */2", "0 9 * * sun,tue,thu,sat"),
        ("0 9 * * mon-fri", "0 9 * * mon-fri"),
        ("15 2 * * *", "15 2 * * *"),
    ],
)
def test_crontab_weekday_numbers_mean_what_they_mean_in_crontab(cron, named):
    assert crontab_weekdays_named(cron) == named


def test_a_monday_cron_fires_on_monday():
    # APScheduler 3 alone reads the 1 of "30 8 * * 1" as Tuesday.
    trigger = JobDef(id="weekly", task="grading", cron="30 8 * * 1").trigger("Asia/Shanghai")
    sunday = dt.datetime(2026, 12, 6, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Sunday
    fire = trigger.get_next_fire_time(None, sunday)
    assert (fire.date(), fire.strftime("%A %H:%M")) == (dt.date(2026, 12, 7), "Monday 08:30")
